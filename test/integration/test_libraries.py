"""HTML component libraries (libraries.md): the install routine through
`openbook install-library` - the demo library's rows and files, replacing,
--no-replace, every check of §4 with the hostile archives of zip_factory.py
(the spec's message, and no file and no row left behind), dependencies
(§4.1, --force), a folder installed in dependency order, and two installs
of the same version at once.

The stack runs with small archive limits so that the bomb and the
too-many-entries archives stay small.
"""

import io
import json
import os
import subprocess
import tempfile
import threading
import unittest
import zipfile

import support
import zip_factory as zf

STACK = None
LIMITS = {"max_entries": 60, "max_uncompressed": 2 * 1024 * 1024, "max_manifest": 8192}
DEMO = os.path.join(support.REPO, "test", "libraries", "ob-demo")
TABLES = ["html_libraries", "html_library_texts", "html_library_versions", "html_components",
          "html_component_definitions"]


def setUpModule():
    global STACK
    STACK = support.start_stack("libraries", config={"http": {
        "library_max_entries": LIMITS["max_entries"],
        "library_max_uncompressed_bytes": LIMITS["max_uncompressed"],
        "library_max_manifest_bytes": LIMITS["max_manifest"],
    }})
    support.StackTestCase.stack = STACK


def tearDownModule():
    support.StackTestCase.stack = None
    support.stop_stack(STACK)


def cli(*args):
    st = STACK
    return subprocess.run([st.binary, "install-library", "-c", st.config_path] + list(args),
                          capture_output=True, text=True, cwd=st.root, env=st.server_env(),
                          timeout=120)


def q(sql, st=None):
    return [line.split("|") for line in (st or STACK).psql(sql).splitlines() if line]


def library(name, version, deps=None, components=("x-comp",), files=()):
    """A small valid archive: @test/<name> <version>."""
    manifest = 'name: "@test/%s"\nversion: %s\n' % (name, version)
    if deps:
        manifest += "dependencies:\n" + "".join('  "%s": "%s"\n' % kv for kv in deps.items())
    entries = [(zf.ROOT + "library.yml", manifest), (zf.ROOT + "library.js", "// %s\n" % name)]
    for tag in components:
        entries.append((zf.ROOT + "components/%s.yml" % tag, "tag-name: %s\n" % tag))
    entries.extend(files)
    return zf.build(entries)


def media_tree(st=None):
    """Every file and folder below the media root, relative."""
    root = (st or STACK).media_dir
    out = []
    for d, dirs, files in os.walk(root):
        rel = os.path.relpath(d, root)
        out.extend(os.path.normpath(os.path.join(rel, n)) for n in dirs + files)
    return sorted(out)


def row_counts(st=None):
    return {t: int(q("SELECT count(*) FROM %s" % t, st)[0][0]) for t in TABLES}


def wipe():
    """No library rows and no library files (between tests)."""
    STACK.psql("DELETE FROM html_libraries")
    for name in os.listdir(STACK.media_dir):
        path = os.path.join(STACK.media_dir, name)
        subprocess.run(["rm", "-rf", path], check=True)


class TempFiles:
    def setUp(self):
        wipe()
        self.tmp = tempfile.TemporaryDirectory(prefix="openbook-libs-")

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, name, data):
        path = os.path.join(self.tmp.name, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def assertNothingLeft(self):
        """No row and no file: at most the empty staging folder."""
        self.assertEqual(row_counts(), {t: 0 for t in TABLES})
        self.assertIn(media_tree(), ([], [".staging"]))


class InstallCommand(TempFiles, support.StackTestCase):

    def test_demo_library_rows_and_files(self):
        path = self.write("ob-demo.zip", zf.library_zip(DEMO))
        r = cli(path)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("installed @openbook/demo 1.0.0", r.stdout)
        self.assertEqual(q("SELECT organization, name, author, license, website, published, "
                           "text_format FROM html_libraries"),
                         [["openbook", "demo", "OpenBook", "MIT", "https://openbook.studio", "t",
                           "MD"]])
        # One text per description language that exists (en, de in the
        # initial data).
        self.assertEqual(q("SELECT language FROM html_library_texts ORDER BY 1"),
                         [["de"], ["en"]])
        self.assertEqual(q("SELECT version, file_data, file_name, file_size, mime_type, "
                           "dependencies::text FROM html_library_versions"),
                         [["1.0.0", "lib/@openbook_demo_1.0.0.zip", "ob-demo.zip",
                           str(os.path.getsize(path)), "application/zip", ""]])
        tags = [row[0] for row in q("SELECT c.tag_name FROM html_components c JOIN "
                                    "html_component_definitions d ON d.component_id = c.id "
                                    "ORDER BY 1")]
        self.assertEqual(tags, ["ob-code-editor", "ob-info-box", "ob-quiz", "ob-quiz-question"])
        d = json.loads(q("SELECT d.definition FROM html_component_definitions d JOIN "
                         "html_components c ON c.id = d.component_id "
                         "WHERE c.tag_name = 'ob-info-box'")[0][0])
        self.assertEqual(d["tag-name"], "ob-info-box")
        # The files: the unpacked library (0644 / 0755) and the archive.
        base = os.path.join(STACK.media_dir, "lib", "openbook", "demo", "1.0.0")
        with open(os.path.join(base, "library.js"), "rb") as f, \
                open(os.path.join(DEMO, "library.js"), "rb") as g:
            self.assertEqual(f.read(), g.read())
        self.assertTrue(os.path.isfile(os.path.join(base, "components", "ob-quiz.yml")))
        self.assertEqual(os.stat(os.path.join(base, "library.js")).st_mode & 0o777, 0o644)
        self.assertEqual(os.stat(base).st_mode & 0o777, 0o755)
        with open(os.path.join(STACK.media_dir, "lib", "@openbook_demo_1.0.0.zip"), "rb") as f, \
                open(path, "rb") as g:
            self.assertEqual(f.read(), g.read())
        self.assertEqual(os.listdir(os.path.join(STACK.media_dir, ".staging")), [])
        # Served by nginx under /media/lib/ as a module script.
        r = self.get("/media/lib/openbook/demo/1.0.0/library.js")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("Content-Type"), "text/javascript")

    def test_replace_keeps_published_and_swaps_the_folder(self):
        v1 = self.write("a.zip", library("alpha", "1.0.0", components=("x-one", "x-two"),
                                         files=[(zf.ROOT + "old.js", "old")]))
        self.assertEqual(cli(v1).returncode, 0)
        STACK.psql("UPDATE html_libraries SET published = false")
        lib_id, ver_id = q("SELECT parent_id, id FROM html_library_versions")[0]
        v1b = self.write("b.zip", library("alpha", "1.0.0", components=("x-two", "x-three"),
                                          files=[(zf.ROOT + "new.js", "new")]))
        r = cli(v1b)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("replaced @test/alpha 1.0.0", r.stdout)
        self.assertEqual(q("SELECT parent_id, id FROM html_library_versions"),
                         [[lib_id, ver_id]], "the same rows, updated")
        self.assertEqual(q("SELECT published FROM html_libraries"), [["f"]])
        self.assertEqual(q("SELECT tag_name FROM html_components ORDER BY 1"),
                         [["x-three"], ["x-two"]], "x-one has no definition left")
        base = os.path.join(STACK.media_dir, "lib", "test", "alpha", "1.0.0")
        self.assertEqual(sorted(os.listdir(base)), ["components", "library.js", "library.yml",
                                                    "new.js"])

    def test_no_replace_refuses_an_installed_version(self):
        path = self.write("a.zip", library("alpha", "1.0.0"))
        self.assertEqual(cli(path).returncode, 0)
        before = media_tree()
        r = cli("--no-replace", path)
        self.assertEqual(r.returncode, 1)
        self.assertIn("This library version is already installed.", r.stderr)
        self.assertEqual(media_tree(), before)

    def test_versions_ordered_by_semver(self):
        for v in ("10.0.0", "9.0.0", "1.0.0-rc.1", "1.0.0", "1.0.0-alpha", "1.0.0-rc.10",
                  "1.0.0-rc.2"):
            self.assertEqual(cli(self.write(v + ".zip", library("alpha", v))).returncode, 0)
        self.assertEqual([r[0] for r in q("SELECT version FROM html_library_versions "
                                           "ORDER BY sort_key")],
                         ["1.0.0-alpha", "1.0.0-rc.1", "1.0.0-rc.2", "1.0.0-rc.10", "1.0.0",
                          "9.0.0", "10.0.0"])

    def test_every_hostile_archive_leaves_nothing(self):
        for case in zf.HOSTILE:
            with self.subTest(case=case):
                path = self.write(case + ".zip", zf.hostile(case, **LIMITS))
                r = cli(path)
                self.assertEqual(r.returncode, 1, r.stdout)
                self.assertIn(zf.expected_message(case, **LIMITS), r.stderr)
                self.assertNotIn("Sanitizer", r.stderr)
                self.assertNothingLeft()

    def test_missing_and_unsatisfied_dependencies(self):
        app = self.write("app.zip", library("app", "1.0.0", deps={"@test/base": ">=2.0.0"}))
        r = cli(app)
        self.assertEqual(r.returncode, 1)
        self.assertIn("Missing dependency: @test/base >=2.0.0", r.stderr)
        self.assertNothingLeft()
        self.assertEqual(cli(self.write("b1.zip", library("base", "1.0.0"))).returncode, 0)
        self.assertEqual(cli(self.write("b15.zip", library("base", "1.5.0"))).returncode, 0)
        r = cli(app)
        self.assertEqual(r.returncode, 1)
        self.assertIn("Unsatisfied dependency: @test/base >=2.0.0 (installed: 1.0.0, 1.5.0)",
                      r.stderr)
        self.assertEqual(q("SELECT count(*) FROM html_libraries WHERE name = 'app'"), [["0"]])
        r = cli("--force", app)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("warning: Unsatisfied dependency: @test/base >=2.0.0", r.stdout)
        self.assertEqual(q("SELECT dependencies::text FROM html_library_versions v JOIN "
                           "html_libraries l ON l.id = v.parent_id WHERE l.name = 'app'"),
                         [['{"@test/base":">=2.0.0"}']])

    def test_folder_installs_in_dependency_order(self):
        folder = os.path.join(self.tmp.name, "drop")
        # Named so that the name order is the wrong one.
        self.write("drop/a-top.zip", library("top", "1.0.0", deps={"@test/middle": ">=1.0.0"}))
        self.write("drop/b-middle.zip", library("middle", "1.0.0", deps={"@test/zbase": "*"}))
        self.write("drop/c-zbase.zip", library("zbase", "1.0.0"))
        self.write("drop/notes.txt", b"ignored")
        r = cli(folder)
        self.assertEqual(r.returncode, 0, r.stderr)
        order = [line.split()[2] for line in r.stdout.splitlines() if " installed " in line]
        self.assertEqual(order, ["@test/zbase", "@test/middle", "@test/top"])

    def test_two_installs_of_one_version_at_once(self):
        a = self.write("a.zip", library("alpha", "1.0.0", components=("x-a",),
                                        files=[(zf.ROOT + "a.js", "a" * 100000)]))
        b = self.write("b.zip", library("alpha", "1.0.0", components=("x-b",),
                                        files=[(zf.ROOT + "b.js", "b" * 100000)]))
        for _ in range(3):
            results = [None, None]

            def run(i, path):
                results[i] = cli(path)

            threads = [threading.Thread(target=run, args=(i, p)) for i, p in enumerate((a, b))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            for r in results:
                self.assertEqual(r.returncode, 0, r.stderr)
            # One consistent result: the rows and the folder of the same
            # archive (whichever came last).
            tags = q("SELECT tag_name FROM html_components")
            self.assertEqual(len(tags), 1)
            winner = tags[0][0][-1]
            base = os.path.join(STACK.media_dir, "lib", "test", "alpha", "1.0.0")
            self.assertEqual(sorted(os.listdir(base)),
                             ["%s.js" % winner, "components", "library.js", "library.yml"])
            self.assertEqual(os.listdir(os.path.join(base, "components")), ["x-%s.yml" % winner])
            with open(os.path.join(STACK.media_dir, "lib", "@test_alpha_1.0.0.zip"), "rb") as f, \
                    open(a if winner == "a" else b, "rb") as g:
                self.assertEqual(f.read(), g.read())
            self.assertEqual(os.listdir(os.path.join(STACK.media_dir, ".staging")), [])

    def test_usage(self):
        r = subprocess.run([STACK.binary, "install-library", "--help"], capture_output=True,
                           text=True)
        self.assertEqual(r.returncode, 0)
        self.assertIn("--no-replace", r.stdout)
        r = cli()
        self.assertEqual(r.returncode, 2)
        r = cli(os.path.join(self.tmp.name, "missing.zip"))
        self.assertEqual(r.returncode, 1)


if __name__ == "__main__":
    unittest.main()
