"""deploy/nginx/openbook.conf as shipped: valid for `nginx -t` unchanged (and
its commented TLS variant too), and its limits agree with conf/openbook.yaml.
No stack needed.
"""

import os
import re
import shutil
import subprocess
import tempfile
import unittest

import support

CONF = os.path.join(support.REPO, "deploy", "nginx", "openbook.conf")
YAML = os.path.join(support.REPO, "conf", "openbook.yaml")
NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")


def yaml_value(section, key):
    """A scalar from conf/openbook.yaml (flat two-level layout)."""
    cur = None
    with open(YAML) as f:
        for line in f:
            if re.match(r"^[a-z_]+:\s*$", line):
                cur = line.split(":")[0]
            m = re.match(r"^\s+([a-z_]+):\s*(.*?)\s*$", line)
            if m and cur == section and m.group(1) == key:
                return m.group(2).strip('"')
    raise KeyError("%s.%s" % (section, key))


def nginx_size(v):
    m = re.fullmatch(r"(\d+)([kKmMgG]?)", v)
    n = int(m.group(1))
    return n * {"": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}[m.group(2).lower()]


def nginx_seconds(v):
    m = re.fullmatch(r"(\d+)(s|m)?", v)
    return int(m.group(1)) * (60 if m.group(2) == "m" else 1)


class NginxConf(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(CONF) as f:
            cls.text = f.read()
        # Directives only, without comments.
        cls.code = "\n".join(l.split("#", 1)[0] for l in cls.text.splitlines())

    def directive(self, name, within=None):
        code = self.code
        if within:
            i = code.index(within)
            code = code[i:code.index("}", i)]
        return re.findall(r"^\s*%s\s+([^;]+);" % re.escape(name), code, re.M)

    def nginx_t(self, server_text):
        if not NGINX:
            self.skipTest("nginx not installed")
        d = tempfile.mkdtemp(prefix="openbook-it-nginx-t-")
        try:
            # The conf's relative include (fastcgi_params) resolves in the
            # directory of the main file, as in /etc/nginx.
            for name in ("fastcgi_params", "mime.types"):
                shutil.copyfile(os.path.join("/etc/nginx", name), os.path.join(d, name))
            with open(os.path.join(d, "openbook.conf"), "w") as f:
                f.write(server_text)
            main = os.path.join(d, "nginx.conf")
            with open(main, "w") as f:
                f.write("pid %s/nginx.pid;\nevents {}\nhttp {\n    include mime.types;\n"
                        "    include openbook.conf;\n}\n" % d)
            r = subprocess.run([NGINX, "-t", "-p", d + "/", "-c", main, "-e", d + "/error.log"],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_syntax_as_shipped(self):
        self.nginx_t(self.text)

    def test_tls_variant_syntax(self):
        if not shutil.which("openssl"):
            self.skipTest("openssl not installed")
        head, tls = self.text.split("# --- TLS variant", 1)
        server_at = head.index("server {\n    listen 80;")
        body = head[server_at:]
        inner = body[body.index("    server_tokens off;"):body.rstrip().rindex("}")]
        lines = []
        for l in tls.splitlines()[1:]:
            if l.startswith("# ") and (l[2:].startswith((" ", "server", "}"))):
                lines.append(l[2:])
        variant = "\n".join(lines)
        self.assertIn('... everything from "server_tokens off;"', variant)
        d = tempfile.mkdtemp(prefix="openbook-it-tls-")
        try:
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                            "-keyout", d + "/k.pem", "-out", d + "/c.pem", "-subj", "/CN=x",
                            "-days", "1"], capture_output=True, check=True)
            variant = re.sub(r"^ *\.\.\. everything from.*$", lambda m: inner, variant,
                             flags=re.M)
            variant = variant.replace(
                "/etc/letsencrypt/live/openbook.example.org/fullchain.pem", d + "/c.pem")
            variant = variant.replace(
                "/etc/letsencrypt/live/openbook.example.org/privkey.pem", d + "/k.pem")
            # inner repeats server_tokens of the TLS server: drop one.
            variant = variant.replace("    server_tokens off;\n", "", 1)
            self.nginx_t(head[:server_at] + variant)
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_body_limit_matches_max_body_bytes(self):
        sizes = self.directive("client_max_body_size")
        self.assertEqual(nginx_size(sizes[0]), int(yaml_value("http", "max_body_bytes")), sizes)

    def test_upload_limits_only_where_files_are_taken(self):
        # Each endpoint that takes files gets exactly the application's
        # limit; no other location takes more than http.max_body_bytes (a
        # bigger limit only lets anyone make nginx buffer big bodies).
        upload = int(yaml_value("http", "max_upload_bytes"))
        archive = int(yaml_value("http", "library_archive_max_bytes")) + 65536  # + the form
        self.assertEqual(nginx_size(self.directive(
            "client_max_body_size", within="location ~ ^/api/core/media_files(/|$)")[0]), upload)
        self.assertEqual(nginx_size(self.directive(
            "client_max_body_size", within="location ~ ^/api/auth/(users|auth_configs)(/|$)")[0]),
            upload)
        self.assertEqual(nginx_size(self.directive(
            "client_max_body_size", within="location ~ ^/api/core/html_library/install/?$")[0]),
            archive)
        sizes = [nginx_size(v) for v in self.directive("client_max_body_size")]
        self.assertEqual(sorted(sizes), sorted([int(yaml_value("http", "max_body_bytes")), 0,
                                                upload, upload, archive]))
        self.assertEqual(self.directive("client_max_body_size", within="location ^~ /.openbook-errors/"),
                         ["0"])   # (internal: the error pages, see there)
        # Request buffering stays on (the default): slow uploads must not
        # hold a worker.
        self.assertEqual(self.directive("fastcgi_request_buffering"), [])

    def test_timeouts(self):
        ws = self.directive("proxy_read_timeout", within="location /ws/")
        self.assertGreater(nginx_seconds(ws[0]), int(yaml_value("relay", "ping_interval")))
        fc = self.directive("fastcgi_read_timeout")
        self.assertGreater(nginx_seconds(fc[0]), int(yaml_value("server", "request_timeout")))

    def test_pool_and_sockets(self):
        self.assertIn("server unix:/run/openbook/openbook.sock;", self.code)
        self.assertIn("server unix:/run/openbook/relay.sock;", self.code)
        self.assertEqual(yaml_value("server", "listen"), "unix:/run/openbook/openbook.sock")
        self.assertEqual(yaml_value("relay", "listen"), "unix:/run/openbook/relay.sock")
        self.assertEqual(self.directive("keepalive"), ["8"])
        self.assertEqual(self.directive("fastcgi_keep_conn"), ["on"])
        self.assertEqual(self.directive("fastcgi_intercept_errors"), [])
        self.assertIn("worker_processes", self.text)   # the rule is documented

    def test_paths(self):
        self.assertIn("alias /usr/share/openbook/static/;", self.code)
        self.assertIn("alias /var/lib/openbook/media/;", self.code)
        self.assertEqual(yaml_value("media", "media_root"), "/var/lib/openbook/media")
        self.assertEqual(yaml_value("media", "media_url"), "/media/")

    def test_stack_substitutions_present(self):
        st = support.Stack("/nonexistent", 1, "/bin/true", support.REPO)
        for old, _ in st.nginx_substitutions():
            self.assertIn(old, self.code, "stack.py replaces %r" % old)

    def test_error_pages_are_json(self):
        want = {"400": '{"detail":"Bad request."}',
                "413": '{"detail":"Request body too large."}',
                "414": '{"detail":"Request-URI too long."}',
                "503": '{"detail":"Service temporarily unavailable."}'}
        for code, body in want.items():
            self.assertIn("return %s '%s';" % (code, body), self.code)
        for code in ("400", "413", "414", "502", "503", "504"):
            self.assertRegex(self.code, r"error_page [0-9 ]*\b%s\b" % code)


if __name__ == "__main__":
    unittest.main()
