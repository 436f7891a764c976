"""The shipped Apache configurations (deploy/apache/), run for real:

- openbook.conf: Apache + mod_fcgid starting `openbook serve --single`
  itself (the listening socket on fd 0);
- openbook-proxy-fcgi.conf: Apache + mod_proxy_fcgi in front of the stack's
  pre-forked pool.

Each file is copied with literal strings replaced (as deploy/local/stack.py
does for nginx), wrapped in a minimal httpd.conf (private ServerRoot,
PidFile, logs; Listen on a free 127.0.0.1 port; the modules the file
needs), checked with `apache2 -t`, started, and asked for the health
endpoint, a static file, a media file, Apache's own errors (JSON) and a
WebSocket upgrade (through mod_proxy_wstunnel to a stand-in relay).
"""

import base64
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import unittest

import support

STACK = None
APACHE = shutil.which("apache2") or shutil.which("apache2", path="/usr/sbin:/sbin")
MODDIR = "/usr/lib/apache2/modules"
HEALTH = {"status": "GOOD"}

COMMON_MODULES = ["mpm_event", "authz_core", "mime", "alias", "headers", "dir",
                  "proxy", "proxy_wstunnel", "unique_id"]


def setUpModule():
    global STACK
    if not APACHE:
        raise unittest.SkipTest("apache2 not installed (make deps)")
    # The pool serves the mod_proxy_fcgi variant; mod_fcgid starts its own
    # processes with the same configuration file.
    STACK = support.start_stack("apache")
    support.StackTestCase.stack = STACK


def tearDownModule():
    support.StackTestCase.stack = None
    support.stop_stack(STACK)


def shipped(name):
    with open(os.path.join(support.REPO, "deploy", "apache", name)) as f:
        return f.read()


def substitute(text, pairs, src):
    for old, new in pairs:
        if old not in text:
            raise AssertionError("%s no longer contains %r, which the test replaces"
                                 % (src, old))
        text = text.replace(old, new)
    return text


class FakeRelay:
    """Stands in for openbook-relay on relay.listen: answers a WebSocket
    handshake with 101 and then echoes bytes."""

    def __init__(self, path):
        self.path = path
        self.requests = []
        if os.path.exists(path):
            os.unlink(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        os.chmod(path, 0o666)
        self.sock.listen(8)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._conn, args=(c,), daemon=True).start()

    def _conn(self, c):
        try:
            c.settimeout(10)
            buf = b""
            while b"\r\n\r\n" not in buf:
                d = c.recv(4096)
                if not d:
                    return
                buf += d
            head, _, rest = buf.partition(b"\r\n\r\n")
            lines = head.decode("latin1").split("\r\n")
            hdrs = {}
            for line in lines[1:]:
                k, _, v = line.partition(":")
                hdrs[k.strip().lower()] = v.strip()
            self.requests.append((lines[0], hdrs))
            key = hdrs.get("sec-websocket-key", "")
            accept = base64.b64encode(hashlib.sha1(
                (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
            c.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n"
                       % accept).encode())
            if rest:
                c.sendall(rest)
            while True:
                d = c.recv(4096)
                if not d:
                    return
                c.sendall(d)
        except OSError:
            pass
        finally:
            c.close()

    def close(self):
        self.sock.close()
        try:
            os.unlink(self.path)
        except OSError:
            pass


class Apache:
    """A private Apache httpd around one shipped virtual host file."""

    def __init__(self, st, name, conf_name, modules, substitutions):
        self.st = st
        self.root = os.path.join(st.root, "apache-" + name)
        self.port = support.free_port()
        self.error_log = st.log_path("apache-%s-error" % name)
        self.proc = None
        # (FcgidIPCDir is left to mod_fcgid: it creates it for Apache's user.)
        for d in ("run", "logs"):
            os.makedirs(os.path.join(self.root, d), exist_ok=True)
        src = os.path.join("deploy", "apache", conf_name)
        vhost = substitute(shipped(conf_name),
                           [("<VirtualHost *:80>", "<VirtualHost *:%d>" % self.port)]
                           + substitutions, src)
        self.vhost_path = os.path.join(self.root, "openbook.conf")
        with open(self.vhost_path, "w") as f:
            f.write("# Generated from %s by %s\n%s" % (src, os.path.basename(__file__), vhost))
        lines = [
            "ServerRoot %s" % self.root,
            "DefaultRuntimeDir %s/run" % self.root,
            "PidFile %s/run/httpd.pid" % self.root,
            "ErrorLog %s" % self.error_log,
            "LogLevel warn",
            "LogFormat \"%h %l %u %t \\\"%r\\\" %>s %b\" common",
            "CustomLog %s common" % st.log_path("apache-%s-access" % name),
            "Listen 127.0.0.1:%d" % self.port,
            "ServerName 127.0.0.1",
            "TypesConfig /etc/mime.types",
            "AddDefaultCharset off",
            "TraceEnable off",
            "StartServers 1",
            "ServerLimit 2",
            "ThreadsPerChild 16",
            "MaxRequestWorkers 32",
            "MinSpareThreads 1",
            "MaxSpareThreads 32",
        ]
        if os.geteuid() == 0:
            # Apache will not serve as root; Debian's default user.
            lines += ["User www-data", "Group www-data"]
        for m in modules:
            lines.append("LoadModule %s_module %s/mod_%s.so" % (m, MODDIR, m))
        if "fcgid" in modules:
            lines += ["FcgidIPCDir %s/fcgid" % self.root,
                      "FcgidProcessTableFile %s/run/fcgid_shm" % self.root]
            # mod_fcgid hands its processes only the variables named here.
            for k, v in sorted(st.server_env().items()):
                if k.endswith("SAN_OPTIONS") or k == "LANG":
                    lines.append("FcgidInitialEnv %s \"%s\"" % (k, v))
        # As Debian's apache2.conf: nothing is served unless allowed.
        lines += ["<Directory />", "    Options FollowSymLinks", "    AllowOverride None",
                  "    Require all denied", "</Directory>",
                  "Include %s" % self.vhost_path]
        self.conf = os.path.join(self.root, "httpd.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")

    def argv(self, *extra):
        return [APACHE, "-d", self.root, "-f", self.conf] + list(extra)

    def configtest(self):
        return subprocess.run(self.argv("-t"), capture_output=True, text=True,
                              env=self.st._clean_env(), timeout=30)

    def start(self):
        log = open(self.st.log_path("apache-stdout"), "ab")
        self.proc = subprocess.Popen(self.argv("-DFOREGROUND"), stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=log, env=self.st._clean_env(),
                                     start_new_session=True,
                                     preexec_fn=support.stackmod._set_pdeathsig(signal.SIGTERM))
        log.close()

        def up():
            if self.proc.poll() is not None:
                raise AssertionError("apache2 exited with %s\n%s"
                                     % (self.proc.returncode, support.stackmod.tail(self.error_log)))
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return True
            except OSError:
                return False
        support.wait_for(up, 15, 0.05, "apache2 listening on %d" % self.port)

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)   # stops mod_fcgid's processes too
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def log_tail(self):
        return support.stackmod.tail(self.error_log, 30)


# A FastCGI responder that answers every request with its params as JSON.
# It serves a listening socket on fd 0 (as mod_fcgid starts it) or, given a
# path, one it opens itself.  Standard library only; run with /usr/bin/python3
# because Apache's user may not reach the interpreter running the tests.
ECHO_APP = r"""
import json, os, socket, struct, sys
if len(sys.argv) > 1:
    ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ls.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o666); ls.listen(16)
else:
    ls = socket.socket(fileno=0)
def rec(c, n):
    b = b""
    while len(b) < n:
        d = c.recv(n - len(b))
        if not d:
            raise EOFError
        b += d
    return b
def nv(b):
    out, i = {}, 0
    while i < len(b):
        ln = []
        for _ in range(2):
            if b[i] < 128:
                ln.append(b[i]); i += 1
            else:
                ln.append(struct.unpack(">I", b[i:i + 4])[0] & 0x7fffffff); i += 4
        out[b[i:i + ln[0]].decode("latin1")] = b[i + ln[0]:i + ln[0] + ln[1]].decode("latin1")
        i += ln[0] + ln[1]
    return out
def send(c, typ, rid, data):
    c.sendall(struct.pack(">BBHHBB", 1, typ, rid, len(data), 0, 0) + data)
while True:
    c, _ = ls.accept()
    try:
        params, body, rid = b"", b"", 1
        while True:
            _, typ, rid, clen, plen, _ = struct.unpack(">BBHHBB", rec(c, 8))
            data = rec(c, clen + plen)[:clen]
            if typ == 4:
                params += data
            elif typ == 5:
                if not data:
                    break
                body += data
        p = nv(params)
        p["_body_len"] = str(len(body))
        out = json.dumps(p).encode()
        send(c, 6, rid, b"Status: 200 OK\r\nContent-Type: application/json\r\n\r\n" + out)
        send(c, 6, rid, b"")
        send(c, 3, rid, struct.pack(">IB3x", 0, 0))
    except (EOFError, OSError):
        pass
    finally:
        c.close()
"""


def echo_app_path(st):
    path = os.path.join(st.root, "fcgi-echo.py")
    with open(path, "w") as f:
        f.write(ECHO_APP)
    os.chmod(path, 0o644)
    return path


def dechunk(r):
    """raw_request() leaves a chunked body as it came."""
    if (r.header("Transfer-Encoding") or "").lower() != "chunked":
        return r
    data, out = r.body, b""
    while data:
        size, _, rest = data.partition(b"\r\n")
        n = int(size.split(b";")[0], 16)
        if n == 0:
            break
        out += rest[:n]
        data = rest[n + 2:]
    r.body = out
    return r


def static_copy(st):
    """A copy of the repo's static/ with a test file (never written into the repo)."""
    d = os.path.join(st.root, "static")
    if not os.path.isdir(d):
        shutil.copytree(os.path.join(support.REPO, "static"), d,
                        ignore=shutil.ignore_patterns("node_modules"))
        os.makedirs(os.path.join(d, "app"), exist_ok=True)
        with open(os.path.join(d, "deploy-test.css"), "w") as f:
            f.write("body { color: #123456 }\n")
        with open(os.path.join(d, "app", "index.html"), "w") as f:
            f.write("<!doctype html><title>app</title>\n")
    return d


def common_substitutions(st):
    return [
        ("unix:/run/openbook/relay.sock", "unix:" + st.relay_socket_path),
        ("/usr/share/openbook/static/", static_copy(st) + "/"),
        ("/var/lib/openbook/media/", st.media_dir + "/"),
    ]


def app_binary(st):
    """The binary as Apache's user (www-data) can run it: a copy under the
    stack directory when the checkout is not reachable for other users
    (e.g. below /root)."""
    if os.geteuid() != 0 or support.stackmod._ancestors_searchable(st.binary):
        return st.binary
    dest = os.path.join(st.root, "bin", os.path.basename(st.binary))
    if not os.path.exists(dest):
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copy2(st.binary, dest)
        os.chmod(dest, 0o755)
    return dest


def fcgid_apache(st):
    return Apache(st, "fcgid", "openbook.conf", COMMON_MODULES + ["fcgid"],
                  common_substitutions(st) + [
                      ("/usr/bin/openbook", app_binary(st)),
                      # (Its processes run as www-data when root runs the tests.)
                      ("/etc/openbook/openbook.yaml", st.config_for_web()),
                  ])


def proxy_fcgi_apache(st):
    return Apache(st, "proxy-fcgi", "openbook-proxy-fcgi.conf",
                  COMMON_MODULES + ["proxy_fcgi"],
                  common_substitutions(st) + [
                      ("unix:/run/openbook/openbook.sock", "unix:" + st.socket_path),
                  ])


class EchoMixin:
    """What Apache hands the application, seen by the echo responder."""

    def echo(self, path, headers=None):
        r = support.request(self.echo_apache.port, "GET", path,
                            headers=dict({"Host": "127.0.0.1:%d" % self.echo_apache.port},
                                         **(headers or {})))
        return self.assertJSON(r, 200, security=False)

    def echo_wait(self):
        deadline = time.monotonic() + 20
        while True:
            r = support.request(self.echo_apache.port, "GET", "/api/")
            if r.status == 200 or time.monotonic() > deadline:
                return r
            time.sleep(0.2)

    def test_params_passed_to_application(self):
        self.assertEqual(self.echo_wait().status, 200)
        p = self.echo("/api/core/languages/a%2Fb/?_search=x%20y&a=1", headers={
            "Authorization": "Token 0123456789abcdef",
            "X-Session-Token": "sess",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "evil.example",
            "X-Forwarded-For": "10.9.8.7",
            "Proxy": "http://evil.example:3128/",
            "Cookie": "django_language=de",
        })
        port = self.echo_apache.port
        self.assertEqual(p.get("REQUEST_URI"), "/api/core/languages/a%2Fb/?_search=x%20y&a=1")
        self.assertEqual(p.get("QUERY_STRING"), "_search=x%20y&a=1")
        self.assertEqual(p.get("REQUEST_METHOD"), "GET")
        self.assertEqual(p.get("HTTP_HOST"), "127.0.0.1:%d" % port)
        self.assertEqual(p.get("HTTP_AUTHORIZATION"), "Token 0123456789abcdef")
        self.assertEqual(p.get("HTTP_X_SESSION_TOKEN"), "sess")
        self.assertEqual(p.get("HTTP_COOKIE"), "django_language=de")
        self.assertEqual(p.get("REMOTE_ADDR"), "127.0.0.1")
        # The truth replaces what the client claimed.
        self.assertEqual(p.get("HTTP_X_FORWARDED_PROTO"), "http")
        self.assertEqual(p.get("HTTP_X_FORWARDED_HOST"), "127.0.0.1:%d" % port)
        self.assertEqual(p.get("HTTP_X_FORWARDED_FOR"), "127.0.0.1")
        self.assertNotIn("HTTP_PROXY", p)
        self.assertNotEqual(p.get("HTTPS"), "on")

    def test_request_id_passed_to_application(self):
        self.assertEqual(self.echo_wait().status, 200)
        # None sent: mod_unique_id's; each request its own.
        a = self.echo("/api/").get("HTTP_X_REQUEST_ID")
        b = self.echo("/api/").get("HTTP_X_REQUEST_ID")
        self.assertTrue(a and b and a != b, (a, b))
        self.assertRegex(a, r"^[-A-Za-z0-9._:@+=/]{1,128}$")
        # A well-formed one from a load balancer in front: kept.
        self.assertEqual(self.echo("/api/", headers={"X-Request-Id": "lb-1.2:3"})
                         .get("HTTP_X_REQUEST_ID"), "lb-1.2:3")
        # A malformed one: replaced, never passed on.
        got = self.echo("/api/", headers={"X-Request-Id": "bad id;<x>"}).get("HTTP_X_REQUEST_ID")
        self.assertNotEqual(got, "bad id;<x>")
        self.assertRegex(got or "", r"^[-A-Za-z0-9._:@+=/]{1,128}$")

    def test_body_passed_to_application(self):
        self.assertEqual(self.echo_wait().status, 200)
        body = b'{"x":"' + b"y" * 300000 + b'"}'
        r = support.request(self.echo_apache.port, "POST", "/api/core/languages/", body=body,
                            headers={"Content-Type": "application/json"})
        p = self.assertJSON(r, 200, security=False)
        self.assertEqual(p.get("CONTENT_LENGTH"), str(len(body)))
        self.assertEqual(p.get("CONTENT_TYPE"), "application/json")
        self.assertEqual(p.get("_body_len"), str(len(body)))


class ConfigTest(support.StackTestCase):
    """`apachectl -t` on both shipped files."""

    def check(self, apache):
        r = apache.configtest()
        self.assertEqual(r.returncode, 0, "apache2 -t failed:\n%s%s" % (r.stdout, r.stderr))
        self.assertIn("Syntax OK", r.stdout + r.stderr)

    def test_fcgid_conf_syntax(self):
        self.check(fcgid_apache(self.stack))

    def test_proxy_fcgi_conf_syntax(self):
        self.check(proxy_fcgi_apache(self.stack))

    def test_limits_agree_with_config(self):
        # LimitRequestBody = http.max_body_bytes, and for exactly the
        # endpoints that take files http.max_upload_bytes and
        # http.library_archive_max_bytes + 64 KiB of form; mod_fcgid's
        # server-wide FcgidMaxRequestLen is the largest, and its 413 guard
        # repeats the three.
        body, upload, archive = 2621440, 20971520, 52428800 + 65536
        text = shipped("openbook.conf")
        self.assertIn("\nFcgidMaxRequestLen %d\n" % archive, text)
        for name in ("openbook.conf", "openbook-proxy-fcgi.conf"):
            self.assertIn("    LimitRequestBody %d\n" % body, shipped(name), name)
            code = "\n".join(l.split("#", 1)[0] for l in shipped(name).splitlines())
            self.assertEqual(sorted(int(n) for n in re.findall(r"LimitRequestBody\s+(\d+)", code)),
                             [body, upload, archive], name)
        guard = re.findall(r'Content-Length\} -gt (\d+)', text)
        self.assertEqual([int(n) for n in guard], [body, upload, archive])


def perm_support_group():
    import perm_support
    return perm_support.GROUP


class ServesMixin(support.MediaServingMixin):
    """Requests through a running Apache (self.apache)."""

    apache = None
    relay = None

    @classmethod
    def start_apache(cls, apache):
        cls.relay = FakeRelay(STACK.relay_socket_path)
        cls.apache = apache
        r = apache.configtest()
        if r.returncode != 0:
            cls.relay.close()
            raise AssertionError("apache2 -t failed:\n%s%s" % (r.stdout, r.stderr))
        try:
            apache.start()
        except BaseException:
            apache.stop()
            cls.relay.close()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.apache:
            cls.apache.stop()
        if cls.relay:
            cls.relay.close()

    @property
    def port(self):
        return self.apache.port

    def req(self, method, path, **kw):
        return support.request(self.apache.port, method, path, **kw)

    def app_log(self):
        """What the application processes logged (access lines included)."""
        return self.stack.log_text("openbook") + support.stackmod.tail(self.apache.error_log, 10**6)

    def health(self, timeout=20):
        # mod_fcgid starts processes on demand: the first request may wait
        # for one (or get 503 while it starts).
        deadline = time.monotonic() + timeout
        while True:
            r = self.get("/api/core/sites/health/")
            if r.status == 200 or time.monotonic() > deadline:
                return r
            time.sleep(0.2)

    def test_health(self):
        r = self.health()
        self.assertJSON(r, 200, HEALTH)
        self.assertEqual(r.header_all("X-Frame-Options"), ["DENY"], r)
        self.assertEqual(r.header("Cache-Control"), "private, no-store", r)

    def test_api_root_urls_keep_port_and_ignore_spoofed_scheme(self):
        self.health()
        # A client's X-Forwarded-Proto is replaced by the real scheme.
        r = self.get("/api/", headers={"X-Forwarded-Proto": "https"})
        data = self.assertJSON(r, 200)
        self.assertEqual(data.get("core/languages"),
                         "http://127.0.0.1:%d/api/core/languages/" % self.port, r)

    def test_languages(self):
        self.health()
        data = self.assertJSON(self.get("/api/core/languages/?_page_size=1"), 200)
        self.assertEqual(data["count"], 2)

    def test_application_errors_pass_through(self):
        self.health()
        self.assertJSON(self.get("/api/core/sites/", headers={"Host": "evil.example"}),
                        400, {"detail": "Invalid host header."})
        self.assertJSON(self.get("/api/no/such/thing/"), 404, {"detail": "Not found."})

    def test_static_file(self):
        r = self.get("/static/deploy-test.css")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, b"body { color: #123456 }\n")
        self.assertEqual(r.header("Content-Type"), "text/css", r)
        self.assertEqual(r.header("X-Content-Type-Options"), "nosniff", r)
        self.assertIn("max-age=3600", r.header("Cache-Control", ""), r)

    def test_app_index(self):
        r = self.get("/app/")
        self.assertEqual(r.status, 200, r)
        self.assertIn(b"<title>app</title>", r.body)

    def test_missing_static_file_is_json_404(self):
        self.assertDetail(self.get("/static/no-such-file.js"), 404, "Not found.")

    def test_static_directory_listing_refused(self):
        r = self.get("/static/")
        self.assertIn(r.status, (403, 404), r)
        self.assertNotIn(b"deploy-test.css", r.body)
        self.assertJSON(r, r.status)

    def test_media_file(self):
        d = os.path.join(self.stack.media_dir, "openbook_core", "mediafile", "42")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "photo.txt"), "w") as f:
            f.write("media through apache\n")
        r = self.get("/media/openbook_core/mediafile/42/photo.txt")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, b"media through apache\n")
        self.assertTrue(r.header("Content-Type", "").startswith("text/plain"), r)

    def test_media_lib_nosniff(self):
        d = os.path.join(self.stack.media_dir, "lib", "demo", "1.0.0")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "demo.js"), "w") as f:
            f.write("export default 1;\n")
        r = self.get("/media/lib/demo/1.0.0/demo.js")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header_all("X-Content-Type-Options"), ["nosniff"], r)

    def test_media_lib_install_hidden(self):
        d = os.path.join(self.stack.media_dir, "lib-install")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "upload.zip"), "wb") as f:
            f.write(b"PK")
        self.assertDetail(self.get("/media/lib-install/upload.zip"), 404, "Not found.")

    def post_raw(self, head, chunks):
        r = support.raw_request(
            self.apache.port,
            b"POST /api/core/languages/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\n" + head + b"Connection: close\r\n\r\n",
            body_chunks=chunks)
        return dechunk(r)

    # mod_fcgid would hand the process an empty body for an oversized one
    # (it skips LimitRequestBody's error): such requests must never reach
    # it.  mod_proxy_fcgi passes the announced length on, the application
    # refuses it itself (413), and aborts the connection if the body
    # turns out too long while streaming.
    oversized_reaches_app = True

    def assertAppNeverSaw(self, what):
        if not self.oversized_reaches_app:
            self.assertNotIn(what, self.app_log(), "the oversized request reached the application")

    def test_body_over_limit_is_json_413(self):
        r = self.post_raw(b"Content-Length: 2621441\r\n", [b"x" * 65536])
        self.assertDetail(r, 413, "Request body too large.")
        self.assertAppNeverSaw("POST /api/core/languages/")

    def test_chunked_body_over_limit_refused(self):
        chunk = b"x" * 65536
        r = self.post_raw(b"Transfer-Encoding: chunked\r\n",
                          [b"%x\r\n" % len(chunk) + chunk + b"\r\n"] * 45 + [b"0\r\n\r\n"])
        # mod_fcgid reads a chunked body up to its server-wide
        # FcgidMaxRequestLen (the library archive's limit, see the conf)
        # and passes its length on: the application refuses it unread
        # (413), never a cut-short body.  Through mod_proxy_fcgi the
        # application may answer before it reads the body (here 403: no
        # credentials).
        self.assertTrue(400 <= r.status < 600 and r.status != 404, r)
        self.assertJSON(r, r.status)
        if not self.oversized_reaches_app:
            for line in self.app_log().splitlines():
                if "POST /api/core/languages/" in line:
                    self.assertIn(" 413 ", line)

    def upload_user(self):
        """A superuser with a token, and a media root the application
        processes may write (under mod_fcgid they run as the web user)."""
        import perm_support
        if self.stack.web is not None:
            import pwd
            uid = pwd.getpwnam(self.stack.web[0]).pw_uid
            for d, dirs, files in os.walk(self.stack.media_dir):
                for n in [d] + [os.path.join(d, x) for x in dirs + files]:
                    os.chown(n, uid, self.stack.web[2])
        world = perm_support.World(self.stack)
        return world, world.user("upl", superuser=True)

    def test_upload_through_apache(self):
        # A multipart upload through this front server (mod_fcgid: into a
        # `serve --single` process) is streamed to the media root.
        world, su = self.upload_user()
        group = world.scope(perm_support_group())
        data = os.urandom(3 << 20)
        ctype, body = support.multipart(
            [("content_type", "openbook_content.librarygroup"), ("object_id", group)],
            [("file_data", "apache.bin", data)])
        r = self.req("POST", "/api/core/media_files/", body=body,
                     headers={"Content-Type": ctype, "Authorization": "Token " + su.token})
        m = self.assertJSON(r, 201)
        path = os.path.join(self.stack.media_dir, m["file_data"].split("/media/", 1)[1])
        with open(path, "rb") as f:
            self.assertEqual(f.read(), data)
        staging = os.path.join(self.stack.media_dir, ".staging")
        self.assertEqual(os.listdir(staging) if os.path.isdir(staging) else [], [])

    def test_upload_over_limit_is_json_413(self):
        r = support.raw_request(
            self.apache.port,
            ("POST /api/core/media_files/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
             "Content-Type: multipart/form-data; boundary=x\r\nContent-Length: %d\r\n"
             "Connection: close\r\n\r\n" % (20971520 + 1)).encode(),
            body_chunks=[b"x" * 65536])
        self.assertDetail(dechunk(r), 413, "Request body too large.")

    def test_uri_too_long_is_json_414(self):
        r = self.get("/api/core/languages/?q=" + "a" * 9000)
        self.assertDetail(r, 414, "Request-URI too long.")

    def test_request_id_on_every_answer(self):
        self.health()
        # The application's answer: the id Apache passed it, once.
        r = self.get("/api/core/languages/", headers={"X-Request-Id": "apache-rid-1"})
        self.assertEqual(r.header_all("X-Request-Id"), ["apache-rid-1"], r)
        r = self.get("/api/no/such/thing/", headers={"X-Request-Id": "apache-rid-2"})
        self.assertEqual((r.status, r.header_all("X-Request-Id")), (404, ["apache-rid-2"]), r)
        # Apache's own errors too.
        r = self.get("/static/no-such-file.js", headers={"X-Request-Id": "apache-rid-3"})
        self.assertEqual((r.status, r.header_all("X-Request-Id")), (404, ["apache-rid-3"]), r)
        r = self.req("TRACE", "/api/", headers={"X-Request-Id": "apache-rid-4"})
        self.assertEqual((r.status, r.header_all("X-Request-Id")), (405, ["apache-rid-4"]), r)
        # None sent: mod_unique_id's.
        self.assertTrue(self.get("/api/").header("X-Request-Id"))

    def test_apache_405_is_json(self):
        # TRACE is the one method Apache refuses itself (TraceEnable off).
        self.assertDetail(self.req("TRACE", "/api/core/sites/health/"), 405,
                          'Method "TRACE" not allowed.')

    def test_websocket_through_wstunnel(self):
        key = base64.b64encode(os.urandom(16)).decode()
        s = socket.create_connection(("127.0.0.1", self.apache.port), timeout=10)
        try:
            s.sendall(("GET /ws/events/?ticket=abc HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                       "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                       "X-Forwarded-For: 10.9.8.7\r\n"
                       "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
                       % (self.apache.port, key)).encode())
            buf = b""
            while b"\r\n\r\n" not in buf:
                d = s.recv(4096)
                if not d:
                    break
                buf += d
            self.assertTrue(buf.startswith(b"HTTP/1.1 101 "), "%r\n%s" % (buf, self.apache.log_tail()))
            s.sendall(b"ping-through-tunnel")
            got = b""
            while len(got) < len(b"ping-through-tunnel"):
                d = s.recv(4096)
                if not d:
                    break
                got += d
            self.assertEqual(got, b"ping-through-tunnel")
        finally:
            s.close()
        line, hdrs = self.relay.requests[-1]
        self.assertEqual(line, "GET /ws/events/?ticket=abc HTTP/1.1")
        self.assertEqual(hdrs.get("upgrade", "").lower(), "websocket")
        # The relay counts anonymous connections per client address, the
        # last X-Forwarded-For entry: Apache's, never the client's.
        self.assertEqual(hdrs.get("x-forwarded-for", "").split(",")[-1].strip(), "127.0.0.1",
                         hdrs)


class ApacheFcgid(ServesMixin, EchoMixin, support.StackTestCase):
    """openbook.conf: mod_fcgid runs `openbook serve --single` itself."""

    oversized_reaches_app = False
    echo_apache = None

    @classmethod
    def setUpClass(cls):
        cls.start_apache(fcgid_apache(STACK))
        # A second Apache whose FcgidWrapper runs the echo responder.
        wrapper = "/usr/bin/openbook serve --single -c /etc/openbook/openbook.yaml"
        cls.echo_apache = Apache(STACK, "fcgid-echo", "openbook.conf", COMMON_MODULES + ["fcgid"],
                                 [(wrapper, "/usr/bin/python3 " + echo_app_path(STACK))]
                                 + common_substitutions(STACK))
        try:
            cls.echo_apache.start()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.echo_apache:
            cls.echo_apache.stop()
        super().tearDownClass()

    def test_processes_are_single_mode_children_of_apache(self):
        self.assertJSON(self.health(), 200, HEALTH)
        found = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/cmdline" % d, "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if argv[:1] == [app_binary(self.stack).encode()] and b"--single" in argv:
                found.append(int(d))
        self.assertTrue(found, "no `openbook serve --single` process found")
        self.assertIn("inherited on fd 0", support.stackmod.tail(self.apache.error_log, 400))


class ApacheProxyFcgi(ServesMixin, EchoMixin, support.StackTestCase):
    """openbook-proxy-fcgi.conf: mod_proxy_fcgi in front of the pool."""

    echo_apache = None
    echo_proc = None

    @classmethod
    def setUpClass(cls):
        cls.start_apache(proxy_fcgi_apache(STACK))
        # A second Apache in front of the echo responder instead of the pool.
        sock = os.path.join(STACK.run_dir, "echo.sock")
        cls.echo_proc = subprocess.Popen(["/usr/bin/python3", echo_app_path(STACK), sock],
                                         stdin=subprocess.DEVNULL, start_new_session=True,
                                         preexec_fn=support.stackmod._set_pdeathsig(signal.SIGTERM))
        cls.echo_apache = Apache(STACK, "proxy-echo", "openbook-proxy-fcgi.conf",
                                 COMMON_MODULES + ["proxy_fcgi"],
                                 common_substitutions(STACK) + [
                                     ("unix:/run/openbook/openbook.sock", "unix:" + sock)])
        try:
            support.wait_for(lambda: os.path.exists(sock), 10, what="echo socket")
            cls.echo_apache.start()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.echo_apache:
            cls.echo_apache.stop()
        if cls.echo_proc:
            cls.echo_proc.kill()
            cls.echo_proc.wait()
        super().tearDownClass()

    def test_pool_down_is_json_503(self):
        self.assertJSON(self.health(), 200, HEALTH)
        # Point a second Apache at a socket nobody listens on.
        dead = os.path.join(self.stack.run_dir, "nobody.sock")
        a = Apache(self.stack, "proxy-dead", "openbook-proxy-fcgi.conf",
                   COMMON_MODULES + ["proxy_fcgi"],
                   common_substitutions(self.stack) + [
                       ("unix:/run/openbook/openbook.sock", "unix:" + dead)])
        a.start()
        try:
            r = support.request(a.port, "GET", "/api/core/sites/health/")
            self.assertDetail(r, 503, "Service temporarily unavailable.")
        finally:
            a.stop()


if __name__ == "__main__":
    unittest.main()
