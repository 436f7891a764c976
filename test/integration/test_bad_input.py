"""Bad input, over nginx and (for the application's own limits) directly over
FastCGI: every error is JSON with the security headers.

Spec: api-conventions.md sections 1, 2, 4, 5, 13; README deviations 9, 19-21.
"""

import subprocess
import unittest

import support

STACK = None

MAX_BODY = 2621440
MAX_QUERY = 8192
ANON_WRITE = "/api/ws/ticket/"   # a write endpoint that anonymous callers may use


def setUpModule():
    global STACK
    STACK = support.start_stack("bad")
    support.StackTestCase.stack = STACK


def tearDownModule():
    support.StackTestCase.stack = None
    support.stop_stack(STACK)


class Paths(support.StackTestCase):
    def test_unknown_paths(self):
        for path in ("/api/nope/", "/api/nope", "/api/core/", "/api/core/nope/",
                     "/api/core/sites/1/nope/", "/api/core/languages/de/x/y/",
                     "/nope", "/apiary/",
                     "/api/core/sitesx/"):
            r = self.get(path)
            self.assertJSON(r, 404, {"detail": "Not found."})
        # "/" is the browser app's front door (issue 15), not an unknown path.
        r = self.get("/")
        self.assertEqual(r.status, 302)
        self.assertTrue((r.header("Location") or "").endswith("/app/"), r)

    def test_unknown_auth_api_paths(self):
        # /auth-api/ has its own envelope (api-auth.md sections 1.1, 2).
        for path in ("/auth-api/browser/v1/nope", "/auth-api/app/v1/nope",
                     "/auth-api/browser/v1/config/", "/auth-api/v1/config"):
            r = self.get(path)
            self.assertJSON(r, 404, {"status": 404})

    def test_nul_in_path(self):
        for path in ("/api/core/sites/%00/", "/api/core/%00", "/api/core/sites/1%00/"):
            r = self.get(path)
            self.assertEqual(r.status, 400, "%s: %r" % (path, r))
            self.assertDetail(r, 400, "")

    def test_dot_segments(self):
        for path in ("/api/../etc/passwd", "/api/core/%2e%2e/sites/", "/api/core/sites/%2e%2e/",
                     "/api/core/sites/../sites/", "/api/core/sites/..%2f..%2fetc%2fpasswd",
                     "/api/%2e%2e/%2e%2e/etc/passwd", "/api/core/sites/%2E%2e/1/",
                     "/api/core/languages/..%5c..%5cetc/", "/static/../conf/openbook.yaml",
                     "/media/../openbook.yaml", "/media/..%2fopenbook.yaml"):
            r = self.get(path)
            self.assertIn(r.status, (400, 404), "%s: %r" % (path, r))
            self.assertDetail(r, r.status, "")
            self.assertNotIn(b"secret_key", r.body)

    def test_invalid_utf8_in_path(self):
        for path in ("/api/core/languages/%ff/", "/api/core/sites/%c3%28/",
                     "/api/core/languages/%ed%a0%80/", "/api/%c0%af/"):
            r = self.get(path)
            self.assertEqual(r.status, 400, "%s: %r" % (path, r))
            self.assertDetail(r, 400, "")

    def test_control_characters_encoded(self):
        for path in ("/api/core/languages/%0a/", "/api/core/languages/%0d%0aX-Injected:%201/"):
            r = self.get(path)
            self.assertIn(r.status, (400, 404), "%s: %r" % (path, r))
            self.assertDetail(r, r.status, "")
            self.assertIsNone(r.header("X-Injected"), repr(r))

    def test_bad_host(self):
        for host in ("evil.example", "evil.example:%d" % STACK.port, "127.0.0.2",
                     "localhost.evil.example", "127.0.0.1.evil.example"):
            r = self.get("/api/core/sites/", headers={"Host": host})
            self.assertJSON(r, 400, {"detail": "Invalid host header."})
        r = self.get("/api/core/sites/health/", headers={"Host": "evil.example"})
        self.assertJSON(r, 400, {"detail": "Invalid host header."})

    def test_good_hosts(self):
        for host in ("localhost", "LOCALHOST:%d" % STACK.port, "127.0.0.1"):
            r = self.get("/api/core/sites/health/", headers={"Host": host})
            self.assertJSON(r, 200, {"status": "GOOD"})


class Methods(support.StackTestCase):
    def test_post_to_read_only_collection_anonymous(self):
        # Writes to sites need login: an anonymous caller gets 403 before
        # the method check (api-conventions.md sections 5 and 11.3).
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            r = self.req(method, "/api/core/sites/", json_body={"domain": "x"})
            self.assertJSON(r, 403, {"detail": "Authentication credentials were not provided."})

    def test_write_item_anonymous(self):
        for method, path in (("PATCH", "/api/core/sites/1/"), ("PUT", "/api/core/sites/1/"),
                             ("DELETE", "/api/core/languages/de/"),
                             ("POST", "/api/core/languages/")):
            r = self.req(method, path, json_body={"name": "x"})
            self.assertJSON(r, 403, {"detail": "Authentication credentials were not provided."})
        # Nothing changed.
        self.assertJSON(self.get("/api/core/languages/de/"), 200,
                        {"language": "de", "name": "Deutsch"})

    def test_method_not_allowed_on_anonymous_endpoints(self):
        # The API root and health need no login, so the method check answers.
        for method, path in (("POST", "/api/"), ("DELETE", "/api/"),
                             ("POST", "/api/core/sites/health/"),
                             ("PUT", "/api/core/sites/health/")):
            r = self.req(method, path, json_body={})
            self.assertJSON(r, 405, {"detail": 'Method "%s" not allowed.' % method})
            allow = {m.strip() for m in (r.header("Allow") or "").split(",")}
            self.assertIn("GET", allow, repr(r))
            self.assertNotIn(method, allow, repr(r))

    def test_unknown_method(self):
        r = self.req("FROB", "/api/core/sites/health/")
        self.assertJSON(r, 405, {"detail": 'Method "FROB" not allowed.'})
        self.assertIsNotNone(r.header("Allow"), repr(r))

    def test_trace_from_nginx(self):
        r = self.req("TRACE", "/api/core/sites/")
        self.assertJSON(r, 405, {"detail": 'Method "TRACE" not allowed.'})

    def test_health_post_malformed_json(self):
        # Health takes no body: the method check comes before parsing.
        r = self.req("POST", "/api/core/sites/health/", body=b"{not json",
                     headers={"Content-Type": "application/json"})
        self.assertJSON(r, 405, {"detail": 'Method "POST" not allowed.'})


class Bodies(support.StackTestCase):
    """Body parsing, on the anonymous write endpoint POST /api/ws/ticket/."""

    def test_malformed_json(self):
        for body in (b"{not json", b'{"channels": [', b'{"a":1} trailing', b"\xff\xfe",
                     b'{"a": "\xc3"}'):
            r = self.req("POST", ANON_WRITE, body=body,
                         headers={"Content-Type": "application/json"})
            data = self.assertDetail(r, 400, "JSON parse error - ")
            self.assertGreater(len(data["detail"]), len("JSON parse error - "), repr(r))

    def test_json_too_deep(self):
        body = b"{\"a\":" * 100 + b"1" + b"}" * 100
        r = self.req("POST", ANON_WRITE, body=body, headers={"Content-Type": "application/json"})
        self.assertDetail(r, 400, "JSON parse error - ")

    def test_not_an_object(self):
        for body, typ in ((b"[]", "list"), (b'"x"', "str"), (b"1", "int"), (b"1.5", "float"),
                          (b"true", "bool"), (b"null", "NoneType")):
            r = self.req("POST", ANON_WRITE, body=body,
                         headers={"Content-Type": "application/json"})
            self.assertJSON(r, 400, {"non_field_errors": [
                "Invalid data. Expected a dictionary, but got %s." % typ]})

    def test_unsupported_media_type(self):
        for ct in ("text/plain", "application/x-www-form-urlencoded", "application/xml"):
            r = self.req("POST", ANON_WRITE, body=b"channels=x", headers={"Content-Type": ct})
            self.assertJSON(r, 415, {"detail": 'Unsupported media type "%s" in request.' % ct})

    def test_json_with_charset_is_json(self):
        r = self.req("POST", ANON_WRITE, body=b"{not json",
                     headers={"Content-Type": "application/json; charset=utf-8"})
        self.assertDetail(r, 400, "JSON parse error - ")

    def test_ticket_endpoint_validates(self):
        r = self.req("POST", ANON_WRITE, json_body={})
        data = self.assertJSON(r, 400)
        self.assertIn("channels", data, repr(r))


class Limits(support.StackTestCase):
    def test_query_string_too_long_nginx(self):
        r = self.get("/api/core/languages/?_search=" + "a" * (MAX_QUERY + 1))
        self.assertJSON(r, 414, {"detail": "Request-URI too long."})

    def test_query_string_limit_app(self):
        # Straight to the application: nginx's request-line limit (8k) is
        # about the same size, so only here does the app's own check answer.
        q = "_search=" + "a" * (MAX_QUERY + 1 - len("_search="))
        r = support.fcgi_request(STACK.socket_path,
                                 support.fcgi_params("GET", "/api/core/languages/?" + q))
        self.assertJSON(r, 414, {"detail": "Request-URI too long."})
        q = "_search=" + "a" * (MAX_QUERY - len("_search="))
        r = support.fcgi_request(STACK.socket_path,
                                 support.fcgi_params("GET", "/api/core/languages/?" + q))
        self.assertJSON(r, 200)

    def test_body_too_large_nginx(self):
        head = ("POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
                "Content-Length: %d\r\nConnection: close\r\n\r\n"
                % ("/api/core/sites/", STACK.port, MAX_BODY + 1)).encode()
        r = support.raw_request(STACK.port, head, body_chunks=[b" " * 65536] * 41)
        self.assertJSON(r, 413, {"detail": "Request body too large."})

    def test_body_too_large_on_upload_path_refused_by_nginx(self):
        # An upload path takes http.max_upload_bytes (20 MiB): above it
        # nginx answers 413 JSON from the announced length alone, without
        # reading the body or asking the application.
        head = ("POST /api/core/media_files/ HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                "Content-Type: multipart/form-data; boundary=x\r\n"
                "Content-Length: %d\r\nConnection: close\r\n\r\n"
                % (STACK.port, 20 * 1024 * 1024 + 1)).encode()
        r = support.raw_request(STACK.port, head)
        self.assertJSON(r, 413, {"detail": "Request body too large."})
        self.assertNotIn("/api/core/media_files", STACK.log_text("openbook"))

    def test_body_too_large_app_direct(self):
        # The size check comes before authentication: anonymous gets 413.
        r = support.fcgi_request(STACK.socket_path, support.fcgi_params(
            "POST", "/api/core/sites/", body=b"x", content_type="application/json",
            extra={"CONTENT_LENGTH": str(MAX_BODY + 1)}))
        self.assertJSON(r, 413, {"detail": "Request body too large."})

    def test_body_at_limit_is_read(self):
        # Exactly max_body_bytes passes nginx and the size check; the
        # anonymous caller is then refused for want of a login.
        body = b'{"domain": "x"' + b" " * (MAX_BODY - 15) + b"}"
        self.assertEqual(len(body), MAX_BODY)
        r = self.req("PATCH", "/api/core/sites/1/", body=body,
                     headers={"Content-Type": "application/json"})
        self.assertJSON(r, 403, {"detail": "Authentication credentials were not provided."})

    def test_too_many_headers_nginx(self):
        head = ("GET /api/core/sites/ HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nX-Big: %s\r\n"
                "Connection: close\r\n\r\n" % (STACK.port, "a" * 9000)).encode()
        r = support.raw_request(STACK.port, head)
        self.assertJSON(r, 400, {"detail": "Bad request."})

    def test_garbage_request_line(self):
        r = support.raw_request(STACK.port, b"GARBAGE\r\n\r\n")
        self.assertJSON(r, 400, {"detail": "Bad request."})


class Direct(support.StackTestCase):
    """The application without nginx in front: its own error handling."""

    def fcgi(self, method, uri, **kw):
        return support.fcgi_request(STACK.socket_path, support.fcgi_params(method, uri, **kw))

    def test_health(self):
        self.assertJSON(self.fcgi("GET", "/api/core/sites/health/"), 200, {"status": "GOOD"})

    def test_nul_and_bad_utf8(self):
        for uri in ("/api/core/sites/%00/", "/api/core/languages/%ff/"):
            r = self.fcgi("GET", uri)
            self.assertDetail(r, 400, "")

    def test_dot_segments(self):
        for uri in ("/api/../etc/passwd", "/api/core/%2e%2e/sites/", "/api/core/sites/../sites/"):
            r = self.fcgi("GET", uri)
            self.assertIn(r.status, (400, 404), "%s: %r" % (uri, r))
            self.assertDetail(r, r.status, "")

    def test_missing_host(self):
        r = support.fcgi_request(STACK.socket_path, support.fcgi_params(
            "GET", "/api/core/sites/", host="", extra={"SERVER_NAME": ""}))
        self.assertJSON(r, 400, {"detail": "Invalid host header."})

    def test_bad_host_syntax(self):
        for host in ("127.0.0.1:abc", "a b", "[::1", "127.0.0.1:80:80", "x" * 300):
            r = self.fcgi("GET", "/api/core/sites/", host=host)
            self.assertJSON(r, 400, {"detail": "Invalid host header."})

    def test_bad_content_length(self):
        for cl in ("abc", "-1", "99999999999999999999999"):
            r = support.fcgi_request(STACK.socket_path, support.fcgi_params(
                "POST", "/api/core/sites/", content_type="application/json",
                extra={"CONTENT_LENGTH": cl}))
            self.assertIn(r.status, (400, 413), "%s: %r" % (cl, r))
            self.assertDetail(r, r.status, "")

    def test_short_body(self):
        # CONTENT_LENGTH promises more than arrives.
        r = support.fcgi_request(STACK.socket_path, support.fcgi_params(
            "POST", ANON_WRITE, body=b"{}", content_type="application/json",
            extra={"CONTENT_LENGTH": "100"}), stdin=b"{}")
        self.assertDetail(r, 400, "")



class Credentials(support.StackTestCase):
    """Presented credentials that are invalid end the request with 403 and
    do not fall back to anonymous (api-conventions.md section 11)."""

    def test_bad_token(self):
        for value, detail in (("Token bogus", "Invalid token received."),
                              ("token bogus", "Invalid token received."),
                              ("Token", "Invalid Authorization header received."),
                              ("Token a b", "Invalid Authorization header received.")):
            r = self.get("/api/core/sites/", headers={"Authorization": value})
            self.assertJSON(r, 403, {"detail": detail})

    def test_other_scheme_ignored(self):
        r = self.get("/api/core/sites/", headers={"Authorization": "Basic YTpi"})
        self.assertJSON(r, 200)

    def test_bad_session_token(self):
        r = self.get("/api/core/sites/", headers={"X-Session-Token": "bogus"})
        self.assertJSON(r, 403, {"detail": "Invalid session token."})

    def test_unknown_session_cookie_is_anonymous(self):
        r = self.get("/api/core/sites/", headers={"Cookie": "sessionid=bogus"})
        self.assertJSON(r, 200)


class Authenticated(support.StackTestCase):
    """Method and body checks as a logged-in superuser (X-Session-Token from
    the app login), where login-required 403s no longer come first."""

    USER, PASSWORD = "it_admin", "Vq8#lumen-Orchard-42"

    @classmethod
    def setUpClass(cls):
        env = STACK.server_env()
        env["OPENBOOK_SUPERUSER_PASSWORD"] = cls.PASSWORD
        r = subprocess.run([STACK.binary, "createsuperuser", "-c", STACK.config_path,
                            "--no-input", "--username", cls.USER,
                            "--email", "it_admin@example.org"],
                           env=env, capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise AssertionError("createsuperuser failed (%d): %s%s"
                                 % (r.returncode, r.stdout, r.stderr))
        r = support.request(STACK.port, "POST", "/auth-api/app/v1/auth/login",
                            json_body={"username": cls.USER, "password": cls.PASSWORD})
        try:
            cls.token = r.json()["meta"]["session_token"]
        except (ValueError, KeyError, TypeError):
            raise AssertionError("app login failed: %r" % r)

    def auth(self, method, path, **kw):
        kw.setdefault("headers", {})["X-Session-Token"] = self.token
        return self.req(method, path, **kw)

    def allow(self, r):
        return {m.strip() for m in (r.header("Allow") or "").split(",") if m.strip()}

    def test_logged_in(self):
        r = self.auth("GET", "/api/auth/current_user/")
        data = self.assertJSON(r, 200)
        self.assertEqual(data.get("username"), self.USER, repr(r))

    def test_405_collection(self):
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            r = self.auth(method, "/api/core/sites/", json_body={"domain": "x"})
            self.assertJSON(r, 405, {"detail": 'Method "%s" not allowed.' % method})
            allow = self.allow(r)
            self.assertTrue({"GET", "HEAD", "OPTIONS"} <= allow, repr(r))
            self.assertNotIn(method, allow, repr(r))

    def test_405_item(self):
        # Sites: L R, and U P (admin addition); no C, no D.
        for method in ("POST", "DELETE"):
            r = self.auth(method, "/api/core/sites/1/", json_body={})
            self.assertJSON(r, 405, {"detail": 'Method "%s" not allowed.' % method})
            self.assertEqual(self.allow(r), {"GET", "PUT", "PATCH", "HEAD", "OPTIONS"}, repr(r))

    def test_body_errors_auth_tokens_post(self):
        self.check_body_errors("POST", "/api/auth/auth_tokens/")

    def test_body_errors_sites_patch(self):
        self.check_body_errors("PATCH", "/api/core/sites/1/")

    def check_body_errors(self, method, path):
        r = self.auth(method, path, body=b"{not json",
                      headers={"Content-Type": "application/json"})
        self.assertDetail(r, 400, "JSON parse error - ")
        r = self.auth(method, path, body=b"[1]",
                      headers={"Content-Type": "application/json"})
        self.assertJSON(r, 400, {"non_field_errors": [
            "Invalid data. Expected a dictionary, but got list."]})
        r = self.auth(method, path, body=b"name=x",
                      headers={"Content-Type": "text/plain"})
        self.assertJSON(r, 415, {"detail": 'Unsupported media type "text/plain" in request.'})
        # Nothing changed.
        self.assertJSON(self.get("/api/core/sites/1/"), 200)


if __name__ == "__main__":
    unittest.main()
