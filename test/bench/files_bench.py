#!/usr/bin/env python3
"""Benchmark of files (issue "Files", make bench): library installs and
uploads, each next to a baseline measured in the same run.

    python3 test/bench/files_bench.py [--binary build/openbook] [--rounds 3]
                                      [--out build/bench/files.json] [--keep]

1. Install of a 10 MiB library archive with 500 files:
   `openbook install-library` (checks, staged extraction with fsync, rows,
   COMMIT, folder swap; a whole process with its database connection)
   next to `unzip -q` of the same archive into an empty folder.
   Goal: within 2x of unzip.
2. Upload of a 20 MiB file through nginx: POST /api/core/media_files/
   (multipart, streamed by the worker to the media root, row, rename) next
   to nginx writing the same bytes to disk alone (a WebDAV PUT to a second
   nginx with the shipped body settings).  Goal: >= 0.5x of nginx's
   throughput, and the worker's RSS growth (its peak RSS during the uploads,
   reset before them, minus its RSS before; the pool runs one worker)
   < 2 MiB.

Median of --rounds runs each.  Uses the release build (build/openbook), a
private stack (deploy/local/stack.py) in a temporary directory.  Exit
status 0 whatever the numbers; 1 when the harness fails.
"""

import argparse
import http.client
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "deploy", "local"))
sys.path.insert(0, os.path.join(REPO, "test", "integration"))
sys.path.insert(0, HERE)

import bench                     # noqa: E402  (accounts, HTTP helpers, /proc readers)
import zip_factory               # noqa: E402
from stack import Stack, free_port   # noqa: E402

ARCHIVE_FILES = 500
ARCHIVE_BYTES = 10 * 1024 * 1024
UPLOAD_BYTES = 20 * 1024 * 1024 - 4096   # the whole request must fit http.max_upload_bytes


def say(msg):
    print("files-bench: " + msg, flush=True)


def make_archive(path):
    """500 files of incompressible bytes, ~10 MiB in all, deflated."""
    per = ARCHIVE_BYTES // ARCHIVE_FILES
    entries = [(zip_factory.ROOT + "library.yml", 'name: "@bench/big"\nversion: 1.0.0\n'),
               (zip_factory.ROOT + "library.js", "export {};\n"),
               (zip_factory.ROOT + "components/b-one.yml", "tag-name: b-one\n")]
    for i in range(ARCHIVE_FILES - len(entries)):
        entries.append((zip_factory.ROOT + "chunks/%02d/c%04d.bin" % (i % 20, i), os.urandom(per)))
    with open(path, "wb") as f:
        f.write(zip_factory.build(entries))


def timed(fn, rounds):
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def bench_install(stack, tmp, rounds):
    archive = os.path.join(tmp, "big.zip")
    make_archive(archive)
    size = os.path.getsize(archive)
    unzip = shutil.which("unzip")
    if not unzip:
        raise bench.HarnessError("unzip is not installed (apt-get install unzip)")

    def run_unzip():
        out = os.path.join(tmp, "unzipped")
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(out)
        subprocess.run([unzip, "-q", archive, "-d", out], check=True)

    def run_install():
        r = subprocess.run([stack.binary, "install-library", "-c", stack.config_path, archive],
                           capture_output=True, text=True, env=stack.server_env())
        if r.returncode != 0:
            raise bench.HarnessError("install-library failed: %s" % r.stderr[-500:])

    run_install()  # the first install creates the library; the rounds replace it
    t_unzip, all_unzip = timed(run_unzip, rounds)
    t_install, all_install = timed(run_install, rounds)
    res = {"archive_bytes": size, "files": ARCHIVE_FILES, "unzip_s": t_unzip,
           "install_s": t_install, "install_over_unzip": t_install / t_unzip,
           "unzip_runs": all_unzip, "install_runs": all_install, "goal": "<= 2.0"}
    say("install of %.1f MiB / %d files: install-library %.3f s, unzip %.3f s: %.2fx"
        % (size / 1048576, ARCHIVE_FILES, t_install, t_unzip, t_install / t_unzip))
    return res


DAV_CONF = """daemon off;
master_process off;
worker_processes 1;
pid %(dir)s/nginx.pid;
error_log %(dir)s/error.log warn;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path %(dir)s/body;
    server {
        listen 127.0.0.1:%(port)d;
        # As the shipped server block: bodies above 256k go to a file.
        client_body_buffer_size 256k;
        client_max_body_size 64m;
        location /put/ {
            root %(dir)s/files;
            dav_methods PUT;
            create_full_put_path on;
        }
    }
}
"""


def post_file(port, path, body_head, fd, size, body_tail, headers):
    """One request on a fresh connection, the body streamed from fd."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    c.putrequest("POST" if body_head is not None else "PUT", path)
    total = size + len(body_head or b"") + len(body_tail or b"")
    for k, v in headers.items():
        c.putheader(k, v)
    c.putheader("Content-Length", str(total))
    c.endheaders()
    if body_head:
        c.send(body_head)
    os.lseek(fd, 0, os.SEEK_SET)
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        c.send(chunk)
    if body_tail:
        c.send(body_tail)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


def bench_upload(stack, tmp, rounds):
    base = stack.url("").rstrip("/")
    headers = dict(bench.logged_in_variants(base, stack))["token"]
    # An object to attach the files to: a library group.
    st, _, body = bench.http_request("POST", base + "/api/content/library_groups/",
                                     json.dumps({"slug": "bench", "name": "Bench"}).encode(),
                                     dict(headers, **{"Content-Type": "application/json"}))
    if st != 201:
        raise bench.HarnessError("library group: %d %r" % (st, body[:300]))
    group = json.loads(body)["id"]
    data_path = os.path.join(tmp, "upload.bin")
    with open(data_path, "wb") as f:
        f.write(os.urandom(UPLOAD_BYTES))
    fd = os.open(data_path, os.O_RDONLY)
    boundary = "----bench" + uuid.uuid4().hex
    head = ("--%s\r\nContent-Disposition: form-data; name=\"content_type\"\r\n\r\n"
            "openbook_content.librarygroup\r\n"
            "--%s\r\nContent-Disposition: form-data; name=\"object_id\"\r\n\r\n%s\r\n"
            "--%s\r\nContent-Disposition: form-data; name=\"file_data\"; filename=\"big.bin\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n"
            % (boundary, boundary, group, boundary)).encode()
    tail = ("\r\n--%s--\r\n" % boundary).encode()
    mp_headers = dict(headers, **{"Content-Type": "multipart/form-data; boundary=" + boundary})

    workers = stack.worker_pids()
    if len(workers) != 1:
        raise bench.HarnessError("expected one pool worker, found %r" % workers)
    worker = workers[0]
    st, data = post_file(stack.port, "/api/core/media_files/", head, fd, UPLOAD_BYTES, tail,
                         mp_headers)  # warm-up (first statement preparations)
    if st != 201:
        raise bench.HarnessError("upload answered %d: %r" % (st, data[:300]))
    # VmHWM holds the start-up peak (the common-password list): reset it
    # (Linux: "5" to clear_refs) so that it measures the uploads alone.
    with open("/proc/%d/clear_refs" % worker, "w") as f:
        f.write("5")
    before = bench.proc_mem(worker)

    def run_upload():
        s, d = post_file(stack.port, "/api/core/media_files/", head, fd, UPLOAD_BYTES, tail,
                         mp_headers)
        if s != 201:
            raise bench.HarnessError("upload answered %d: %r" % (s, d[:300]))

    t_up, all_up = timed(run_upload, rounds)
    after = bench.proc_mem(worker)

    dav = os.path.join(tmp, "dav")
    for sub in ("body", "files/put"):
        os.makedirs(os.path.join(dav, sub), exist_ok=True)
    port = free_port()
    with open(os.path.join(dav, "nginx.conf"), "w") as f:
        f.write(DAV_CONF % {"dir": dav, "port": port})
    nginx = subprocess.Popen([shutil.which("nginx"), "-p", dav + "/", "-c",
                              os.path.join(dav, "nginx.conf"), "-e",
                              os.path.join(dav, "error.log")])
    try:
        bench.wait_port(port, nginx, "nginx (dav)", os.path.join(dav, "error.log"))
        n = [0]

        def run_put():
            n[0] += 1
            s, d = post_file(port, "/put/f%d.bin" % n[0], None, fd, UPLOAD_BYTES, None, {})
            if s not in (201, 204):
                raise bench.HarnessError("nginx PUT answered %d: %r" % (s, d[:300]))

        t_put, all_put = timed(run_put, rounds)
    finally:
        bench.stop_proc(nginx)
        os.close(fd)
    mib = UPLOAD_BYTES / 1048576
    growth = after["VmHWM"] - before["VmRSS"]
    res = {"bytes": UPLOAD_BYTES, "upload_s": t_up, "nginx_put_s": t_put,
           "upload_mib_s": mib / t_up, "nginx_put_mib_s": mib / t_put,
           "throughput_ratio": t_put / t_up, "worker_rss_before_kib": before["VmRSS"],
           "worker_hwm_after_kib": after["VmHWM"], "worker_rss_growth_kib": growth,
           "upload_runs": all_up, "nginx_put_runs": all_put,
           "goal": "ratio >= 0.5, growth < 2048 KiB"}
    say("upload of %.1f MiB through nginx: %.0f MiB/s, nginx PUT alone %.0f MiB/s: %.2fx; "
        "worker RSS %d KiB before, peak %d KiB after (+%d KiB)"
        % (mib, mib / t_up, mib / t_put, t_put / t_up, before["VmRSS"], after["VmHWM"], growth))
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary", default=os.path.join(REPO, "build", "openbook"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", default=os.path.join(REPO, "build", "bench", "files.json"))
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--only", choices=("install", "upload"))
    args = ap.parse_args(argv)
    tmp = tempfile.mkdtemp(prefix="openbook-files-bench-", dir="/tmp")
    os.chmod(tmp, 0o755)
    stack = Stack(os.path.join(tmp, "stack"), None, args.binary, REPO, workers=1,
                  config={"server": {"max_requests": 0}})
    result = {}
    ok = False
    try:
        stack.start()
        if args.only in (None, "install"):
            result["install"] = bench_install(stack, tmp, args.rounds)
        if args.only in (None, "upload"):
            result["upload"] = bench_upload(stack, tmp, args.rounds)
        ok = True
    except (bench.HarnessError, subprocess.CalledProcessError, OSError) as e:
        say("harness failed: %s (kept %s)" % (e, tmp))
    finally:
        stack.stop()
        os.makedirs(os.path.dirname(args.out), exist_ok=True)
        with open(args.out, "w") as f:
            json.dump(result, f, indent=2)
        if ok and not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))
    sys.exit(main())
