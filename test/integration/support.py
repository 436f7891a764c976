"""Shared helpers of the integration tests: the stack, HTTP and FastCGI clients.

Each test module starts ONE Stack (deploy/local/stack.py) in a fresh
directory under /tmp in setUpModule() and stops it in tearDownModule(); the
tests drive it over HTTP through nginx.

Environment:
    OPENBOOK_BIN       binary under test (default build/asan/openbook)
    OPENBOOK_KEEP_TMP  1: keep the stack directories (logs!) after the run
"""

import http.client
import json
import os
import re
import shutil
import socket
import struct
import sys
import tempfile
import time
import unittest
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "deploy", "local"))

import stack as stackmod  # noqa: E402
from stack import Stack, free_port  # noqa: E402,F401

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}

SANITIZER_PATTERNS = re.compile(
    r"ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|"
    r"ERROR: UndefinedBehaviorSanitizer|SUMMARY: (Address|Leak|UndefinedBehavior)Sanitizer")


def binary():
    b = os.environ.get("OPENBOOK_BIN") or os.path.join("build", "asan", "openbook")
    if not os.path.isabs(b):
        b = os.path.join(REPO, b)
    return b


def server_env():
    """Sanitizer defaults for the binary; the caller's settings win."""
    env = {}
    if "ASAN_OPTIONS" not in os.environ:
        env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0:print_summary=1"
    if "UBSAN_OPTIONS" not in os.environ:
        env["UBSAN_OPTIONS"] = "print_stacktrace=1"
    return env


def make_tmpdir(tag="stack"):
    d = tempfile.mkdtemp(prefix="openbook-it-%s-" % tag, dir="/tmp")
    os.chmod(d, 0o755)
    return d


def start_stack(tag, **kw):
    """A started Stack in a new /tmp directory.  kw go to Stack()."""
    root = make_tmpdir(tag)
    kw.setdefault("env", server_env())
    config = kw.pop("config", {})
    # Short graceful timeout so that the shutdown tests stay fast.
    config.setdefault("server", {}).setdefault("graceful_timeout", 10)
    # Cached answers live for ten minutes here instead of one second: every
    # test then sees a fresh answer only if the cache was emptied by the
    # change it made (test_read_cache.py covers ageing out).
    config.setdefault("cache", {}).setdefault("max_age_ms", 600000)
    # port None: the stack picks a free one (and another if it gets taken).
    st = Stack(root, None, binary(), REPO, config=config, **kw)
    try:
        st.start()
    except BaseException:
        cleanup_dir(root)
        raise
    return st


def cleanup_dir(root):
    if os.environ.get("OPENBOOK_KEEP_TMP") == "1":
        sys.stderr.write("(kept %s)\n" % root)
        return
    shutil.rmtree(root, ignore_errors=True)


def sanitizer_reports(st):
    """Sanitizer reports found in the stack's openbook logs."""
    out = []
    for name in os.listdir(st.log_dir):
        text = st.log_text(name)
        if SANITIZER_PATTERNS.search(text):
            lines = text.splitlines()
            for i, line in enumerate(lines):
                if SANITIZER_PATTERNS.search(line):
                    out.append("%s: %s" % (name, "\n".join(lines[max(0, i - 2):i + 25])))
                    break
    return out


def stop_stack(st):
    """Stop it; raise AssertionError when the logs hold sanitizer reports."""
    if st is None:
        return
    st.stop()
    reports = sanitizer_reports(st)
    if reports:
        sys.stderr.write("(stack dir kept for the sanitizer report: %s)\n" % st.root)
        raise AssertionError("sanitizer reports in the server logs:\n" + "\n\n".join(reports))
    cleanup_dir(st.root)


# --------------------------------------------------------------------------
# HTTP


class Resp:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers          # list of (name, value)
        self.body = body

    def header(self, name, default=None):
        vals = self.header_all(name)
        return vals[0] if vals else default

    def header_all(self, name):
        n = name.lower()
        return [v for k, v in self.headers if k.lower() == n]

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        body = self.body[:600]
        return "<HTTP %d %s\n  %s\n  body: %r%s>" % (
            self.status, self.reason,
            "\n  ".join("%s: %s" % kv for kv in self.headers), body,
            "..." if len(self.body) > 600 else "")


def request(port, method, path, body=None, headers=None, timeout=30, json_body=None):
    """One request on its own connection.  Host is 127.0.0.1:<port> unless
    headers set one."""
    hdrs = dict(headers or {})
    if json_body is not None:
        body = json.dumps(json_body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=hdrs)
        r = conn.getresponse()
        data = r.read()
        return Resp(r.status, r.reason, r.getheaders(), data)
    finally:
        conn.close()


def multipart(fields=(), files=(), boundary=None):
    """A multipart/form-data body: fields [(name, text)], files [(name,
    filename, bytes[, content type])].  Returns (content type, body)."""
    b = boundary or "----openbook" + uuid.uuid4().hex
    out = []
    for name, value in fields:
        out.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n"
                    % (b, name)).encode() + (value if isinstance(value, bytes)
                                              else str(value).encode()) + b"\r\n")
    for f in files:
        name, filename, data = f[:3]
        ctype = f[3] if len(f) > 3 else "application/octet-stream"
        out.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n"
                    "Content-Type: %s\r\n\r\n" % (b, name, filename, ctype)).encode()
                   + data + b"\r\n")
    out.append(("--%s--\r\n" % b).encode())
    return "multipart/form-data; boundary=" + b, b"".join(out)


def raw_request(port, data, timeout=30, body_chunks=(), decode_chunked=False):
    """Send raw bytes (and then body chunks, tolerating an early close by the
    server); parse the answer.  For requests http.client refuses to make.
    A chunked response body is returned as received unless decode_chunked."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        for chunk in body_chunks:
            try:
                s.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
        try:
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        buf = b""
        while True:
            try:
                d = s.recv(65536)
            except ConnectionResetError:
                break
            if not d:
                break
            buf += d
            if _complete_http(buf):
                break
    finally:
        s.close()
    return parse_http(buf, decode_chunked)


def _complete_http(buf):
    i = buf.find(b"\r\n\r\n")
    if i < 0:
        return False
    if re.search(rb"(?im)^transfer-encoding:\s*chunked", buf[:i]):
        return buf.endswith(b"\r\n0\r\n\r\n") or buf[i + 4:].startswith(b"0\r\n\r\n")
    m = re.search(rb"(?im)^content-length:\s*(\d+)", buf[:i])
    return bool(m) and len(buf) >= i + 4 + int(m.group(1))


def _dechunk(body):
    out, rest = b"", body
    while rest:
        line, sep, rest = rest.partition(b"\r\n")
        if not sep:
            raise AssertionError("truncated chunked body: %r" % body[:300])
        size = int(line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            break
        out, rest = out + rest[:size], rest[size + 2:]
    return out


def parse_http(buf, decode_chunked=False):
    """A raw HTTP response as a Resp.  A chunked body stays as it came
    unless decode_chunked."""
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin1").split("\r\n")
    if not lines or not lines[0].startswith("HTTP/"):
        raise AssertionError("no HTTP answer: %r" % buf[:300])
    parts = lines[0].split(" ", 2)
    headers = []
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers.append((k.strip(), v.strip()))
    chunked = any(k.lower() == "transfer-encoding" and "chunked" in v.lower()
                  for k, v in headers)
    if chunked:
        if decode_chunked:
            body = _dechunk(body)
    else:
        m = [v for k, v in headers if k.lower() == "content-length"]
        if m:
            body = body[:int(m[0])]
    return Resp(int(parts[1]), parts[2] if len(parts) > 2 else "", headers, body)


# --------------------------------------------------------------------------
# FastCGI (to talk to the application without nginx)

FCGI_BEGIN, FCGI_END, FCGI_PARAMS, FCGI_STDIN, FCGI_STDOUT, FCGI_STDERR = 1, 3, 4, 5, 6, 7


def _fcgi_len(n):
    return bytes([n]) if n < 128 else struct.pack(">I", n | 0x80000000)


def _fcgi_record(typ, content, rid=1):
    out = b""
    while True:
        chunk, content = content[:65535], content[65535:]
        pad = (-len(chunk)) % 8
        out += struct.pack(">BBHHBB", 1, typ, rid, len(chunk), pad, 0) + chunk + b"\0" * pad
        if not content:
            return out


def fcgi_params(method, uri, host="127.0.0.1", body=b"", content_type=None, extra=None):
    path, _, query = uri.partition("?")
    p = {
        "REQUEST_METHOD": method, "REQUEST_URI": uri, "QUERY_STRING": query,
        "DOCUMENT_URI": path, "SCRIPT_NAME": path, "SERVER_PROTOCOL": "HTTP/1.1",
        "GATEWAY_INTERFACE": "CGI/1.1", "REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": "40000",
        "SERVER_ADDR": "127.0.0.1", "SERVER_PORT": "80", "SERVER_NAME": "localhost",
        "REQUEST_SCHEME": "http", "HTTP_HOST": host,
        "CONTENT_LENGTH": str(len(body)) if body else "",
        "CONTENT_TYPE": content_type or "",
    }
    p.update(extra or {})
    return p


def fcgi_request(sock_path, params, stdin=b"", timeout=30):
    """One FastCGI request over a unix socket; returns a Resp."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(sock_path)
    try:
        pb = b"".join(_fcgi_len(len(k.encode())) + _fcgi_len(len(v.encode())) + k.encode() + v.encode()
                      for k, v in params.items())
        msg = _fcgi_record(FCGI_BEGIN, struct.pack(">HB5x", 1, 0))
        msg += _fcgi_record(FCGI_PARAMS, pb) + _fcgi_record(FCGI_PARAMS, b"")
        if stdin:
            msg += _fcgi_record(FCGI_STDIN, stdin)
        msg += _fcgi_record(FCGI_STDIN, b"")
        try:
            s.sendall(msg)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the application may answer before reading the whole body
        out, err, buf = b"", b"", b""
        ended = False
        while not ended:
            try:
                d = s.recv(65536)
            except ConnectionResetError:
                d = b""
            if not d:
                break
            buf += d
            while len(buf) >= 8:
                _, typ, _, clen, plen, _ = struct.unpack(">BBHHBB", buf[:8])
                if len(buf) < 8 + clen + plen:
                    break
                content = buf[8:8 + clen]
                buf = buf[8 + clen + plen:]
                if typ == FCGI_STDOUT:
                    out += content
                elif typ == FCGI_STDERR:
                    err += content
                elif typ == FCGI_END:
                    ended = True
        if not ended:
            raise AssertionError("FastCGI connection closed without END_REQUEST; stdout %r"
                                 % out[:300])
    finally:
        s.close()
    return parse_cgi(out)


def parse_cgi(out):
    """A CGI response (Status: header) as a Resp."""
    sep = out.find(b"\r\n\r\n")
    if sep < 0:
        sep2 = out.find(b"\n\n")
        if sep2 < 0:
            raise AssertionError("no CGI header block: %r" % out[:300])
        head, body = out[:sep2], out[sep2 + 2:]
    else:
        head, body = out[:sep], out[sep + 4:]
    headers = []
    status, reason = 200, "OK"
    for line in head.decode("latin1").splitlines():
        k, _, v = line.partition(":")
        k, v = k.strip(), v.strip()
        if k.lower() == "status":
            code, _, reason = v.partition(" ")
            status = int(code)
        else:
            headers.append((k, v))
    return Resp(status, reason, headers, body)


# --------------------------------------------------------------------------


class StackTestCase(unittest.TestCase):
    """Base class: self.stack is the module's Stack (set by setUpModule)."""

    stack = None
    maxDiff = None

    @property
    def port(self):
        return self.stack.port

    def url(self, path):
        return self.stack.url(path)

    def req(self, method, path, **kw):
        return request(self.stack.port, method, path, **kw)

    def get(self, path, **kw):
        return self.req("GET", path, **kw)

    def assertSecurityHeaders(self, r):
        for k, v in SECURITY_HEADERS.items():
            self.assertEqual(r.header(k), v, "header %s on %r" % (k, r))

    def assertJSON(self, r, status, body=None, security=True):
        """Status, JSON content type, security headers, and (when given) the
        exact JSON body; returns the parsed body."""
        self.assertEqual(r.status, status, "unexpected status: %r" % r)
        ct = (r.header("Content-Type") or "").split(";")[0].strip().lower()
        self.assertEqual(ct, "application/json", "content type of %r" % r)
        if security:
            self.assertSecurityHeaders(r)
        try:
            data = r.json()
        except ValueError as e:
            self.fail("body is not JSON (%s): %r" % (e, r))
        if body is not None:
            self.assertEqual(data, body, "body of %r" % r)
        return data

    def assertDetail(self, r, status, prefix):
        """A {"detail": ...} error whose text starts with prefix."""
        data = self.assertJSON(r, status)
        self.assertIsInstance(data, dict, repr(r))
        self.assertEqual(list(data), ["detail"], "body of %r" % r)
        self.assertTrue(data["detail"].startswith(prefix), "detail of %r" % r)
        return data


class MediaServingMixin:
    """/media/ as the front server serves it (nginx and both Apache
    files): uploads come from the API's origin, so documents a browser
    would run are sandboxed and downloaded; library files load as scripts,
    styles, fonts and WebAssembly.  Needs self.stack and self.get."""

    def put_media_file(self, rel, data):
        path = os.path.join(self.stack.media_dir, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        return "/media/" + rel

    def media_answer(self, rel, data):
        r = self.get(self.put_media_file(rel, data))
        self.assertEqual((r.status, r.body), (200, data), repr(r))
        self.assertEqual(r.header_all("X-Content-Type-Options"), ["nosniff"], repr(r))
        return r

    def test_media_upload_is_sandboxed(self):
        html = b"<!doctype html><script>fetch('/api/auth/user/')</script>\n"
        files = {  # name: (content type, attachment)
            "page.html": ("text/html", True),
            "picture.svg": ("image/svg+xml", True),
            "page.xhtml": ("application/xhtml+xml", True),
            "data.xml": (None, True),      # text/xml or application/xml
            "notes.txt": ("text/plain", False),
            "photo.png": ("image/png", False),
        }
        for name, (ctype, attachment) in files.items():
            r = self.media_answer("openbook_content/sandbox/%s" % name, html)
            got = (r.header("Content-Type") or "").split(";")[0].strip()
            if ctype:
                self.assertEqual(got, ctype, repr(r))
            else:
                self.assertIn("xml", got, repr(r))
            self.assertEqual(r.header_all("Content-Security-Policy"), ["sandbox"], repr(r))
            self.assertEqual(r.header_all("Content-Disposition"),
                             ["attachment"] if attachment else [], repr(r))

    def test_media_lib_loads_as_subresources(self):
        # The app imports library.js (an ES module) and what it pulls in:
        # a JavaScript type, and no sandbox that a worker started from it
        # could inherit.
        files = {"library.js": "text/javascript", "chunk.mjs": "text/javascript",
                 "library.css": "text/css", "engine.wasm": "application/wasm",
                 "font.woff2": "font/woff2"}
        for name, ctype in files.items():
            r = self.media_answer("lib/acme/sub/1.0.0/%s" % name, b"export default 1;\n")
            self.assertEqual((r.header("Content-Type") or "").split(";")[0].strip(), ctype,
                             repr(r))
            self.assertEqual(r.header_all("Content-Security-Policy"), [], repr(r))
            self.assertEqual(r.header_all("Content-Disposition"), [], repr(r))

    def test_media_lib_documents_are_sandboxed(self):
        for name in ("icons.svg", "readme.html"):
            r = self.media_answer("lib/acme/sub/1.0.0/%s" % name, b"<svg><script>1</script></svg>")
            self.assertEqual(r.header_all("Content-Security-Policy"), ["sandbox"], repr(r))
            self.assertEqual(r.header_all("Content-Disposition"), ["attachment"], repr(r))


def wait_for(pred, timeout, interval=0.1, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))
        time.sleep(interval)


def pid_alive(pid):
    return stackmod._pid_alive(pid)
