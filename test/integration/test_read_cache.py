"""The workers' response cache (README "The response cache"): repeats are
answered without PostgreSQL, yet every change is read at once by whoever
made it, whichever worker answers next; changes made behind the server's
back (psql) arrive with PostgreSQL's notification; revoked credentials
stop working at once; and what changes with time alone ages out.

The module's stack keeps answers for MAX_AGE_MS, far longer than any of
these checks waits, so only invalidation can make them pass (except the
one test about ageing out).
"""

import time

import auth_support as au
import perm_support as ps
import support

STACK = None
W = None
SU = None
GROUP = None
PUBLIC = None   # a library group whose textbooks anyone may view
WORKERS = 3
MAX_AGE_MS = 4000

TEXTBOOKS = "/api/content/textbooks/"
CONTENT = ["openbook_content.%s_textbook" % a for a in ("view", "add", "change", "delete")]


def setUpModule():
    global STACK, W, SU, GROUP, PUBLIC
    STACK = support.start_stack("cache", workers=WORKERS, with_relay=False, config={
        "auth": {"common_passwords": au.COMMON_PASSWORDS},
        "cache": {"max_age_ms": MAX_AGE_MS},
    })
    W = ps.World(STACK)
    W.whitelist(ps.GROUP, CONTENT)
    SU = W.user("su", superuser=True)
    GROUP = W.scope(ps.GROUP)
    PUBLIC = W.scope(ps.GROUP)
    W.public(ps.GROUP, PUBLIC, "openbook_content.view_textbook")


def tearDownModule():
    support.stop_stack(STACK)


def cached_lines(marker):
    """Access-log lines of the workers that name marker and were cached."""
    return [line for line in STACK.log_text("openbook").splitlines()
            if marker in line and line.endswith(" cached")]


class ReadCache(ps.Base):
    def textbook(self, **kw):
        body = {"slug": W.unique("tb"), "name": W.unique("Book "), "group": GROUP}
        body.update(kw)
        return self.ok(SU.call("POST", TEXTBOOKS, body), 201)

    def warm(self, call, n=3 * WORKERS):
        """Asks n times, so that every worker has the answer cached."""
        first = call()
        for _ in range(n - 1):
            r = call()
            self.assertEqual((r.status, r.body), (first.status, first.body))
        return first

    def reader(self, marker, **assignment):
        """A textbook named marker in GROUP, and a new user assigned a role
        there that may view textbooks; returns (user, assignment id)."""
        self.textbook(name=marker)
        u = W.user("reader")
        role = W.role(GROUP, W.unique("r"), 10, ["openbook_content.view_textbook"],
                      scope_type=ps.GROUP)
        return u, W.assign(GROUP, role, u, scope_type=ps.GROUP, **assignment)

    def names(self, user, marker):
        r = user.call("GET", TEXTBOOKS + "?_search=" + marker)
        return sorted(x["name"] for x in self.rows(r))

    def test_repeats_are_answered_from_the_cache_unchanged(self):
        marker = W.unique("rep")
        self.textbook(name=marker, group=PUBLIC)
        path = TEXTBOOKS + "?_search=" + marker
        first = support.request(STACK.port, "GET", path)
        self.assertEqual(len(self.rows(first)), 1)
        for _ in range(3 * WORKERS):
            r = support.request(STACK.port, "GET", path)
            self.assertEqual(r.status, 200)
            self.assertEqual(r.body, first.body)
            for h in ("Content-Type", "Content-Language", "Cache-Control", "Vary"):
                self.assertEqual(r.header(h), first.header(h), h)
        support.wait_for(lambda: cached_lines(marker), 5, what="a cached access-log line")
        # HEAD is the same answer without the body.
        h = support.request(STACK.port, "HEAD", path)
        self.assertEqual((h.status, h.body), (200, b""))
        self.assertEqual(h.header("Content-Length"), str(len(first.body)))

    def test_a_client_asking_for_no_cache_gets_a_fresh_answer(self):
        marker = W.unique("fresh")
        self.textbook(name=marker, group=PUBLIC)
        path = TEXTBOOKS + "?_search=" + marker
        self.warm(lambda: support.request(STACK.port, "GET", path))
        support.wait_for(lambda: cached_lines(marker), 5, what="a cached access-log line")
        before = len(cached_lines(marker))
        for h in ({"Cache-Control": "no-cache"}, {"Cache-Control": "max-age=0"},
                  {"Pragma": "no-cache"}):
            for _ in range(WORKERS):
                r = support.request(STACK.port, "GET", path, headers=h)
                self.assertEqual(len(self.rows(r)), 1)
        time.sleep(0.2)  # the access-log lines
        self.assertEqual(len(cached_lines(marker)), before)

    def test_a_writer_reads_its_change_at_once_on_every_worker(self):
        tb = self.textbook()
        item = "%s%s/" % (TEXTBOOKS, tb["id"])
        for i in range(15):
            self.warm(lambda: SU.call("GET", item))
            self.warm(lambda: SU.call("GET", TEXTBOOKS + "?group=" + GROUP))
            name = "%s v%d" % (tb["name"], i)
            self.ok(SU.call("PATCH", item, {"name": name}))
            # The next requests go to any worker: none may answer the old name.
            for _ in range(WORKERS):
                self.assertEqual(self.ok(SU.call("GET", item))["name"], name)
                rows = self.rows(SU.call("GET", TEXTBOOKS + "?group=" + GROUP))
                self.assertIn(name, [x["name"] for x in rows])
        self.assertEqual(SU.call("DELETE", item).status, 204)
        for _ in range(WORKERS):
            self.assertEqual(SU.call("GET", item).status, 404)

    def test_anonymous_readers_see_a_change_at_once(self):
        marker = W.unique("anon")
        tb = self.textbook(name=marker + " one", group=PUBLIC)
        path = TEXTBOOKS + "?_search=" + marker
        self.assertEqual(len(self.rows(support.request(STACK.port, "GET", path))), 1)
        self.warm(lambda: support.request(STACK.port, "GET", path))
        self.ok(SU.call("PATCH", "%s%s/" % (TEXTBOOKS, tb["id"]), {"name": marker + " two"}))
        for _ in range(WORKERS):
            rows = self.rows(support.request(STACK.port, "GET", path))
            self.assertEqual([x["name"] for x in rows], [marker + " two"])

    def test_changes_made_with_psql_arrive_with_the_notification(self):
        marker = W.unique("psql")
        tb = self.textbook(name=marker)
        self.warm(lambda: SU.call("GET", TEXTBOOKS + "?_search=" + marker))
        t0 = time.monotonic()
        W.psql("UPDATE textbooks SET name = %s WHERE id = %s"
               % (ps.lit(marker + " renamed"), ps.lit(tb["id"])))
        # Well before the answers could age out (MAX_AGE_MS).
        support.wait_for(lambda: all(self.names(SU, marker) == [marker + " renamed"]
                                     for _ in range(WORKERS)),
                         1.0, interval=0.02, what="the renamed textbook on every worker")
        self.assertLess(time.monotonic() - t0, MAX_AGE_MS / 1000.0)

    def test_granting_and_revoking_a_role_changes_what_a_user_sees_at_once(self):
        marker = W.unique("role")
        u, ra = self.reader(marker, active=False)
        self.assertEqual(self.names(u, marker), [])
        self.warm(lambda: u.call("GET", TEXTBOOKS + "?_search=" + marker))
        path = "/api/auth/role_assignments/%s/" % ra
        self.ok(SU.call("PATCH", path, {"is_active": True}))
        for _ in range(WORKERS):
            self.assertEqual(self.names(u, marker), [marker])
        self.warm(lambda: u.call("GET", TEXTBOOKS + "?_search=" + marker))
        self.ok(SU.call("PATCH", path, {"is_active": False}))
        for _ in range(WORKERS):
            self.assertEqual(self.names(u, marker), [])

    def test_a_deleted_token_is_refused_at_once(self):
        u = W.user("tok")
        self.warm(lambda: u.call("GET", TEXTBOOKS))
        tid = W.psql("SELECT id FROM auth_tokens WHERE user_id = %d" % u.id).split()[0]
        self.assertEqual(SU.call("DELETE", "/api/auth/auth_tokens/%s/" % tid).status, 204)
        for _ in range(WORKERS):
            self.assertDetail(u.call("GET", TEXTBOOKS), 403, "Invalid token")

    def test_a_deactivated_user_is_refused_at_once(self):
        u = W.user("deact")
        self.warm(lambda: u.call("GET", TEXTBOOKS))
        self.ok(SU.call("PATCH", "/api/auth/users/%s/" % u.name, {"is_active": False}))
        for _ in range(WORKERS):
            self.assertDetail(u.call("GET", TEXTBOOKS), 403, "User is inactive")

    def test_logout_ends_the_session_at_once(self):
        name = W.unique("sess")
        au.create_user(STACK, name)
        app = au.Client(STACK, "app")
        self.assertEqual(app.login(name).status, 200)
        headers = app._headers("GET", None)
        me = self.warm(lambda: support.request(STACK.port, "GET", "/api/content/textbooks/",
                                               headers=headers))
        self.assertEqual(me.status, 200)
        self.assertEqual(app.delete("/auth/session").status, 401)  # flows: logged out
        for _ in range(WORKERS):
            r = support.request(STACK.port, "GET", TEXTBOOKS, headers=headers)
            self.assertDetail(r, 403, "Invalid session token")

    def test_an_assignment_reaching_its_end_ages_out(self):
        """No write happens when a date passes: cache.max_age_ms bounds it."""
        marker = W.unique("end")
        u, _ = self.reader(marker, end="now() + interval '2 seconds'")
        self.assertEqual(self.names(u, marker), [marker])
        self.warm(lambda: u.call("GET", TEXTBOOKS + "?_search=" + marker))
        support.wait_for(lambda: self.names(u, marker) == [], 2 + MAX_AGE_MS / 1000.0 + 2,
                         interval=0.1, what="the ended assignment to age out")
