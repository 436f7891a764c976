"""The authentication API's flows through nginx (api-auth.md §4): sign-up ->
mail -> verify -> session -> logout, login, re-authentication, password
change and reset, login by code, e-mail management, for both clients."""

import time
import unittest

import support
from auth_support import (GOOD_PASSWORD, Client, create_user, flow_ids, flush_redis,
                          last_mail, login_code, mails, reset_key, start_auth_stack,
                          verify_key)

STACK = None


def setUpModule():
    global STACK
    STACK = start_auth_stack("authflows")
    support.StackTestCase.stack = STACK


def tearDownModule():
    support.stop_stack(STACK)


class Base(support.StackTestCase):
    def setUp(self):
        flush_redis(self.stack)

    def client(self, kind="browser"):
        return Client(self.stack, kind).prime()

    def assertAuthenticated(self, r, username):
        d = self.assertJSON(r, 200)
        self.assertEqual(d["status"], 200)
        self.assertEqual(d["data"]["user"]["username"], username)
        self.assertEqual(d["data"]["user"]["display"], username)
        self.assertIs(d["meta"]["is_authenticated"], True)
        return d

    def assertFlows(self, r, pending=None):
        d = self.assertJSON(r, 401)
        self.assertIs(d["meta"]["is_authenticated"], False)
        ids = flow_ids(d)
        self.assertEqual(ids[:2], ["login", "login_by_code"])
        if pending:
            entry = [f for f in d["data"]["flows"] if f["id"] == pending]
            self.assertEqual(entry, [{"id": pending, "is_pending": True}])
        else:
            self.assertFalse([f for f in d["data"]["flows"] if f.get("is_pending")], d)
        return d

    def assertError(self, r, code, param=None, status=400):
        d = self.assertJSON(r, status)
        self.assertEqual(d["status"], status)
        codes = [(e["code"], e.get("param")) for e in d["errors"]]
        self.assertIn((code, param), codes, d)
        return d


class ConfigAndPaths(Base):
    def test_config(self):
        for kind in ("browser", "app"):
            r = self.req("GET", "/auth-api/%s/v1/config" % kind)
            self.assertJSON(r, 200, {"status": 200, "data": {
                "account": {"login_methods": ["username"], "is_open_for_signup": True,
                            "email_verification_by_code_enabled": False,
                            "login_by_code_enabled": True,
                            "password_reset_by_code_enabled": False,
                            "authentication_method": "username"},
                "socialaccount": {"providers": []}}})
            self.assertIn("no-store", r.header("Cache-Control"))

    def test_unknown_phase2_and_phone_paths_404(self):
        for path in ("/auth/phone/verify", "/auth/phone/verify/resend", "/account/phone",
                     "/auth/provider/redirect", "/auth/provider/token", "/auth/provider/signup",
                     "/account/providers", "/tokens/refresh", "/config/", "/nothing"):
            for kind in ("browser", "app"):
                r = self.req("GET", "/auth-api/%s/v1%s" % (kind, path))
                self.assertJSON(r, 404, {"status": 404})
        self.assertJSON(self.req("GET", "/auth-api/other/v1/config"), 404, {"status": 404})

    def test_method_not_allowed(self):
        r = self.req("GET", "/auth-api/app/v1/auth/login")
        self.assertJSON(r, 405, {"status": 405})
        r = self.req("PUT", "/auth-api/app/v1/config")
        self.assertJSON(r, 405, {"status": 405})

    def test_code_resend_always_409(self):
        c = Client(self.stack, "app")
        self.assertJSON(c.post("/auth/code/resend"), 409, {"status": 409})

    def test_csrftoken_set_when_missing(self):
        r = self.req("GET", "/auth-api/browser/v1/auth/session")
        cookies = r.header_all("Set-Cookie")
        self.assertTrue(any(c.startswith("csrftoken=") for c in cookies), r)
        r = self.req("GET", "/auth-api/app/v1/auth/session")
        self.assertEqual(r.header_all("Set-Cookie"), [])


class SignupFlow(Base):
    def test_signup_verify_login_logout_browser(self):
        c = self.client()
        r = c.post("/auth/signup", {"username": "carol1", "email": " Carol@Example.ORG ",
                                    "password": GOOD_PASSWORD})
        self.assertFlows(r, pending="verify_email")
        self.assertIn("sessionid", c.cookies)
        mail = last_mail(self.stack, "carol@example.org")
        self.assertIn("Please Confirm Your Email Address", mail["subject"])
        key = verify_key(mail)
        # Stored lower-case.
        self.assertEqual(self.stack.psql("SELECT email FROM users WHERE username='carol1'").strip(),
                         "carol@example.org")
        # Unverified: no password login yet.
        other = self.client()
        self.assertFlows(other.login("carol1"), pending="verify_email")
        r = c.get("/auth/email/verify", headers={"X-Email-Verification-Key": key})
        d = self.assertJSON(r, 200)
        self.assertEqual(d["data"]["email"], "carol@example.org")
        self.assertEqual(d["data"]["user"]["username"], "carol1")
        self.assertEqual(d["meta"], {"is_authenticating": True})
        old_sid = c.cookies["sessionid"]
        r = c.post("/auth/email/verify", {"key": key})
        d = self.assertAuthenticated(r, "carol1")
        self.assertEqual(d["data"]["user"]["email"], "carol@example.org")
        self.assertTrue(d["data"]["user"]["has_usable_password"])
        self.assertNotEqual(c.cookies["sessionid"], old_sid)  # new key on login
        self.assertAuthenticated(c.get("/auth/session"), "carol1")
        # The key is spent.
        self.assertError(c.post("/auth/email/verify", {"key": key}),
                         "invalid_or_expired_key", "key")
        r = c.delete("/auth/session")
        self.assertFlows(r)
        self.assertTrue(any(v.startswith("sessionid=") and "Max-Age=0" in v
                            for v in r.header_all("Set-Cookie")), r)
        self.assertFlows(c.get("/auth/session"))
        self.assertAuthenticated(other.login("carol1"), "carol1")
        self.assertNotEqual(self.stack.psql(
            "SELECT last_login IS NOT NULL FROM users WHERE username='carol1'").strip(), "f")

    def test_signup_app_client_gets_token(self):
        c = Client(self.stack, "app")
        r = c.post("/auth/signup", {"username": "dave_app", "email": "dave@example.org",
                                    "password": GOOD_PASSWORD})
        d = self.assertFlows(r, pending="verify_email")
        self.assertTrue(d["meta"]["session_token"])
        key = verify_key(last_mail(self.stack, "dave@example.org"))
        r = c.post("/auth/email/verify", {"key": key})
        d = self.assertAuthenticated(r, "dave_app")
        self.assertTrue(d["meta"]["session_token"])
        self.assertAuthenticated(c.get("/auth/session"), "dave_app")
        # Resend without a pending stage: 409.
        self.assertJSON(c.post("/auth/email/verify/resend"), 409, {"status": 409})
        self.assertFlows(c.delete("/auth/session"))
        # The token is gone: 410.
        self.assertJSON(c.get("/auth/session"), 410,
                        {"status": 410, "data": {}, "meta": {"is_authenticated": False}})

    def test_verify_in_another_session_gives_401(self):
        c = self.client()
        c.post("/auth/signup", {"username": "erin_x", "email": "erin@example.org",
                                "password": GOOD_PASSWORD})
        key = verify_key(last_mail(self.stack, "erin@example.org"))
        other = self.client()
        r = other.get("/auth/email/verify", headers={"X-Email-Verification-Key": key})
        self.assertEqual(self.assertJSON(r, 200)["meta"], {"is_authenticating": False})
        self.assertFlows(other.post("/auth/email/verify", {"key": key}))
        self.assertAuthenticated(other.login("erin_x"), "erin_x")

    def test_signup_validation(self):
        c = self.client()
        r = c.post("/auth/signup", {})
        d = self.assertJSON(r, 400)
        self.assertEqual(sorted((e["code"], e["param"]) for e in d["errors"]),
                         [("required", "email"), ("required", "password"), ("required", "username")])
        self.assertEqual(d["errors"][0]["message"], "This field is required.")
        r = c.post("/auth/signup", {"username": "abc", "email": "nope", "password": "12345"})
        d = self.assertJSON(r, 400)
        errs = {(e["code"], e["param"]): e["message"] for e in d["errors"]}
        self.assertEqual(errs[("min_length", "username")],
                         "Ensure this value has at least 5 characters (it has 3).")
        self.assertEqual(errs[("invalid", "email")], "Enter a valid email address.")
        self.assertIn(("password_too_short", "password"), errs)
        self.assertIn(("password_entirely_numeric", "password"), errs)
        self.assertError(c.post("/auth/signup", {"username": "x" * 151, "email": "a@example.org",
                                                 "password": GOOD_PASSWORD}), "max_length", "username")
        d = self.assertError(c.post("/auth/signup", {"username": "bad name", "email": "a@example.org",
                                                     "password": GOOD_PASSWORD}), "invalid", "username")
        self.assertEqual(d["errors"][0]["message"], "Enter a valid username. This value may contain "
                         "only letters, numbers, and @/./+/-/_ characters.")
        self.assertError(c.post("/auth/signup", {"username": "Administrator", "email": "a@example.org",
                                                 "password": GOOD_PASSWORD}),
                         "username_blacklisted", "username")
        self.assertError(c.post("/auth/signup", {"username": "newuser1", "email": "a@example.org",
                                                 "password": "password"}),
                         "password_too_common", "password")
        self.assertError(c.post("/auth/signup", {"username": "newuser1", "email": "a@example.org",
                                                 "password": "newuser1x"}),
                         "password_too_similar", "password")
        self.assertError(c.post("/auth/signup", {"username": "ünicode", "email": "a@example.org",
                                                 "password": GOOD_PASSWORD}), "invalid", "username")
        create_user(self.stack, "TakenName")
        self.assertError(c.post("/auth/signup", {"username": "takenNAME", "email": "t@example.org",
                                                 "password": GOOD_PASSWORD}),
                         "username_taken", "username")

    def test_signup_existing_email_looks_the_same(self):
        create_user(self.stack, "frank_1", email="frank@example.org")
        c = self.client()
        before = len(mails(self.stack, "frank@example.org"))
        r = c.post("/auth/signup", {"username": "frank_2", "email": "FRANK@example.org",
                                    "password": GOOD_PASSWORD})
        self.assertFlows(r, pending="verify_email")
        self.assertEqual(self.stack.psql("SELECT count(*) FROM users WHERE username='frank_2'").strip(), "0")
        m = mails(self.stack, "frank@example.org")
        self.assertEqual(len(m), before + 1)
        self.assertIn("Account Already Exists", m[-1]["subject"])
        self.assertIn("/app/#/account/password/reset", m[-1]["body"])

    def test_signup_closed_and_suffix(self):
        st = self.stack
        try:
            # The initial data creates the site's config (api-resources.md section 5).
            st.psql("INSERT INTO auth_configs (site_id, local_signup_allowed) VALUES (1, false) "
                    "ON CONFLICT (site_id) DO UPDATE SET local_signup_allowed = false")
            c = self.client()
            self.assertJSON(c.post("/auth/signup", {"username": "gina_1", "email": "g@example.org",
                                                    "password": GOOD_PASSWORD}), 403, {"status": 403})
            self.assertFalse(c.get("/config").json()["data"]["account"]["is_open_for_signup"])
            d = self.assertFlows(c.get("/auth/session"))
            self.assertNotIn("signup", flow_ids(d))
            st.psql("UPDATE auth_configs SET local_signup_allowed = true, "
                    "signup_email_suffix = ' @uni.example ' WHERE site_id = 1")
            d = self.assertError(c.post("/auth/signup", {"username": "gina_1", "email": "g@example.org",
                                                         "password": GOOD_PASSWORD}), "invalid", "email")
            self.assertEqual(d["errors"][0]["message"], "This e-mail is not allowed to sign-up. "
                             "The e-mail must end with @uni.example")
            self.assertFlows(c.post("/auth/signup", {"username": "gina_1", "email": "g@UNI.example",
                                                     "password": GOOD_PASSWORD}), pending="verify_email")
        finally:
            st.psql("UPDATE auth_configs SET local_signup_allowed = true, "
                    "signup_email_suffix = '' WHERE site_id = 1")

    def test_signup_groups(self):
        st = self.stack
        # Only this test's assignments (the initial data adds new users to Student).
        st.psql("DELETE FROM signup_group_assignments")
        st.psql("INSERT INTO groups (name, slug) VALUES ('Students', 'students'), ('Other', 'other'), "
                "('Off', 'off')")
        st.psql("INSERT INTO signup_group_assignments (id, name, site_id) VALUES "
                "('00000000-0000-4000-8000-000000000001', 'all', NULL)")
        st.psql("INSERT INTO signup_group_assignments (id, name, site_id, social_app) VALUES "
                "('00000000-0000-4000-8000-000000000002', 'saml', NULL, 'urn:x')")
        st.psql("INSERT INTO signup_group_assignments (id, name, is_active) VALUES "
                "('00000000-0000-4000-8000-000000000003', 'inactive', false)")
        st.psql("INSERT INTO signup_group_assignment_groups SELECT "
                "'00000000-0000-4000-8000-000000000001', id FROM groups WHERE slug = 'students'")
        st.psql("INSERT INTO signup_group_assignment_groups SELECT "
                "'00000000-0000-4000-8000-000000000002', id FROM groups WHERE slug = 'other'")
        st.psql("INSERT INTO signup_group_assignment_groups SELECT "
                "'00000000-0000-4000-8000-000000000003', id FROM groups WHERE slug = 'off'")
        c = self.client()
        c.post("/auth/signup", {"username": "hank_1", "email": "hank@example.org",
                                "password": GOOD_PASSWORD})
        slugs = st.psql("SELECT g.slug FROM user_groups ug JOIN groups g ON g.id = ug.group_id "
                        "JOIN users u ON u.id = ug.user_id WHERE u.username = 'hank_1'").split()
        self.assertEqual(slugs, ["students"])

    def test_resend_verification(self):
        c = self.client()
        c.post("/auth/signup", {"username": "ivy_1", "email": "ivy@example.org",
                                "password": GOOD_PASSWORD})
        # Within the cooldown.
        r = c.post("/auth/email/verify/resend")
        self.assertJSON(r, 429, {"status": 429})
        self.assertTrue(r.header("Retry-After"))
        self.stack.psql("UPDATE email_addresses SET last_sent_at = now() - interval '1 hour' "
                        "WHERE email = 'ivy@example.org'")
        n = len(mails(self.stack, "ivy@example.org"))
        self.assertJSON(c.post("/auth/email/verify/resend"), 200, {"status": 200})
        self.assertEqual(len(mails(self.stack, "ivy@example.org")), n + 1)
        # Both keys work (the newer one here).
        key = verify_key(last_mail(self.stack, "ivy@example.org"))
        self.assertAuthenticated(c.post("/auth/email/verify", {"key": key}), "ivy_1")


class Login(Base):
    def test_pbkdf2_rehash_and_methods(self):
        create_user(self.stack, "Judy_1")
        self.assertTrue(self.stack.psql("SELECT password FROM users WHERE username='Judy_1'")
                        .startswith("pbkdf2_sha256$"))
        c = self.client()
        csrf_before = c.cookies["csrftoken"]
        r = c.login("judy_1")  # case-insensitive
        d = self.assertAuthenticated(r, "Judy_1")
        self.assertEqual(len(d["data"]["methods"]), 1)
        m = d["data"]["methods"][0]
        self.assertEqual(list(m), ["method", "at", "username"])
        self.assertEqual(m["method"], "password")
        self.assertEqual(m["username"], "Judy_1")
        self.assertIsInstance(m["at"], float)
        self.assertLess(abs(m["at"] - time.time()), 120)
        self.assertNotEqual(c.cookies["csrftoken"], csrf_before)  # rotated on login
        self.assertTrue(self.stack.psql("SELECT password FROM users WHERE username='Judy_1'")
                        .startswith("$argon2id$"))
        self.assertJSON(c.login("Judy_1"), 409, {"status": 409})
        c2 = self.client()
        self.assertAuthenticated(c2.login("JUDY_1"), "Judy_1")  # argon2 now

    def test_wrong_unknown_inactive_app_all_alike(self):
        create_user(self.stack, "kim_active")
        create_user(self.stack, "kim_inactive", is_active=False)
        create_user(self.stack, "kim_app", user_type="app")
        create_user(self.stack, "kim_nopass", password=None)
        bodies = set()
        for user, pw in (("kim_active", "wrong-password-1"), ("nobody_here", GOOD_PASSWORD),
                         ("kim_inactive", GOOD_PASSWORD), ("kim_app", GOOD_PASSWORD),
                         ("kim_nopass", "")):
            flush_redis(self.stack)
            c = Client(self.stack, "app")
            if not pw:
                pw = "anything-at-all"
            r = c.login(user, pw)
            d = self.assertJSON(r, 400)
            bodies.add(r.body)
            self.assertEqual(d, {"status": 400, "errors": [{
                "code": "username_password_mismatch",
                "message": "The username and/or password you specified are not correct.",
                "param": "password"}]})
        self.assertEqual(len(bodies), 1)

    def test_missing_fields(self):
        c = Client(self.stack, "app")
        d = self.assertJSON(c.post("/auth/login", {}), 400)
        self.assertEqual(sorted(e["param"] for e in d["errors"]), ["password", "username"])
        self.assertTrue(all(e["code"] == "required" for e in d["errors"]))

    def test_reauthenticate(self):
        create_user(self.stack, "leo_re")
        c = Client(self.stack, "app")
        self.assertFlows(c.post("/auth/reauthenticate", {"password": GOOD_PASSWORD}))
        c.login("leo_re")
        tok = c.token
        self.assertError(c.post("/auth/reauthenticate", {"password": "nope-nope-nope"}),
                         "incorrect_password", "password")
        r = c.post("/auth/reauthenticate", {"password": GOOD_PASSWORD})
        d = self.assertAuthenticated(r, "leo_re")
        self.assertNotEqual(d["meta"]["session_token"], tok)  # new key
        self.assertEqual([m["method"] for m in d["data"]["methods"]], ["password", "password"])
        self.assertIs(d["data"]["methods"][1]["reauthenticated"], True)
        self.assertJSON(support.request(self.port, "GET", "/auth-api/app/v1/auth/session",
                                        headers={"X-Session-Token": tok}), 410)

    def test_password_change(self):
        create_user(self.stack, "mia_pw")
        a, b = self.client(), self.client()
        a.login("mia_pw")
        b.login("mia_pw")
        sid = a.cookies["sessionid"]
        self.assertError(a.post("/account/password/change", {"current_password": "wrong",
                                                             "new_password": "Another-Good-Pass-99"}),
                         "enter_current_password", "current_password")
        self.assertError(a.post("/account/password/change", {"current_password": GOOD_PASSWORD,
                                                             "new_password": "short"}),
                         "password_too_short", "new_password")
        r = a.post("/account/password/change", {"current_password": GOOD_PASSWORD,
                                               "new_password": "Another-Good-Pass-99"})
        self.assertAuthenticated(r, "mia_pw")
        self.assertNotEqual(a.cookies["sessionid"], sid)
        self.assertAuthenticated(a.get("/auth/session"), "mia_pw")
        self.assertFlows(b.get("/auth/session"))  # other sessions ended
        self.assertAuthenticated(self.client().login("mia_pw", "Another-Good-Pass-99"), "mia_pw")
        self.assertFlows(self.client().post("/account/password/change", {"new_password": "x"}))

    def test_set_password_without_usable_one(self):
        uid = create_user(self.stack, "ned_nopw", password=None)
        c = self.client()
        # A session for the user (as after a provider login), made directly.
        self.stack.psql("UPDATE users SET password = '!' WHERE id = %d" % uid)
        c.post("/auth/code/request", {"email": "ned_nopw@example.org"})
        code = login_code(last_mail(self.stack, "ned_nopw@example.org"))
        d = self.assertAuthenticated(c.post("/auth/code/confirm", {"code": code}), "ned_nopw")
        self.assertFalse(d["data"]["user"]["has_usable_password"])
        r = c.post("/account/password/change", {"new_password": "Another-Good-Pass-99"})
        d = self.assertAuthenticated(r, "ned_nopw")
        self.assertTrue(d["data"]["user"]["has_usable_password"])


class PasswordReset(Base):
    def test_reset_flow(self):
        create_user(self.stack, "olga_r", email="olga@example.org")
        logged = self.client()
        logged.login("olga_r")
        c = self.client()
        self.assertError(c.post("/auth/password/request", {}), "required", "email")
        self.assertError(c.post("/auth/password/request", {"email": "x"}), "invalid", "email")
        self.assertJSON(c.post("/auth/password/request", {"email": "OLGA@example.org"}), 200,
                        {"status": 200})
        mail = last_mail(self.stack, "olga@example.org")
        self.assertIn("Password Reset Email", mail["subject"])
        self.assertIn("olga_r", mail["body"])
        key = reset_key(mail)
        r = c.get("/auth/password/reset", headers={"X-Password-Reset-Key": key})
        d = self.assertJSON(r, 200)
        self.assertEqual(d["data"]["user"]["username"], "olga_r")
        self.assertError(c.get("/auth/password/reset", headers={"X-Password-Reset-Key": "nope"}),
                         "invalid_password_reset", "key")
        self.assertError(c.post("/auth/password/reset", {"key": key, "password": "olga_r123"}),
                         "password_too_similar", "password")
        self.assertFlows(c.post("/auth/password/reset", {"key": key, "password": "Brand-New-Pass-77"}))
        self.assertFlows(logged.get("/auth/session"))  # all sessions ended
        self.assertError(c.post("/auth/password/reset", {"key": key, "password": "Brand-New-Pass-78"}),
                         "invalid_password_reset", "key")
        self.assertAuthenticated(self.client().login("olga_r", "Brand-New-Pass-77"), "olga_r")

    def test_unknown_address_gets_unknown_account_mail(self):
        c = self.client()
        r = c.post("/auth/password/request", {"email": "ghost@example.org"})
        self.assertJSON(r, 200, {"status": 200})
        mail = last_mail(self.stack, "ghost@example.org")
        self.assertIn("Unknown Account", mail["subject"])
        self.assertIn("/app/#/account/signup", mail["body"])

    def test_key_dies_after_login(self):
        create_user(self.stack, "pete_r", email="pete@example.org")
        c = self.client()
        c.post("/auth/password/request", {"email": "pete@example.org"})
        key = reset_key(last_mail(self.stack, "pete@example.org"))
        self.assertAuthenticated(self.client().login("pete_r"), "pete_r")
        self.assertError(c.get("/auth/password/reset", headers={"X-Password-Reset-Key": key}),
                         "invalid_password_reset", "key")


class LoginByCode(Base):
    def test_code_flow(self):
        create_user(self.stack, "quinn_c", email="quinn@example.org", verified=False)
        c = self.client()
        self.assertJSON(c.post("/auth/code/confirm", {"code": "BCDF-GHJK"}), 409, {"status": 409})
        self.assertError(c.post("/auth/code/request", {"email": "bad"}), "invalid", "email")
        r = c.post("/auth/code/request", {"email": "Quinn@Example.org"})
        self.assertFlows(r, pending="login_by_code")
        mail = last_mail(self.stack, "quinn@example.org")
        self.assertIn("Sign-In Code", mail["subject"])
        code = login_code(mail)
        self.assertError(c.post("/auth/code/confirm", {"code": "BCDF-BCDF"}), "incorrect_code", "code")
        # Case, dashes and spaces do not matter.
        r = c.post("/auth/code/confirm", {"code": " " + code.lower().replace("-", " - ") + " "})
        d = self.assertAuthenticated(r, "quinn_c")
        self.assertEqual(d["data"]["methods"][0]["method"], "code")
        self.assertEqual(d["data"]["methods"][0]["email"], "quinn@example.org")
        self.assertEqual(self.stack.psql("SELECT verified FROM email_addresses "
                                         "WHERE email='quinn@example.org'").strip(), "t")

    def test_three_wrong_codes_end_the_stage(self):
        create_user(self.stack, "rita_c", email="rita@example.org")
        c = Client(self.stack, "app")
        c.post("/auth/code/request", {"email": "rita@example.org"})
        code = login_code(last_mail(self.stack, "rita@example.org"))
        for _ in range(3):
            self.assertError(c.post("/auth/code/confirm", {"code": "ZZZZ-ZZZZ"}), "incorrect_code", "code")
        self.assertJSON(c.post("/auth/code/confirm", {"code": code}), 409, {"status": 409})

    def test_unknown_address(self):
        c = self.client()
        r = c.post("/auth/code/request", {"email": "nobody@example.org"})
        self.assertFlows(r, pending="login_by_code")
        self.assertIn("Unknown Account", last_mail(self.stack, "nobody@example.org")["subject"])
        self.assertError(c.post("/auth/code/confirm", {"code": "BCDF-GHJK"}), "incorrect_code", "code")

    def test_expired_code(self):
        create_user(self.stack, "sam_c", email="sam@example.org")
        c = self.client()
        c.post("/auth/code/request", {"email": "sam@example.org"})
        code = login_code(last_mail(self.stack, "sam@example.org"))
        self.stack.psql("UPDATE sessions SET data = jsonb_set(data, '{stage,expires}', '1') "
                        "WHERE data ? 'stage'")
        self.assertJSON(c.post("/auth/code/confirm", {"code": code}), 409, {"status": 409})


class EmailManagement(Base):
    def test_manage(self):
        create_user(self.stack, "tina_e", email="tina@example.org")
        c = self.client()
        self.assertFlows(c.get("/account/email"))
        c.login("tina_e")
        r = c.get("/account/email")
        self.assertJSON(r, 200, {"status": 200, "data": [
            {"email": "tina@example.org", "primary": True, "verified": True}]})
        r = c.post("/account/email", {"email": "Tina2@Example.org"})
        self.assertJSON(r, 200, {"status": 200, "data": [
            {"email": "tina@example.org", "primary": True, "verified": True},
            {"email": "tina2@example.org", "primary": False, "verified": False}]})
        self.assertError(c.post("/account/email", {"email": "tina2@example.org"}),
                         "duplicate_email", "email")
        self.assertError(c.put("/account/email", {"email": "zzz@example.org"}), "unknown_email", "email")
        self.assertJSON(c.put("/account/email", {"email": "tina2@example.org"}), 403, {"status": 403})
        self.assertError(c.patch("/account/email", {"email": "tina2@example.org", "primary": True}),
                         "unverified_primary_email", "email")
        key = verify_key(last_mail(self.stack, "tina2@example.org"))
        self.assertFlows(self.client().post("/auth/email/verify", {"key": key}))
        r = c.patch("/account/email", {"email": "tina2@example.org", "primary": True})
        self.assertJSON(r, 200, {"status": 200, "data": [
            {"email": "tina@example.org", "primary": False, "verified": True},
            {"email": "tina2@example.org", "primary": True, "verified": True}]})
        self.assertEqual(c.get("/auth/session").json()["data"]["user"]["email"], "tina2@example.org")
        self.assertError(c.delete("/account/email", {"email": "tina2@example.org"}),
                         "cannot_remove_primary_email", "email")
        r = c.delete("/account/email", {"email": "tina@example.org"})
        self.assertJSON(r, 200, {"status": 200, "data": [
            {"email": "tina2@example.org", "primary": True, "verified": True}]})

    def test_max_and_taken_and_reauth(self):
        create_user(self.stack, "uma_e", email="uma@example.org")
        create_user(self.stack, "other_e", email="shared@example.org")
        c = Client(self.stack, "app")
        c.login("uma_e")
        # An address of another account is added like any other ...
        self.assertJSON(c.post("/account/email", {"email": "shared@example.org"}), 200)
        key = verify_key(last_mail(self.stack, "shared@example.org"))
        # ... and its verification fails.
        self.assertError(c.post("/auth/email/verify", {"key": key}), "email_taken", "key")
        for i in range(8):
            self.assertJSON(c.post("/account/email", {"email": "u%d@example.org" % i}), 200)
        d = self.assertError(c.post("/account/email", {"email": "one-more@example.org"}),
                             "max_email_addresses", "email")
        self.assertEqual(d["errors"][0]["message"], "You cannot add more than 10 email addresses.")
        flush_redis(self.stack)  # manage_email allows 10 changes a minute
        # Past the re-authentication window: 401 with the reauthenticate flow.
        self.stack.psql("UPDATE sessions SET data = jsonb_set(data, '{methods,0,at}', '1000') "
                        "WHERE user_id = (SELECT id FROM users WHERE username = 'uma_e')")
        r = c.delete("/account/email", {"email": "u1@example.org"})
        d = self.assertJSON(r, 401)
        self.assertIs(d["meta"]["is_authenticated"], True)
        self.assertEqual(d["data"]["flows"], [{"id": "reauthenticate"}])
        self.assertEqual(d["data"]["user"]["username"], "uma_e")
        self.assertJSON(c.get("/account/email"), 200)
        c.post("/auth/reauthenticate", {"password": GOOD_PASSWORD})
        self.assertJSON(c.delete("/account/email", {"email": "u1@example.org"}), 200)


class German(Base):
    def test_messages_follow_language(self):
        c = Client(self.stack, "app")
        r = c.post("/auth/login", {"username": "nobody_de", "password": "whatever-1"},
                   headers={"Accept-Language": "de"})
        d = self.assertJSON(r, 400)
        self.assertEqual(d["errors"][0]["code"], "username_password_mismatch")
        self.assertEqual(d["errors"][0]["message"],
                         "Der Anmeldename und/oder das Passwort sind leider falsch.")


if __name__ == "__main__":
    unittest.main()
