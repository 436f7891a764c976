"""Live events end to end (websocket.md §6, §9): a REST change publishes
its events after COMMIT and the relay delivers them on the user:<id>
channel; a failed change publishes nothing; logout of the last session,
password changes and removal of a role assignment (also when its role or
its scope is deleted) close the user's sockets with 4401 (control channel
revoke_user).
"""

import unittest

import auth_support as au
import perm_support as ps
import support
from test_relay_client import (WSClient, make_ticket, stack_redis, stack_ticket_key,
                               start_relay, stop_relay)

STACK = None
RELAY = None
W = None

MANAGE = ["openbook_auth.%s_%s" % (a, m)
          for m in ("role", "roleassignment", "enrollmentmethod", "accessrequest")
          for a in ("view", "add", "change", "delete")]
WHITELIST = MANAGE + ["openbook_auth.self_enroll", "openbook_content.view_course"]


def setUpModule():
    global STACK, RELAY, W
    STACK = au.start_auth_stack("relay-events")

    def setup():
        global W
        W = ps.World(STACK)
        W.whitelist(ps.COURSE, WHITELIST)
    RELAY = start_relay(STACK, setup)


def tearDownModule():
    stop_relay(STACK, RELAY)


def key():
    return stack_ticket_key(STACK)


class Scope:
    """A course with an owner, a student role and a teacher who manages it."""

    def __init__(self):
        self.owner = W.user("owner")
        self.uuid = W.scope(owner=self.owner)
        self.student = W.role(self.uuid, "student", 10, ["openbook_content.view_course"])
        self.teacher = W.role(self.uuid, "teacher", 50, MANAGE)
        self.t = W.user("teach")
        W.assign(self.uuid, self.teacher, self.t)


class Events(ps.Base):
    def setUp(self):
        self.open = []
        self.redis = stack_redis(STACK)

    def tearDown(self):
        for ws in self.open:
            ws.shutdown()
        self.redis.close()

    def connect(self, uid, token=None):
        """A socket subscribed to user:<uid> (ticket from the endpoint when
        a token is given, else signed here)."""
        ch = "user:%d" % uid
        if token:
            r = support.request(self.port, "POST", "/api/ws/ticket/",
                                json_body={"channels": [ch]},
                                headers={"Authorization": "Token " + token})
            self.assertEqual(r.status, 200, repr(r))
            ticket = r.json()["ticket"]
        else:
            ticket = make_ticket(key(), [ch], uid=uid)
        ws = WSClient.connect(("127.0.0.1", self.port), "/ws/events?ticket=%s" % ticket,
                              host="127.0.0.1:%d" % self.port,
                              origin="http://127.0.0.1:%d" % self.port,
                              protocols=("openbook.v1",))
        self.open.append(ws)
        self.assertEqual(ws.recv_action("subscribed"), {"channels": [ch]})
        return ws

    def stream_len(self, uid):
        return self.redis.command("XLEN", "openbook:stream:user:%d" % uid)

    def event(self, ws, uid, etype):
        m = ws.recv_action("event")
        self.assertEqual((m["channel"], m["type"], m["version"]), ("user:%d" % uid, etype, 1), m)
        return m["payload"]

    # ---- events

    def test_self_enroll_delivers_enrollment_created(self):
        sc = Scope()
        m = self.ok(sc.owner.call("POST", "/api/auth/enrollment_methods/", {
            "scope_type": ps.COURSE, "scope_uuid": sc.uuid, "name": "Join",
            "role": "student"}), 201)
        locked = self.ok(sc.owner.call("POST", "/api/auth/enrollment_methods/", {
            "scope_type": ps.COURSE, "scope_uuid": sc.uuid, "name": "Secret",
            "role": "student", "passphrase": "open sesame"}), 201)
        p = W.user("joiner")
        ws = self.connect(p.id, p.token)
        # A failed enrolment publishes nothing.
        r = p.call("PUT", "/api/auth/enrollment_methods/%s/enroll/" % locked["id"],
                   {"passphrase": "wrong"})
        self.assertEqual(r.status, 403, repr(r))
        ws.expect_silence(1)
        self.assertEqual(self.stream_len(p.id), 0)
        a = self.ok(p.call("PUT", "/api/auth/enrollment_methods/%s/enroll/" % m["id"], {}))
        payload = self.event(ws, p.id, "enrollment.created")
        self.assertEqual(payload, {"scope_type": ps.COURSE, "scope_uuid": sc.uuid,
                                   "role": "student", "role_assignment": a["id"],
                                   "assignment_method": "self-enrollment"})
        ws.expect_silence(0.5)
        self.assertEqual(self.stream_len(p.id), 1)

    def test_accept_delivers_decided_and_enrollment(self):
        sc = Scope()
        p = W.user("asker")
        req = self.ok(p.call("POST", "/api/auth/access_requests/", {
            "scope_type": ps.COURSE, "scope_uuid": sc.uuid, "user": p.name,
            "role": "student"}), 201)
        ws = self.connect(p.id, p.token)
        # The requester may not decide: 403, nothing published.
        self.assertEqual(p.call("PUT", "/api/auth/access_requests/%s/accept/"
                                % req["id"]).status, 403)
        ws.expect_silence(1)
        self.ok(sc.t.call("PUT", "/api/auth/access_requests/%s/accept/" % req["id"]))
        d = self.event(ws, p.id, "access_request.decided")
        self.assertEqual(d, {"access_request": req["id"], "scope_type": ps.COURSE,
                             "scope_uuid": sc.uuid, "role": "student", "decision": "accepted"})
        e = self.event(ws, p.id, "enrollment.created")
        self.assertEqual((e["role"], e["assignment_method"], e["scope_uuid"]),
                         ("student", "access-request", sc.uuid))
        self.assertEqual(self.stream_len(p.id), 2)

    def test_request_delivers_created_to_the_scope_owner(self):
        sc = Scope()
        ws = self.connect(sc.owner.id, sc.owner.token)
        p = W.user("asker")
        # A refused create publishes nothing.
        r = p.call("POST", "/api/auth/access_requests/", {
            "scope_type": ps.COURSE, "scope_uuid": sc.uuid, "user": p.name, "role": "nope"})
        self.assertEqual(r.status, 400, repr(r))
        ws.expect_silence(1)
        req = self.ok(p.call("POST", "/api/auth/access_requests/", {
            "scope_type": ps.COURSE, "scope_uuid": sc.uuid, "user": p.name,
            "role": "student"}), 201)
        d = self.event(ws, sc.owner.id, "access_request.created")
        self.assertEqual(d, {"access_request": req["id"], "scope_type": ps.COURSE,
                             "scope_uuid": sc.uuid, "role": "student"})
        # Deciding it tells the requester, not the owner again.
        self.ok(sc.t.call("PUT", "/api/auth/access_requests/%s/deny/" % req["id"]))
        ws.expect_silence(1)
        self.assertEqual(self.stream_len(sc.owner.id), 1)
        self.assertEqual(self.stream_len(p.id), 1)
        # A scope without an owner: nobody to tell, and the request is made.
        orphan = W.scope()
        W.role(orphan, "student", 10, ["openbook_content.view_course"])
        self.ok(p.call("POST", "/api/auth/access_requests/", {
            "scope_type": ps.COURSE, "scope_uuid": orphan, "user": p.name,
            "role": "student"}), 201)
        ws.expect_silence(0.5)

    def test_assignment_delete_revokes(self):
        sc = Scope()
        p = W.user("stud")
        ra = W.assign(sc.uuid, sc.student, p)
        ws = self.connect(p.id, p.token)
        r = sc.t.call("DELETE", "/api/auth/role_assignments/%s/" % ra)
        self.assertEqual(r.status, 204, repr(r))
        self.assertEqual(ws.expect_close(), 4401)
        removed = [x for x in ws.skipped if '"enrollment.removed"' in x]
        self.assertEqual(self.stream_len(p.id), 1, ws.skipped)
        self.assertLessEqual(len(removed), 1)

    def test_role_delete_revokes_its_assignments(self):
        sc = Scope()
        p, q = W.user("stud"), W.user("stud")
        W.assign(sc.uuid, sc.student, p)
        W.assign(sc.uuid, sc.student, q)
        ws = self.connect(p.id, p.token)
        r = sc.owner.call("DELETE", "/api/auth/roles/%s/" % sc.student)
        self.assertEqual(r.status, 204, repr(r))
        self.assertEqual(ws.expect_close(), 4401)
        for u in (p, q):
            self.assertEqual(self.stream_len(u.id), 1)

    def test_scope_delete_revokes_its_assignments(self):
        sc = Scope()
        p = W.user("stud")
        W.assign(sc.uuid, sc.student, p)
        ws = self.connect(p.id, p.token)
        su = W.user("su", superuser=True)
        r = su.call("DELETE", "/api/content/courses/%s/" % sc.uuid)
        self.assertEqual(r.status, 204, repr(r))
        self.assertEqual(ws.expect_close(), 4401)
        # The teacher's assignment went too.
        self.assertEqual(self.stream_len(sc.t.id), 1)

    def test_assignment_deactivation_revokes(self):
        sc = Scope()
        p = W.user("stud")
        ra = W.assign(sc.uuid, sc.student, p)
        ws = self.connect(p.id, p.token)
        # A change that keeps it active revokes nothing.
        self.ok(sc.t.call("PATCH", "/api/auth/role_assignments/%s/" % ra,
                          {"end_date": "2999-01-01T00:00:00Z"}))
        ws.expect_silence(1)
        self.ok(sc.t.call("PATCH", "/api/auth/role_assignments/%s/" % ra, {"is_active": False}))
        self.assertEqual(ws.expect_close(), 4401)

    # ---- logout and passwords

    def test_logout_of_last_session_closes_4401(self):
        name = W.unique("lo")
        uid = au.create_user(STACK, name)
        app = au.Client(STACK, "app")
        self.assertEqual(app.login(name).status, 200)
        browser = au.Client(STACK, "browser").prime()
        self.assertEqual(browser.login(name).status, 200)
        ws = self.connect(uid)
        # Another session remains: the socket stays.
        self.assertEqual(app.delete("/auth/session").status, 401)
        ws.expect_silence(1)
        r = browser.delete("/auth-api/browser/v1/auth/session")
        self.assertEqual(r.status, 401, repr(r))
        self.assertEqual(ws.expect_close(), 4401)

    def test_password_change_closes_4401(self):
        name = W.unique("pw")
        uid = au.create_user(STACK, name)
        app = au.Client(STACK, "app")
        self.assertEqual(app.login(name).status, 200)
        ws = self.connect(uid)
        r = app.post("/account/password/change", {"current_password": au.GOOD_PASSWORD,
                                                  "new_password": au.GOOD_PASSWORD + "x"})
        self.assertEqual(r.status, 200, repr(r))
        self.assertEqual(ws.expect_close(), 4401)

    def test_user_deactivation_closes_4401(self):
        su = W.user("su", superuser=True)
        p = W.user("victim")
        ws = self.connect(p.id, p.token)
        r = su.call("PATCH", "/api/auth/users/%s/" % p.name, {"is_active": False})
        self.assertEqual(r.status, 200, repr(r))
        self.assertEqual(ws.expect_close(), 4401)


if __name__ == "__main__":
    unittest.main()
