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
                  "proxy", "proxy_wstunnel"]


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
        for d in ("run", "logs", "fcgid"):
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


def static_copy(st):
    """A copy of the repo's static/ with a test file (never written into the repo)."""
    d = os.path.join(st.root, "static")
    if not os.path.isdir(d):
        shutil.copytree(os.path.join(support.REPO, "static"), d)
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


def fcgid_apache(st):
    return Apache(st, "fcgid", "openbook.conf", COMMON_MODULES + ["fcgid"],
                  common_substitutions(st) + [
                      ("/usr/bin/openbook", st.binary),
                      ("/etc/openbook/openbook.yaml", st.config_path),
                  ])


def proxy_fcgi_apache(st):
    return Apache(st, "proxy-fcgi", "openbook-proxy-fcgi.conf",
                  COMMON_MODULES + ["proxy_fcgi"],
                  common_substitutions(st) + [
                      ("unix:/run/openbook/openbook.sock", "unix:" + st.socket_path),
                  ])


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
        # FcgidMaxRequestLen and LimitRequestBody = http.max_body_bytes.
        text = shipped("openbook.conf")
        self.assertIn("\nFcgidMaxRequestLen 2621440\n", text)
        for name in ("openbook.conf", "openbook-proxy-fcgi.conf"):
            self.assertIn("    LimitRequestBody 2621440\n", shipped(name), name)


class ServesMixin:
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

    def test_body_over_limit_is_json_413(self):
        r = support.raw_request(
            self.apache.port,
            b"POST /api/core/languages/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 2621441\r\n"
            b"Connection: close\r\n\r\n", body_chunks=[b"x" * 65536])
        self.assertDetail(r, 413, "Request body too large.")

    def test_uri_too_long_is_json_414(self):
        r = self.get("/api/core/languages/?q=" + "a" * 9000)
        self.assertDetail(r, 414, "Request-URI too long.")

    def test_apache_405_is_json(self):
        # POST to a static file: Apache's own 405.
        r = self.req("POST", "/static/deploy-test.css", body=b"{}",
                     headers={"Content-Type": "application/json"})
        self.assertDetail(r, 405, 'Method "POST" not allowed.')

    def test_websocket_through_wstunnel(self):
        key = base64.b64encode(os.urandom(16)).decode()
        s = socket.create_connection(("127.0.0.1", self.apache.port), timeout=10)
        try:
            s.sendall(("GET /ws/events/?ticket=abc HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                       "Upgrade: websocket\r\nConnection: Upgrade\r\n"
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


class ApacheFcgid(ServesMixin, support.StackTestCase):
    """openbook.conf: mod_fcgid runs `openbook serve --single` itself."""

    @classmethod
    def setUpClass(cls):
        cls.start_apache(fcgid_apache(STACK))

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
            if argv[:1] == [self.stack.binary.encode()] and b"--single" in argv:
                found.append(int(d))
        self.assertTrue(found, "no `openbook serve --single` process found")
        self.assertIn("inherited on fd 0", support.stackmod.tail(self.apache.error_log, 400))


class ApacheProxyFcgi(ServesMixin, support.StackTestCase):
    """openbook-proxy-fcgi.conf: mod_proxy_fcgi in front of the pool."""

    @classmethod
    def setUpClass(cls):
        cls.start_apache(proxy_fcgi_apache(STACK))

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
