"""Abuse resistance of the authentication API (api-auth.md §7, api-conventions
§11): CSRF, cookie flags, rate limits (Redis and the in-process fallback),
limits that hold under parallel requests, no user enumeration (equal work
on every path), who a login code may log in, one verified owner per
address, malformed input, concurrent logins, and the createsuperuser /
changepassword commands.

The stack logs at debug level: the server then logs every argon2id/pbkdf2
hash and verification ("password: ..."), which the equal-work tests
count."""

import http.client
import json
import os
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
    STACK = start_auth_stack("authsec", config={"server": {"log_level": "debug"}})
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


def verified_owners(st, email):
    """Usernames of the accounts that verified the address, sorted."""
    return st.psql("SELECT string_agg(u.username, ',' ORDER BY u.username) FROM email_addresses e "
                   "JOIN users u ON u.id = e.user_id WHERE lower(e.email) = lower('%s') "
                   "AND e.verified" % email).strip()


class AddressOwnership(Base):
    """A login code logs in the account that verified its address (or the
    only account that holds it), and no path verifies an address that
    another account has verified (api-auth.md §4.5, §4.11, §4.12)."""

    def request_code(self, email):
        c = Client(self.stack, "app")
        self.assertJSON(c.post("/auth/code/request", {"email": email}), 401)
        return c

    def test_code_logs_in_the_verified_owner(self):
        # The account that merely added the address is older (smaller id).
        create_user(self.stack, "claim_thief", email="thief@example.org")
        create_user(self.stack, "claim_owner", email="owned@example.org")
        thief = Client(self.stack, "app")
        self.assertJSON(thief.login("claim_thief"), 200)
        self.assertJSON(thief.post("/account/email", {"email": "owned@example.org"}), 200)
        owner = self.request_code("owned@example.org")
        m = last_mail(self.stack, "owned@example.org")
        self.assertEqual(m["subject"], "[OpenBook] Sign-In Code")
        d = self.assertJSON(owner.post("/auth/code/confirm", {"code": login_code(m)}), 200)
        self.assertEqual(d["data"]["user"]["username"], "claim_owner")
        self.assertEqual(verified_owners(self.stack, "owned@example.org"), "claim_owner")

    def test_no_code_when_several_accounts_hold_it_unverified(self):
        create_user(self.stack, "amb_one", email="amb@example.org", verified=False)
        create_user(self.stack, "amb_two", email="amb@example.org", verified=False)
        c = self.request_code("amb@example.org")
        self.assertEqual(last_mail(self.stack, "amb@example.org")["subject"],
                         "[OpenBook] Unknown Account")
        self.assertEqual(c.post("/auth/code/confirm", {"code": "BBBB-BBBB"}).status, 400)
        self.assertEqual(verified_owners(self.stack, "amb@example.org"), "")

    def test_code_never_verifies_an_address_verified_meanwhile(self):
        create_user(self.stack, "late_holder", email="contested@example.org", verified=False)
        c = self.request_code("contested@example.org")
        code = login_code(last_mail(self.stack, "contested@example.org"))
        # Before the code is entered, another account verifies the address.
        create_user(self.stack, "quick_owner", email="contested@example.org", verified=True)
        self.assertJSON(c.post("/auth/code/confirm", {"code": code}), 400, {
            "status": 400, "errors": [{
                "code": "email_taken", "param": "code",
                "message": "A user is already registered with this email address."}]})
        self.assertJSON(c.post("/auth/code/confirm", {"code": code}), 409)
        self.assertEqual(verified_owners(self.stack, "contested@example.org"), "quick_owner")

    def test_database_refuses_a_second_verified_owner(self):
        create_user(self.stack, "dup_first", email="dup@example.org")
        other = create_user(self.stack, "dup_second", email="dup-second@example.org")
        with self.assertRaisesRegex(Exception, "email_addresses_verified_email"):
            self.stack.psql("INSERT INTO email_addresses (user_id, email, verified) "
                            "VALUES (%d, 'DUP@example.org', true)" % other)
        self.assertEqual(verified_owners(self.stack, "dup@example.org"), "dup_first")

    def test_migration_keeps_the_oldest_verified_owner(self):
        path = os.path.join(support.REPO, "src", "db", "migrations",
                            "0006_verified_email_owner.sql")
        with open(path) as f:
            migration = f.read()
        ids = [create_user(self.stack, "mig_%d" % i, email="mig-%d@example.org" % i)
               for i in range(3)]
        # As an older server could leave it: three accounts verified one address.
        self.stack.psql("DROP INDEX email_addresses_verified_email; DROP INDEX users_email_lower")
        for uid in ids[1:]:
            self.stack.psql("INSERT INTO email_addresses (user_id, email, verified) "
                            "VALUES (%d, 'Mig-0@Example.org', true)" % uid)
        self.stack.psql(migration)
        self.assertEqual(verified_owners(self.stack, "mig-0@example.org"), "mig_0")
        self.assertEqual(self.stack.psql(
            "SELECT count(*) FROM email_addresses WHERE lower(email) = 'mig-0@example.org'"
        ).strip(), "3")

    def test_admin_cannot_give_a_verified_address_to_a_second_account(self):
        create_user(self.stack, "adm_root")
        self.stack.psql("UPDATE users SET is_staff = true, is_superuser = true "
                        "WHERE username = 'adm_root'")
        create_user(self.stack, "adm_owner", email="adm-owned@example.org")
        create_user(self.stack, "adm_other", email="adm-other@example.org")
        c = Client(self.stack, "app")
        self.assertJSON(c.login("adm_root"), 200)
        r = support.request(self.port, "PATCH", "/api/auth/users/adm_other/",
                            json_body={"email": "Adm-Owned@example.org"},
                            headers={"X-Session-Token": c.token})
        self.assertJSON(r, 400, {"email": [
            "A user is already registered with this email address."]})
        self.assertEqual(verified_owners(self.stack, "adm-owned@example.org"), "adm_owner")


class EqualWork(Base):
    """Paths that must not tell whether an account exists do the same
    password work (api-auth.md §4.2, §4.3).  At debug level the server logs
    one line per hash and per verification; the counts are compared, since
    times are not for tests."""

    def work(self, fn):
        path = self.stack.log_path("openbook")
        mark = os.path.getsize(path)
        r = fn()
        with open(path, "rb") as f:
            f.seek(mark)
            text = f.read().decode("utf-8", "replace")
        return r.status, text.count("password: hash"), text.count("password: verify")

    def test_signup_hashes_once_whether_or_not_the_address_exists(self):
        create_user(self.stack, "work_taken", email="work-taken@example.org")

        def signup(name, email):
            return Client(self.stack, "app").post("/auth/signup", {
                "username": name, "email": email, "password": GOOD_PASSWORD})

        self.assertEqual(self.work(lambda: signup("work_new", "work-new@example.org")),
                         (401, 1, 0))
        self.assertEqual(self.work(lambda: signup("work_again", "work-taken@example.org")),
                         (401, 1, 0))

    def test_login_verifies_once_whether_or_not_the_user_exists(self):
        create_user(self.stack, "work_known")
        self.assertJSON(Client(self.stack, "app").login("work_known"), 200)  # argon2id now
        for name in ("work_known", "work_unknown", "WORK_KNOWN"):
            self.assertEqual(self.work(lambda: Client(self.stack, "app").login(name, "wrong-pw-1")),
                             (400, 0, 1), name)


class Lockout(Base):
    def test_lookalike_spellings_share_one_counter(self):
        # PostgreSQL's lower() takes K (U+212A) to k and İ (U+0130) to i,
        # so these spellings log in to the same account ...
        create_user(self.stack, "kiki_probe")
        for spelling in ("\u212aiki_probe", "k\u0130ki_probe"):
            d = self.assertJSON(Client(self.stack, "app").login(spelling), 200)
            self.assertEqual(d["data"]["user"]["username"], "kiki_probe")
        # ... and so they must count against the same failures.
        create_user(self.stack, "kiki_lock")
        c = Client(self.stack, "app")
        for spelling in ("\u212aiki_lock", "k\u0130ki_lock", "KIKI_LOCK", "ki\u212ai_lock",
                         "\u212a\u0130\u212a\u0130_lock"):
            self.assertEqual(self.error_codes(c.login(spelling, "wrong-password-x")),
                             [("username_password_mismatch", "password")], spelling)
        for spelling in ("kiki_lock", "\u212aiki_lock"):
            self.assertEqual(self.error_codes(c.login(spelling)),
                             [("too_many_login_attempts", None)], spelling)

    def test_a_correct_password_does_not_count(self):
        create_user(self.stack, "count_user")
        c = Client(self.stack, "app")
        for _ in range(4):
            c.login("count_user", "wrong-password-y")
        self.assertJSON(c.login("count_user"), 200)
        c = Client(self.stack, "app")
        self.assertEqual(self.error_codes(c.login("count_user", "wrong-password-y")),
                         [("username_password_mismatch", "password")])
        self.assertEqual(self.error_codes(c.login("count_user")),
                         [("too_many_login_attempts", None)])


class ParallelLimits(Base):
    """Limits that are counted before the check they guard, so that
    parallel requests cannot all pass it (check-then-act)."""

    def parallel(self, n, method, path, bodies, headers):
        """Sends n requests at once, each on a connection opened before any
        is sent; returns (status, parsed body) per request."""
        conns = [http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                 for _ in range(n)]
        for c in conns:
            c.connect()
        results = [None] * n
        start = threading.Barrier(n)

        def one(i):
            h = dict(headers(i))
            h["Content-Type"] = "application/json"
            start.wait()
            conns[i].request(method, path, body=json.dumps(bodies(i)).encode(), headers=h)
            r = conns[i].getresponse()
            results[i] = (r.status, json.loads(r.read()))
            conns[i].close()

        threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return results

    def test_code_tries(self):
        # A few rounds: each is exact when the count is atomic, while a
        # read-then-rewrite count needs two requests to overlap to break.
        for n in range(3):
            email = "par-code-%d@example.org" % n
            create_user(self.stack, "par_code_%d" % n, email=email)
            c = Client(self.stack, "app")
            self.assertJSON(c.post("/auth/code/request", {"email": email}), 401)
            code = login_code(last_mail(self.stack, email))
            wrong = "BBBB-BBBB" if code != "BBBB-BBBB" else "CCCC-CCCC"
            results = self.parallel(20, "POST", "/auth-api/app/v1/auth/code/confirm",
                                    lambda i: {"code": wrong},
                                    lambda i: {"X-Session-Token": c.token})
            statuses = sorted(s for s, _ in results)
            self.assertEqual(statuses, [400] * 3 + [409] * 17, results)
            self.assertJSON(c.post("/auth/code/confirm", {"code": code}), 409)

    def test_login_lockout(self):
        create_user(self.stack, "par_login")
        self.assertJSON(Client(self.stack, "app").login("par_login"), 200)  # argon2id now
        flush_redis(self.stack)

        results = self.parallel(10, "POST", "/auth-api/app/v1/auth/login",
                                lambda i: {"username": "par_login", "password": "wrong-pw-%d" % i},
                                lambda i: {})
        codes = sorted((s, tuple(e["code"] for e in d.get("errors", []))) for s, d in results)
        self.assertEqual(codes, [(400, ("too_many_login_attempts",))] * 5 +
                         [(400, ("username_password_mismatch",))] * 5, results)
        self.assertEqual(self.error_codes(Client(self.stack, "app").login("par_login")),
                         [("too_many_login_attempts", None)])


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
