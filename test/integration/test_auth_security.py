"""Abuse resistance of the authentication API (api-auth.md §7, api-conventions
§11): CSRF, cookie flags, rate limits (Redis and the in-process fallback),
no user enumeration, malformed input, concurrent logins, and the
createsuperuser / changepassword commands."""

import os
import statistics
import subprocess
import threading
import time
import unittest

import support
from auth_support import (GOOD_PASSWORD, Client, create_user, flush_redis, last_mail,
                          login_code, start_auth_stack)

STACK = None


def setUpModule():
    global STACK
    STACK = start_auth_stack("authsec")
    support.StackTestCase.stack = STACK


def tearDownModule():
    support.stop_stack(STACK)


class Base(support.StackTestCase):
    def setUp(self):
        flush_redis(self.stack)

    def error_codes(self, r, status=400):
        d = self.assertJSON(r, status)
        return [(e["code"], e.get("param")) for e in d.get("errors", [])]


class Csrf(Base):
    def test_refused_and_accepted(self):
        create_user(self.stack, "csrf_user")
        c = Client(self.stack).prime()
        tok = c.cookies["csrftoken"]
        self.assertEqual(len(tok), 32)
        body = {"username": "csrf_user", "password": GOOD_PASSWORD}
        cases = [
            ({"X-CSRFToken": ""}, "CSRF Failed: CSRF token missing."),
            ({"X-CSRFToken": "x" * 32}, "CSRF Failed: CSRF token incorrect."),
            ({"X-CSRFToken": tok, "Origin": "http://evil.example"},
             "CSRF Failed: Origin checking failed - http://evil.example does not match any "
             "trusted origins."),
        ]
        for headers, message in cases:
            r = c.post("/auth/login", body, headers=headers)
            self.assertJSON(r, 403, {"status": 403, "errors": [
                {"code": "csrf_failed", "message": message}]})
        r = support.request(self.port, "POST", "/auth-api/browser/v1/auth/login", json_body=body)
        self.assertJSON(r, 403, {"status": 403, "errors": [
            {"code": "csrf_failed", "message": "CSRF Failed: CSRF cookie not set."}]})
        self.assertJSON(c.post("/auth/login", body), 200)
        # App clients are exempt.
        self.assertJSON(Client(self.stack, "app").post("/auth/login", body), 200)

    def test_logged_in_writes_need_the_new_token(self):
        create_user(self.stack, "csrf_two")
        c = Client(self.stack).prime()
        old = c.cookies["csrftoken"]
        c.login("csrf_two")
        self.assertNotEqual(c.cookies["csrftoken"], old)
        r = c.post("/auth/reauthenticate", {"password": GOOD_PASSWORD},
                   headers={"X-CSRFToken": old, "Cookie": "sessionid=%s; csrftoken=%s"
                            % (c.cookies["sessionid"], c.cookies["csrftoken"])})
        self.assertEqual(r.status, 403)
        self.assertJSON(c.post("/auth/reauthenticate", {"password": GOOD_PASSWORD}), 200)


class Cookies(Base):
    def test_flags(self):
        create_user(self.stack, "cookie_user")
        c = Client(self.stack)
        r = c.get("/auth/session")
        csrf = [v for v in r.header_all("Set-Cookie") if v.startswith("csrftoken=")][0]
        self.assertIn("Max-Age=31449600", csrf)
        self.assertIn("Path=/", csrf)
        self.assertIn("SameSite=Lax", csrf)
        self.assertNotIn("HttpOnly", csrf)
        # Development stack, plain HTTP, cookie_secure false: no Secure.
        self.assertNotIn("Secure", csrf)
        r = c.login("cookie_user")
        sid = [v for v in r.header_all("Set-Cookie") if v.startswith("sessionid=")][0]
        value = sid.split(";")[0].split("=", 1)[1]
        self.assertEqual(len(value), 32)
        for flag in ("HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=1209600"):
            self.assertIn(flag, sid)
        # Only the hash of the key is stored.
        self.assertEqual(self.stack.psql(
            "SELECT count(*) FROM sessions WHERE key_hash = sha256(convert_to('%s', 'UTF8'))"
            % value).strip(), "1")
        # An unknown session cookie is anonymous, not an error.
        r = support.request(self.port, "GET", "/auth-api/browser/v1/auth/session",
                            headers={"Cookie": "sessionid=unknown"})
        self.assertJSON(r, 401)


class RateLimits(Base):
    def test_failed_logins_lock_even_the_right_password(self):
        create_user(self.stack, "locked_user")
        c = Client(self.stack, "app")
        for _ in range(5):
            self.assertIn(("username_password_mismatch", "password"),
                          self.error_codes(c.login("locked_user", "wrong-password-x")))
        r = c.login("locked_user")  # correct, but locked
        self.assertJSON(r, 400, {"status": 400, "errors": [{
            "code": "too_many_login_attempts",
            "message": "Too many failed login attempts. Try again later."}]})
        # The lock is per username (and per IP after 10): another user logs in.
        create_user(self.stack, "free_user")
        self.assertJSON(c.login("free_user"), 200)

    def test_login_429_per_ip(self):
        c = Client(self.stack, "app")
        last = None
        statuses = []
        for i in range(31):
            r = c.login("nobody_%d" % i, "pw-%d" % i)
            statuses.append(r.status)
            flush_redis_failed(self.stack)
            last = r
        self.assertEqual(statuses[:30], [400] * 30)
        self.assertJSON(last, 429, {"status": 429})
        self.assertTrue(int(last.header("Retry-After")) >= 1)

    def test_code_request_limit_per_address(self):
        c = Client(self.stack, "app")
        for _ in range(3):
            self.assertJSON(c.post("/auth/code/request", {"email": "limit@example.org"}), 401)
        self.assertEqual(self.error_codes(c.post("/auth/code/request", {"email": "limit@example.org"})),
                         [("too_many_login_attempts", "email")])

    def test_password_request_limit_per_address(self):
        c = Client(self.stack, "app")
        for _ in range(5):
            self.assertJSON(c.post("/auth/password/request", {"email": "r@example.org"}), 200)
        r = c.post("/auth/password/request", {"email": "r@example.org"})
        self.assertJSON(r, 429, {"status": 429})
        self.assertTrue(r.header("Retry-After"))
        self.assertJSON(c.post("/auth/password/request", {"email": "other@example.org"}), 200)

    def test_signup_limit(self):
        c = Client(self.stack, "app")
        for i in range(20):
            r = c.post("/auth/signup", {"username": "x", "email": "bad", "password": "1"})
            self.assertEqual(r.status, 400)
        self.assertJSON(c.post("/auth/signup", {}), 429, {"status": 429})


def flush_redis_failed(st):
    """Drops only the login_failed counters (keeps the per-IP login count)."""
    with st.redis_connection() as s:
        s.sendall(b"EVAL \"for _,k in ipairs(redis.call('KEYS','openbook:rl:login_failed*')) "
                  b"do redis.call('DEL',k) end return 1\" 0\r\n")
        s.recv(64)


class Enumeration(Base):
    def test_timing_known_vs_unknown(self):
        create_user(self.stack, "timing_user")
        c = Client(self.stack, "app")
        self.assertJSON(c.login("timing_user"), 200)  # re-hashed to argon2id now

        def median(user):
            times = []
            for i in range(5):
                flush_redis(self.stack)
                t0 = time.monotonic()
                r = Client(self.stack, "app").login(user, "wrong-password-%d" % i)
                times.append(time.monotonic() - t0)
                self.assertEqual(r.status, 400)
            return statistics.median(times)

        known, unknown = median("timing_user"), median("no_such_user_t")
        self.assertLess(max(known, unknown) / min(known, unknown), 2.5, (known, unknown))

    def test_reset_request_same_answer(self):
        create_user(self.stack, "enum_user", email="enum@example.org")
        c = Client(self.stack, "app")
        a = c.post("/auth/password/request", {"email": "enum@example.org"})
        b = c.post("/auth/password/request", {"email": "nope-enum@example.org"})
        self.assertEqual((a.status, a.body), (b.status, b.body))


class BadInput(Base):
    def test_malformed_json(self):
        c = Client(self.stack, "app")
        for raw in (b"{", b"[1]", b"\"x\"", b"{\"a\":1} x", b"\xff\xfe"):
            self.assertJSON(c.post("/auth/login", raw=raw), 400, {"status": 400})

    def test_nul_and_bad_utf8_name_the_field(self):
        c = Client(self.stack, "app")
        self.assertEqual(self.error_codes(c.post("/auth/login", raw=b'{"username": "a\\u0000b", '
                                                                   b'"password": "x"}')),
                         [("invalid", "username")])
        self.assertEqual(self.error_codes(c.post("/auth/signup", raw=b'{"email": "a\xffb@x.org"}')),
                         [("invalid", "email")])

    def test_lengths_and_types(self):
        c = Client(self.stack, "app")
        self.assertIn(("max_length", "password"),
                      self.error_codes(c.login("someone", "p" * 1025)))
        self.assertIn(("invalid", "username"),
                      self.error_codes(c.post("/auth/login", {"username": 5, "password": "x"})))
        self.assertIn(("max_length", "code"),
                      self.error_codes(c.post("/auth/code/request", {"email": "x@example.org"}) and
                                       c.post("/auth/code/confirm", {"code": "B" * 65})))

    def test_wrong_content_type(self):
        r = support.request(self.port, "POST", "/auth-api/app/v1/auth/login", body=b"a=b",
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertJSON(r, 415, {"status": 415})


class Concurrency(Base):
    def test_concurrent_logins(self):
        create_user(self.stack, "busy_user")
        Client(self.stack, "app").login("busy_user")  # rehash first
        flush_redis(self.stack)
        results = []

        def one():
            c = Client(self.stack, "app")
            r = c.login("busy_user")
            results.append((r.status, c.token))

        threads = [threading.Thread(target=one) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual([s for s, _ in results], [200] * 8)
        self.assertEqual(len({t for _, t in results}), 8)
        for _, tok in results:
            r = support.request(self.port, "GET", "/auth-api/app/v1/auth/session",
                                headers={"X-Session-Token": tok})
            self.assertJSON(r, 200)


class Commands(Base):
    def run_cli(self, args, stdin="", env=None):
        e = self.stack.server_env()
        e.update(env or {})
        return subprocess.run([support.binary()] + args + ["-c", self.stack.config_path],
                              input=stdin, capture_output=True, text=True, env=e, timeout=120)

    def test_createsuperuser_no_input_and_changepassword(self):
        r = self.run_cli(["createsuperuser", "--no-input", "--username", "root_admin",
                          "--email", "Root@Example.org"],
                         env={"OPENBOOK_SUPERUSER_PASSWORD": "Super-Secret-Pass-1"})
        self.assertEqual(r.returncode, 0, r.stderr)
        row = self.stack.psql("SELECT is_staff, is_superuser, email FROM users "
                              "WHERE username = 'root_admin'").strip()
        self.assertEqual(row, "t|t|root@example.org")
        c = Client(self.stack, "app")
        self.assertJSON(c.login("root_admin", "Super-Secret-Pass-1"), 200)
        r = self.run_cli(["createsuperuser", "--no-input", "--username", "ROOT_admin",
                          "--email", "x@example.org"])
        self.assertNotEqual(r.returncode, 0)
        # changepassword: rules apply; sessions end.
        r = self.run_cli(["changepassword", "root_admin"],
                         stdin="short\nshort\nFresh-Better-Pass-2\nFresh-Better-Pass-2\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("too short", r.stderr)
        self.assertJSON(c.get("/auth/session"), 410)
        self.assertJSON(Client(self.stack, "app").login("root_admin", "Fresh-Better-Pass-2"), 200)
        r = self.run_cli(["changepassword", "no_such_person"], stdin="")
        self.assertEqual(r.returncode, 1)

    def test_createsuperuser_interactive(self):
        r = self.run_cli(["createsuperuser"],
                         stdin="inter_admin\ninter@example.org\nInter-Active-Pass-3\n"
                               "Inter-Active-Pass-3\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertJSON(Client(self.stack, "app").login("inter_admin", "Inter-Active-Pass-3"), 200)


class RedisDown(Base):
    """Last (zz): stops Redis for the rest of the module."""

    def test_zz_fallback_limits_in_process(self):
        create_user(self.stack, "fallback_user")
        self.stack._stop_proc("redis")
        c = Client(self.stack, "app")
        codes = [self.error_codes(c.login("fallback_user", "wrong-%d" % i)) for i in range(12)]
        mismatch = codes.count([("username_password_mismatch", "password")])
        locked = codes.count([("too_many_login_attempts", None)])
        # Each of the 2 workers counts alone and allows 5 // 2 = 2 failures
        # per username: at most 4 real tries in all, whichever worker answers.
        self.assertEqual(mismatch + locked, 12, codes)
        self.assertLessEqual(mismatch, 4, codes)
        self.assertGreaterEqual(mismatch, 2, codes)

    def setUp(self):
        if "redis" in self.stack.procs:
            flush_redis(self.stack)


if __name__ == "__main__":
    unittest.main()
