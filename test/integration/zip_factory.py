#!/usr/bin/env python3
"""Builds HTML component library archives for the tests: good ones from a
source folder, and hostile ones for every check of libraries.md §4.

zipfile writes most of them.  What it cannot write (a NUL in a name, a size
that lies, an encryption flag without a password) is patched into the raw
bytes afterwards, in the local header and the central directory alike, so
that a reader that compares the two (libzip with ZIP_CHECKCONS) sees a
consistent archive and the check under test is the one that fires.

Use from Python:

    import zip_factory as zf
    data = zf.library_zip("test/libraries/ob-demo")     # bytes
    data = zf.hostile("zip_slip")                        # bytes
    for name in zf.HOSTILE: ...                          # every case
    zf.expected_message("too_many_entries", max_entries=2000)

From the shell:

    python3 zip_factory.py library SRC_DIR OUT.zip
    python3 zip_factory.py hostile OUT_DIR [--max-entries N]
                          [--max-uncompressed BYTES] [--max-manifest BYTES]

`hostile` writes one <case>.zip per case and cases.txt, one
"<case>\\t<stage>\\t<expected message>" line each: stage "open" for archives
refused by the checks before anything is unpacked, "extract" for those
refused only while unpacking; the messages are libraries.md §4's for the
given limits (the defaults are the server's).  Archives are
deterministic: fixed timestamps, sorted file order.
"""

import io
import os
import struct
import sys
import warnings
import zipfile

ROOT = "openbook-library/"
FIXED_TIME = (2024, 1, 1, 0, 0, 0)

MANIFEST = ('name: "@test/hostile"\n'
            'version: 1.0.0\n'
            'author: Test\n')
COMPONENT = ("tag-name: ob-test\n"
             "description: {en: A test element}\n")

INVALID = "The archive file is no valid HTML library archive."
DEFAULT_LIMITS = {"max_entries": 2000, "max_uncompressed": 50 * 1024 * 1024,
                  "max_manifest": 1024 * 1024}


# ---- writing ---------------------------------------------------------------

def _info(name, compress=zipfile.ZIP_DEFLATED, mode=0o100644):
    zi = zipfile.ZipInfo(name, FIXED_TIME)
    zi.compress_type = compress
    zi.create_system = 3  # Unix, so the mode in external_attr counts
    zi.external_attr = mode << 16
    return zi


def build(entries):
    """entries: list of (name, data) or (name, data, dict(compress=, mode=))."""
    out = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(out, "w") as z:
        warnings.simplefilter("ignore")  # duplicate names are on purpose
        for e in entries:
            name, data = e[0], e[1]
            opts = e[2] if len(e) > 2 else {}
            if isinstance(data, str):
                data = data.encode()
            z.writestr(_info(name, **opts), data)
    return out.getvalue()


def library_zip(src_dir):
    """The archive of a library source folder: every file below src_dir,
    under openbook-library/, in sorted order."""
    entries = []
    for base, dirs, files in os.walk(src_dir):
        dirs.sort()
        for f in sorted(files):
            path = os.path.join(base, f)
            rel = os.path.relpath(path, src_dir).replace(os.sep, "/")
            with open(path, "rb") as fh:
                entries.append((ROOT + rel, fh.read()))
    return build(entries)


def minimal(extra=(), manifest=MANIFEST):
    """A valid archive (manifest, bundle, one component) plus extra entries."""
    return build([(ROOT + "library.yml", manifest),
                  (ROOT + "library.js", "customElements.define('ob-test', class extends HTMLElement {});\n"),
                  (ROOT + "components/ob-test.yml", COMPONENT)] + list(extra))


# ---- patching raw bytes ----------------------------------------------------

def _records(data):
    """(central offset, local offset) of every entry, in order."""
    eocd = data.rfind(b"PK\x05\x06")
    count, _size, cd_off = struct.unpack_from("<HII", data, eocd + 10)
    out, off = [], cd_off
    for _ in range(count):
        assert data[off:off + 4] == b"PK\x01\x02"
        nlen, xlen, clen = struct.unpack_from("<HHH", data, off + 28)
        local = struct.unpack_from("<I", data, off + 42)[0]
        out.append((off, local))
        off += 46 + nlen + xlen + clen
    return out


def patch(data, index, flags_or=0, uncompressed=None, method=None, name=None):
    """Changes entry `index` in both headers: OR general-purpose flag bits,
    set the declared uncompressed size or the method, replace the name
    (same length)."""
    b = bytearray(data)
    cen, loc = _records(data)[index]
    # local header: flags @6, method @8, usize @22, name length @26, name @30
    # central:      flags @8, method @10, usize @24, name length @28, name @46
    for hdr, f_at, m_at, u_at, l_at, n_at in ((loc, 6, 8, 22, 26, 30), (cen, 8, 10, 24, 28, 46)):
        if flags_or:
            struct.pack_into("<H", b, hdr + f_at, struct.unpack_from("<H", b, hdr + f_at)[0] | flags_or)
        if method is not None:
            struct.pack_into("<H", b, hdr + m_at, method)
        if uncompressed is not None:
            struct.pack_into("<I", b, hdr + u_at, uncompressed)
        if name is not None:
            old_len = struct.unpack_from("<H", b, hdr + l_at)[0]
            assert len(name) == old_len, "a patched name keeps its length"
            b[hdr + n_at:hdr + n_at + old_len] = name
    return bytes(b)


# ---- the hostile cases -------------------------------------------------------

def _nul_name():
    data = minimal([(ROOT + "a\x01b.js", "x")])
    return patch(data, 3, name=(ROOT + "a\x00b.js").encode())


def _size_lie():
    # Declares 100 bytes, inflates to 1 MiB: stopped while extracting.
    data = minimal([(ROOT + "big.js", b"A" * (1 << 20))])
    return patch(data, 3, uncompressed=100)


def _manifest_size_lie():
    # The manifest declares less than it holds: stopped while reading it.
    data = minimal()
    return patch(data, 0, uncompressed=10)


def _zip_bomb(limits):
    # Honest about its size, which is over the limit: refused up front.
    return minimal([(ROOT + "bomb.bin", b"\0" * (limits["max_uncompressed"] + 1))])


def _lying_bomb(limits):
    # Declares 1 KiB per entry but inflates past the whole limit.
    data = minimal([(ROOT + "bomb.bin", b"\0" * (limits["max_uncompressed"] + 1024))])
    return patch(data, 3, uncompressed=1024)


def _encrypted():
    # Flag bit 0: traditional PKWARE encryption (no real cipher needed:
    # the archive must be refused from the directory alone).
    return patch(minimal([(ROOT + "secret.js", "x", {"compress": zipfile.ZIP_STORED})]),
                 3, flags_or=1)


def _too_many(limits):
    return minimal([(ROOT + "f%05d.txt" % i, "") for i in range(limits["max_entries"])])


# name -> (builder(limits), expected message template); {n}, {name} are
# filled by expected_message().
HOSTILE = {
    "not_a_zip": (lambda l: b"PK\x03\x04 this is not a zip file" * 10, INVALID),
    "empty_zip": (lambda l: build([]), INVALID),
    "no_manifest": (lambda l: build([(ROOT + "library.js", "")]), INVALID),
    "manifest_outside_root": (lambda l: build([("library.yml", MANIFEST)]), INVALID),
    "manifest_not_mapping": (lambda l: minimal(manifest="- a\n- b\n"), INVALID),
    "manifest_not_yaml": (lambda l: minimal(manifest="name: [unclosed\n"), INVALID),
    "manifest_bad_name": (lambda l: minimal(manifest='name: "@Test/X"\nversion: 1.0.0\n'), INVALID),
    "manifest_bad_version": (lambda l: minimal(manifest='name: "@test/demo"\nversion: "1.0"\n'), INVALID),
    "manifest_float_version": (lambda l: minimal(manifest='name: "@test/demo"\nversion: 1.0\n'), INVALID),
    "manifest_too_large": (lambda l: minimal(manifest=MANIFEST + "#" * l["max_manifest"] + "\n"),
                           "A manifest file is too large."),
    "component_too_large": (lambda l: minimal([(ROOT + "components/big.yml",
                                                COMPONENT + "#" * l["max_manifest"] + "\n")]),
                            "A manifest file is too large."),
    "manifest_size_lie": (lambda l: _manifest_size_lie(), "The archive is too large when unpacked (limit {n} bytes)."),
    "too_many_entries": (_too_many, "The archive contains too many files (limit {n})."),
    "zip_bomb": (_zip_bomb, "The archive is too large when unpacked (limit {n} bytes)."),
    "zip_slip": (lambda l: minimal([(ROOT + "../evil.js", "x")]),
                 "The archive contains an unsafe path: openbook-library/../evil.js"),
    "zip_slip_deep": (lambda l: minimal([(ROOT + "a/../../evil.js", "x")]),
                      "The archive contains an unsafe path: openbook-library/a/../../evil.js"),
    "absolute_path": (lambda l: minimal([("/etc/evil", "x")]),
                      "The archive contains an unsafe path: /etc/evil"),
    "backslash": (lambda l: minimal([(ROOT + "..\\evil.js", "x")]),
                  "The archive contains an unsafe path: openbook-library/..\\evil.js"),
    "backslash_absolute": (lambda l: minimal([("\\evil.js", "x")]),
                           "The archive contains an unsafe path: \\evil.js"),
    "drive_letter": (lambda l: minimal([("C:/evil.js", "x")]),
                     "The archive contains an unsafe path: C:/evil.js"),
    "nul_in_name": (lambda l: _nul_name(),
                    "The archive contains an unsafe path: openbook-library/a?b.js"),
    "symlink": (lambda l: minimal([(ROOT + "link.js", "/etc/passwd", {"mode": 0o120777})]),
                "The archive contains a link or special file: openbook-library/link.js"),
    "fifo": (lambda l: minimal([(ROOT + "pipe", "", {"mode": 0o010644})]),
             "The archive contains a link or special file: openbook-library/pipe"),
    "duplicate": (lambda l: minimal([(ROOT + "library.js", "again")]),
                  "The archive contains duplicate paths: openbook-library/library.js"),
    "duplicate_normalized": (lambda l: minimal([(ROOT + "./library.js", "again")]),
                             "The archive contains duplicate paths: openbook-library/./library.js"),
    "file_as_folder": (lambda l: minimal([(ROOT + "library.js/x.js", "x")]),
                       "The archive contains duplicate paths: openbook-library/library.js/x.js"),
    "bzip2": (lambda l: minimal([(ROOT + "b.js", "x" * 100, {"compress": zipfile.ZIP_BZIP2})]),
              "The archive uses an unsupported compression method or encryption."),
    "lzma": (lambda l: minimal([(ROOT + "l.js", "x" * 100, {"compress": zipfile.ZIP_LZMA})]),
             "The archive uses an unsupported compression method or encryption."),
    "encrypted": (lambda l: _encrypted(),
                  "The archive uses an unsupported compression method or encryption."),
    "size_lie": (lambda l: _size_lie(), "The archive is too large when unpacked (limit {n} bytes)."),
    "lying_bomb": (_lying_bomb, "The archive is too large when unpacked (limit {n} bytes)."),
    "bad_component_yaml": (lambda l: minimal([(ROOT + "components/bad.yml", "tag-name: [x\n")]),
                           "Invalid component definition in openbook-library/components/bad.yml: "),
    "bad_tag_name": (lambda l: minimal([(ROOT + "components/bad.yml", "tag-name: NoHyphen\n")]),
                     "Invalid component definition in openbook-library/components/bad.yml: "),
    "bad_dependency": (lambda l: minimal(manifest=MANIFEST + 'dependencies: {"@test/other": "1,2,3"}\n'),
                       "Invalid version expression for @test/other."),
    "self_dependency": (lambda l: minimal(manifest=MANIFEST + 'dependencies: {"@test/hostile": ">=1.0.0"}\n'),
                        "A library cannot depend on itself."),
}

# Cases refused only while extracting (the declared sizes pass the checks).
EXTRACT_TIME = {"size_lie", "lying_bomb"}


def hostile(case, **limits):
    lim = dict(DEFAULT_LIMITS, **limits)
    return HOSTILE[case][0](lim)


def expected_message(case, **limits):
    """The message of the case; for bad components only its fixed start
    (the reason that follows is the parser's)."""
    lim = dict(DEFAULT_LIMITS, **limits)
    tmpl = HOSTILE[case][1]
    n = lim["max_entries"] if "too many files" in tmpl else lim["max_uncompressed"]
    return tmpl.format(n=n)


def main(argv):
    if len(argv) == 4 and argv[1] == "library":
        with open(argv[3], "wb") as f:
            f.write(library_zip(argv[2]))
        return 0
    if len(argv) >= 3 and argv[1] == "hostile":
        out = argv[2]
        limits = {}
        opts = {"--max-entries": "max_entries", "--max-uncompressed": "max_uncompressed",
                "--max-manifest": "max_manifest"}
        rest = argv[3:]
        while rest:
            if rest[0] not in opts or len(rest) < 2:
                print("zip_factory: unknown option %s" % rest[0], file=sys.stderr)
                return 2
            limits[opts[rest[0]]] = int(rest[1])
            rest = rest[2:]
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "cases.txt"), "w") as idx:
            for case in HOSTILE:
                with open(os.path.join(out, case + ".zip"), "wb") as f:
                    f.write(hostile(case, **limits))
                stage = "extract" if case in EXTRACT_TIME else "open"
                idx.write("%s\t%s\t%s\n" % (case, stage, expected_message(case, **limits)))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
