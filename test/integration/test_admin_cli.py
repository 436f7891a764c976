"""The administrator's command line against a running stack:

- `openbook user list|show|create|activate|deactivate|set-password|
  make-staff|make-superuser`: what it changes is what the API sees (logins,
  sessions, flags), --json for scripts, the exit codes of the README
  (0 ok, 1 runtime error, 2 usage or invalid value, 3 not found,
  4 conflict);
- `openbook site show|set`: the same site the API serves, validated as the
  API validates;
- `openbook cleanup`: removes exactly what has expired (sessions, login
  stages, one-time keys, old mail, stale staged uploads, stream entries
  over the cap), in bounded batches, idempotently, with a report.
"""

import json
import os
import shutil
import subprocess
import time
import unittest

import support
from auth_support import GOOD_PASSWORD, Client, create_user, flush_redis, sql_literal, \
    start_auth_stack
from test_relay_client import stack_redis

STACK = None


def setUpModule():
    global STACK
    STACK = start_auth_stack("admin-cli")
    support.StackTestCase.stack = STACK


def tearDownModule():
    support.StackTestCase.stack = None
    support.stop_stack(STACK)


class CliTestCase(support.StackTestCase):
    def run_cli(self, args, stdin="", env=None):
        e = self.stack.server_env()
        e.update(env or {})
        return subprocess.run([self.stack.binary] + args + ["-c", self.stack.config_path],
                              input=stdin, capture_output=True, text=True, env=e, timeout=120)

    def cli_json(self, args, stdin="", code=0):
        r = self.run_cli(args + ["--json"], stdin)
        self.assertEqual(r.returncode, code, "%s\nstdout: %s\nstderr: %s"
                         % (args, r.stdout, r.stderr))
        return json.loads(r.stdout) if code == 0 else r

    def assertExit(self, r, code):
        self.assertEqual(r.returncode, code, "stdout: %s\nstderr: %s" % (r.stdout, r.stderr))

    def setUp(self):
        flush_redis(self.stack)   # rate limits of the logins below


class UserCommands(CliTestCase):
    def test_create_then_login(self):
        u = self.cli_json(["user", "create", "cli_alice", "--email", "Alice@Example.org",
                           "--first-name", "Alice", "--password-stdin"], GOOD_PASSWORD + "\n")
        self.assertEqual((u["username"], u["email"], u["first_name"]),
                         ("cli_alice", "alice@example.org", "Alice"))
        self.assertEqual((u["is_active"], u["is_staff"], u["is_superuser"]), (True, False, False))
        self.assertEqual(u["email_addresses"],
                         [{"email": "alice@example.org", "verified": True, "primary": True}])
        c = Client(self.stack).prime()
        self.assertEqual(c.login("cli_alice").status, 200, c.last)
        # The same name again, in any case: 4, nothing changed.
        r = self.run_cli(["user", "create", "CLI_Alice", "--no-password"])
        self.assertExit(r, 4)
        self.assertIn("already exists", r.stderr)

    def test_create_refuses_invalid_values(self):
        for args, stdin, why in (
                (["user", "create", "cli_weak", "--password-stdin"], "12345678\n", "numeric"),
                (["user", "create", "cli_weak", "--password-stdin"], "password\n", "common"),
                (["user", "create", "cli_weak", "--email", "nope", "--no-password"], "", "e-mail"),
                (["user", "create", "abc", "--no-password"], "", "username"),
                (["user", "create", "cli weak", "--no-password"], "", "username")):
            r = self.run_cli(args, stdin)
            self.assertExit(r, 2)
            self.assertTrue(r.stderr.strip(), why)
        self.assertExit(self.run_cli(["user", "show", "cli_weak"]), 3)

    def test_create_with_a_taken_verified_address_is_a_conflict(self):
        create_user(self.stack, "cli_owner", email="owned@example.org")
        r = self.run_cli(["user", "create", "cli_second", "--email", "owned@example.org",
                          "--no-password"])
        self.assertExit(r, 4)
        self.assertExit(self.run_cli(["user", "show", "cli_second"]), 3)

    def test_show(self):
        uid = create_user(self.stack, "cli_bob")
        self.stack.psql("INSERT INTO groups (name, slug) VALUES ('Editors', 'editors');"
                        "INSERT INTO user_groups SELECT %d, id FROM groups WHERE slug = 'editors'"
                        % uid)
        c = Client(self.stack).prime()
        self.assertEqual(c.login("cli_bob").status, 200)
        u = self.cli_json(["user", "show", "CLI_BOB"])
        self.assertEqual((u["id"], u["username"], u["groups"], u["active_sessions"]),
                         (uid, "cli_bob", ["Editors"], 1))
        self.assertRegex(u["last_login"] or "", r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        text = self.run_cli(["user", "show", "cli_bob"])
        self.assertExit(text, 0)
        self.assertIn("Editors", text.stdout)
        self.assertIn("cli_bob@example.org (primary, verified)", text.stdout)
        r = self.run_cli(["user", "show", "nobody_here"])
        self.assertExit(r, 3)
        self.assertIn("does not exist", r.stderr)

    def test_list_and_filters(self):
        create_user(self.stack, "cli_list_a")
        b = create_user(self.stack, "cli_list_b")
        create_user(self.stack, "cli_list_c", is_active=False)
        self.stack.psql("UPDATE users SET is_staff = true WHERE id = %d" % b)
        names = [u["username"] for u in self.cli_json(["user", "list", "--search", "cli_list"])]
        self.assertEqual(names, ["cli_list_a", "cli_list_b", "cli_list_c"])
        staff = [u["username"] for u in self.cli_json(["user", "list", "--staff",
                                                       "--search", "cli_list"])]
        self.assertEqual(staff, ["cli_list_b"])
        inactive = [u["username"] for u in self.cli_json(["user", "list", "--inactive",
                                                          "--search", "list_"])]
        self.assertEqual(inactive, ["cli_list_c"])
        self.assertEqual(len(self.cli_json(["user", "list", "--limit", "2"])), 2)
        # LIKE wildcards in --search are literal.
        self.assertEqual(self.cli_json(["user", "list", "--search", "cli%list"]), [])
        text = self.run_cli(["user", "list", "--search", "cli_list"])
        self.assertExit(text, 0)
        self.assertEqual(len(text.stdout.strip().splitlines()), 4)   # header + 3

    def test_deactivate_ends_sessions_and_logins(self):
        create_user(self.stack, "cli_carol")
        c = Client(self.stack).prime()
        self.assertEqual(c.login("cli_carol").status, 200)
        self.assertEqual(c.get("/auth/session").status, 200)
        u = self.cli_json(["user", "deactivate", "cli_carol"])
        self.assertEqual((u["is_active"], u["active_sessions"]), (False, 0))
        self.assertEqual(c.get("/auth/session").status, 401, c.last)
        self.assertNotEqual(Client(self.stack).prime().login("cli_carol").status, 200)
        self.assertTrue(self.cli_json(["user", "activate", "cli_carol"])["is_active"])
        self.assertEqual(Client(self.stack).prime().login("cli_carol").status, 200)
        self.assertExit(self.run_cli(["user", "deactivate", "ghost_user"]), 3)

    def test_set_password(self):
        create_user(self.stack, "cli_dave")
        c = Client(self.stack).prime()
        self.assertEqual(c.login("cli_dave").status, 200)
        new = "Tangerine-Quarry-77!"
        self.cli_json(["user", "set-password", "cli_dave", "--password-stdin"], new + "\n")
        self.assertEqual(c.get("/auth/session").status, 401, c.last)
        self.assertNotEqual(Client(self.stack).prime().login("cli_dave").status, 200)
        self.assertEqual(Client(self.stack).prime().login("cli_dave", new).status, 200)
        # The rules apply (similar to the username), nothing changes.
        r = self.run_cli(["user", "set-password", "cli_dave", "--password-stdin"], "cli_dave1\n")
        self.assertExit(r, 2)
        self.assertEqual(Client(self.stack).prime().login("cli_dave", new).status, 200)
        self.assertExit(self.run_cli(["user", "set-password", "ghost_user", "--password-stdin"],
                                     new + "\n"), 3)

    def test_staff_and_superuser(self):
        create_user(self.stack, "cli_erin")
        u = self.cli_json(["user", "make-staff", "cli_erin"])
        self.assertEqual((u["is_staff"], u["is_superuser"]), (True, False))
        u = self.cli_json(["user", "make-superuser", "cli_erin"])
        self.assertEqual((u["is_staff"], u["is_superuser"]), (True, True))
        # What the API grants follows: a superuser sees every user's e-mail.
        c = Client(self.stack).prime()
        self.assertEqual(c.login("cli_erin").status, 200)
        r = support.request(self.stack.port, "GET", "/api/auth/users/?email=cli_erin@example.org",
                            headers={"Cookie": "sessionid=%s" % c.cookies["sessionid"]})
        self.assertEqual(r.status, 200, r)
        u = self.cli_json(["user", "make-superuser", "cli_erin", "--revoke"])
        self.assertEqual((u["is_staff"], u["is_superuser"]), (True, False))
        u = self.cli_json(["user", "make-staff", "cli_erin", "--revoke"])
        self.assertEqual((u["is_staff"], u["is_superuser"]), (False, False))
        r = self.run_cli(["user", "make-staff", "cli_erin"])
        self.assertExit(r, 0)
        self.assertEqual(r.stdout.strip(), "User 'cli_erin' is staff.")

    def test_usage(self):
        b = self.stack.binary
        for args, code in ((["user"], 2), (["user", "frobnicate"], 2), (["user", "--help"], 0),
                           (["user", "show"], 2), (["user", "show", "a", "b"], 2),
                           (["user", "list", "--revoke"], 2), (["user", "list", "--limit", "0"], 2),
                           (["user", "create", "x_user", "--password-stdin", "--no-password"], 2),
                           (["user", "list", "--active", "--inactive"], 2),
                           (["user", "list", "--no-such-option"], 2),
                           (["site"], 2), (["site", "frob"], 2), (["site", "--help"], 0),
                           (["site", "set"], 2), (["site", "show", "--domain", "x"], 2),
                           (["cleanup", "--batch", "0"], 2), (["cleanup", "extra"], 2),
                           (["backup"], 2), (["backup", "--keep", "3", "/tmp/x"], 2),
                           (["restore"], 2)):
            r = subprocess.run([b] + args, capture_output=True, text=True,
                               env=self.stack.server_env(), timeout=30)
            self.assertEqual(r.returncode, code, "%s: %s%s" % (args, r.stdout, r.stderr))
        for sub in ("list", "show", "create", "activate", "deactivate", "set-password",
                    "make-staff", "make-superuser"):
            r = subprocess.run([b, "user", sub, "--help"], capture_output=True, text=True,
                               timeout=30)
            self.assertEqual(r.returncode, 0, sub)
            self.assertIn("  %s" % sub, r.stdout)
        # A configuration error is 1.
        r = subprocess.run([b, "user", "list", "-c", "/nonexistent.yaml"], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(r.returncode, 1, r.stderr)


class SiteCommands(CliTestCase):
    def tearDown(self):
        self.stack.psql("UPDATE sites SET name = 'OpenBook', brand_color = '#e2001a' WHERE id = 1;"
                        "DELETE FROM sites WHERE id = 2")

    def api_site(self):
        r = self.get("/api/core/sites/1/")
        self.assertEqual(r.status, 200, r)
        return r.json()

    def test_show_is_what_the_api_serves(self):
        s = self.cli_json(["site", "show"])
        api = self.api_site()
        for k in ("id", "domain", "name", "short_name", "about_url", "brand_color"):
            self.assertEqual(s[k], api[k], k)
        self.assertExit(self.run_cli(["site", "show"]), 0)

    def test_set_reaches_the_api(self):
        s = self.cli_json(["site", "set", "--name", "Books of Ours", "--brand-color", "#123abc"])
        self.assertEqual((s["name"], s["brand_color"]), ("Books of Ours", "#123abc"))
        api = self.api_site()
        self.assertEqual((api["name"], api["brand_color"]), ("Books of Ours", "#123abc"))

    def test_set_validates_as_the_api(self):
        before = self.api_site()
        for opt, value in (("--brand-color", "red"), ("--about-url", "not a url"),
                           ("--name", ""), ("--name", "x" * 51), ("--domain", "d" * 101)):
            r = self.run_cli(["site", "set", opt, value])
            self.assertExit(r, 2)
        self.assertEqual(self.api_site(), before)

    def test_taken_domain_is_a_conflict(self):
        self.stack.psql("INSERT INTO sites (id, domain, name, short_name, about_url) VALUES "
                        "(2, 'other.example.org', 'Other', 'Other', 'https://other.example.org/')")
        self.assertExit(self.run_cli(["site", "set", "--domain", "other.example.org"]), 4)

    def test_missing_site_is_not_found(self):
        r = self.run_cli(["site", "show"], env={"OPENBOOK_SITE_SITE_ID": "99"})
        self.assertExit(r, 3)


class Cleanup(CliTestCase):
    def count(self, sql):
        return int(self.stack.psql(sql).strip())

    def test_removes_exactly_what_expired(self):
        st = self.stack
        uid = create_user(st, "cli_cleanup")
        st.psql("DELETE FROM sessions; DELETE FROM auth_keys; DELETE FROM mail_outbox")
        old_stage = '{"stage": {"id": "login_by_code", "at": %d, "code_hash": "x"}}' \
            % (time.time() - 3600)
        young_stage = '{"stage": {"id": "login_by_code", "at": %d, "code_hash": "y"}}' \
            % time.time()
        st.psql(
            "INSERT INTO sessions (key_hash, user_id, data, expires_at) VALUES "
            "('\\x01', %(u)d, '{}', now() - interval '1 minute'),"
            "('\\x02', NULL, '{}', now() - interval '1 day'),"
            "('\\x03', %(u)d, '{}', now() + interval '1 day'),"
            "('\\x04', NULL, %(old)s, now() + interval '1 day'),"
            "('\\x05', NULL, %(young)s, now() + interval '1 day');"
            "INSERT INTO auth_keys (key_hash, kind, user_id, expires_at) VALUES "
            "('\\x11', 'reset', %(u)d, now() - interval '1 second'),"
            "('\\x12', 'verify', %(u)d, now() - interval '2 days'),"
            "('\\x13', 'reset', %(u)d, now() + interval '1 hour');"
            "INSERT INTO mail_outbox (recipient, subject, body, created_at, sent_at, attempts) "
            "VALUES ('a@example.org', 's', '', now() - interval '40 days', now(), 1),"
            "('b@example.org', 's', '', now() - interval '1 day', now(), 1),"
            "('c@example.org', 's', 'x', now() - interval '40 days', NULL, 20),"
            "('d@example.org', 's', 'x', now() - interval '40 days', NULL, 3)"
            % {"u": uid, "old": sql_literal(old_stage), "young": sql_literal(young_stage)})
        staging = os.path.join(st.media_dir, ".staging")
        old = time.time() - 2 * 86400
        for rel, age in (("dead.part", old), ("sub/dead2.part", old), ("fresh.part", None)):
            p = os.path.join(staging, rel)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "wb") as f:
                f.write(b"x")
            if age:
                os.utime(p, (age, age))
        os.utime(os.path.join(staging, "sub"), (old, old))
        keep = os.path.join(st.media_dir, "lib", "keep.js")   # outside .staging: untouched
        os.makedirs(os.path.dirname(keep), exist_ok=True)
        with open(keep, "wb") as f:
            f.write(b"old but not staged")
        os.utime(keep, (old, old))
        redis = stack_redis(st)
        self.addCleanup(redis.close)
        redis.command("DEL", "openbook:stream:course:x", "openbook:stream:user:1")
        redis.pipeline([("XADD", "openbook:stream:course:x", "*", "data", "{}")] * 1200 +
                       [("XADD", "openbook:stream:user:1", "*", "data", "{}")] * 5)

        rep = self.cli_json(["cleanup"])
        self.assertEqual(rep, {
            "sessions": 2, "login_stages": 1, "keys": {"reset": 1, "verify": 1, "code": 0},
            "mail": 2, "staging": 2, "streams_trimmed": 1,
            "stream_entries": 200, "more": False, "failed": []})
        self.assertEqual(st.psql("SELECT encode(key_hash, 'hex') || ':' || (data ? 'stage')::text"
                                 " FROM sessions ORDER BY 1").split(),
                         ["03:false", "04:false", "05:true"])
        self.assertEqual(st.psql("SELECT encode(key_hash, 'hex') FROM auth_keys").split(), ["13"])
        self.assertEqual(st.psql("SELECT recipient FROM mail_outbox ORDER BY 1").split(),
                         ["b@example.org", "d@example.org"])
        self.assertEqual(sorted(os.listdir(staging)), ["fresh.part"])
        self.assertTrue(os.path.exists(keep))
        self.assertEqual(redis.command("XLEN", "openbook:stream:course:x"), 1000)
        self.assertEqual(redis.command("XLEN", "openbook:stream:user:1"), 5)

        # Idempotent: nothing more to do, and the text report says so.
        again = self.cli_json(["cleanup"])
        self.assertEqual((again["sessions"], again["mail"], again["stream_entries"],
                          again["staging"]), (0, 0, 0, 0))
        text = self.run_cli(["cleanup"])
        self.assertExit(text, 0)
        self.assertRegex(text.stdout, r"expired sessions:\s+0\n")

    def test_batches_are_bounded(self):
        st = self.stack
        st.psql("DELETE FROM sessions; INSERT INTO sessions (key_hash, expires_at) "
                "SELECT decode(lpad(to_hex(g), 4, '0'), 'hex'), now() - interval '1 hour' "
                "FROM generate_series(1, 7) g")
        rep = self.cli_json(["cleanup", "--batch", "2", "--max", "5"])
        self.assertEqual((rep["sessions"], rep["more"]), (5, True))
        self.assertEqual(self.count("SELECT count(*) FROM sessions"), 2)
        text = self.run_cli(["cleanup", "--batch", "2", "--max", "5"])
        self.assertExit(text, 0)
        self.assertRegex(text.stdout, r"expired sessions:\s+2\n")
        self.assertEqual(self.count("SELECT count(*) FROM sessions"), 0)

    def test_staging_through_a_link_is_refused(self):
        st = self.stack
        elsewhere = support.make_tmpdir("not-staging")
        self.addCleanup(support.cleanup_dir, elsewhere)
        victim = os.path.join(elsewhere, "old.dat")
        with open(victim, "w") as f:
            f.write("keep me")
        os.utime(victim, (time.time() - 9 * 86400,) * 2)
        staging = os.path.join(st.media_dir, ".staging")
        shutil.rmtree(staging, ignore_errors=True)
        os.symlink(elsewhere, staging)
        self.addCleanup(os.unlink, staging)
        r = self.run_cli(["cleanup", "--json"])
        self.assertExit(r, 1)
        self.assertEqual(json.loads(r.stdout)["failed"], ["staged uploads"])
        self.assertTrue(os.path.exists(victim))

    def test_redis_down_is_a_failure_after_the_rest(self):
        st = self.stack
        st.psql("DELETE FROM sessions; INSERT INTO sessions (key_hash, expires_at) "
                "VALUES ('\\x99', now() - interval '1 hour')")
        r = self.run_cli(["cleanup", "--json"], env={"OPENBOOK_REDIS_ADDRESS": "127.0.0.1:1"})
        self.assertExit(r, 1)
        rep = json.loads(r.stdout)
        self.assertEqual((rep["sessions"], rep["failed"]), (1, ["event streams"]))


if __name__ == "__main__":
    unittest.main()
