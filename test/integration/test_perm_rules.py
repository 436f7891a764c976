"""The permission algorithm of permissions.md section 6 through the REST API:
each step, rule R and S (priority guard), the access-request rule, the
effective-assignment fix (6.1), 404 invisible vs 403 not allowed (6.3),
the double check of updates of rule-S items (6.2), enrolment and access
requests (section 8).
"""

import datetime
import unittest

import perm_support as ps
import support

STACK = None
W = None

MANAGE = ["openbook_auth.%s_%s" % (a, m)
          for m in ("role", "roleassignment", "enrollmentmethod", "accessrequest")
          for a in ("view", "add", "change", "delete")]
WHITELIST = MANAGE + ["openbook_auth.self_enroll", "openbook_content.view_course",
                      "openbook_content.change_course"]
NO_ROLE = {"detail": "No Role matches the given query."}


def setUpModule():
    global STACK, W
    STACK = support.start_stack("perm-rules")
    support.StackTestCase.stack = STACK
    W = ps.World(STACK)
    W.whitelist(ps.COURSE, WHITELIST)


def tearDownModule():
    support.StackTestCase.stack = None
    support.stop_stack(STACK)


def utc(days=0, hours=0):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=days, hours=hours)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse(ts):
    return datetime.datetime.strptime(ts.replace("Z", "+0000").split(".")[0].replace("+0000", ""),
                                      "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)


class Scope:
    """A course scope with an owner, three roles and a user in each."""

    def __init__(self):
        self.owner = W.user("owner")
        self.uuid = W.scope(owner=self.owner)
        self.student = W.role(self.uuid, "student", 10, ["openbook_content.view_course"])
        self.teacher = W.role(self.uuid, "teacher", 50, MANAGE)
        self.admin = W.role(self.uuid, "admin", 100, MANAGE)
        self.t = W.user("teach")
        self.a = W.user("adm")
        self.s = W.user("stud")
        W.assign(self.uuid, self.teacher, self.t)
        W.assign(self.uuid, self.admin, self.a)
        W.assign(self.uuid, self.student, self.s)

    def roles_path(self):
        return "/api/auth/roles/?scope_uuid=%s&_sort=priority,slug" % self.uuid

    def role_body(self, slug, priority, **kw):
        b = {"scope_type": ps.COURSE, "scope_uuid": self.uuid, "slug": slug, "name": slug,
             "priority": priority}
        b.update(kw)
        return b


class Rules(ps.Base):
    def slugs(self, user, sc):
        return [x["slug"] for x in self.rows(user.call("GET", sc.roles_path()))]

    def test_step1_superuser_sees_and_does_everything(self):
        sc = Scope()
        su = W.user("su", superuser=True)
        self.assertEqual(self.slugs(su, sc), ["student", "teacher", "admin"])
        r = su.call("POST", "/api/auth/roles/", sc.role_body("boss", 32767))
        self.assertEqual(self.ok(r, 201)["priority"], 32767)

    def test_nothing_granted_empty_list_and_404(self):
        sc = Scope()
        p = W.user("plain")
        self.assertEqual(self.slugs(p, sc), [])
        self.assertJSON(p.call("GET", "/api/auth/roles/%s/" % sc.admin), 404, NO_ROLE)
        self.assertJSON(p.call("PATCH", "/api/auth/roles/%s/" % sc.admin, {"name": "x"}), 404,
                        NO_ROLE)
        self.assertJSON(p.call("DELETE", "/api/auth/roles/%s/" % sc.admin), 404, NO_ROLE)

    def test_anonymous_login_required(self):
        sc = Scope()
        self.assertJSON(ps.anon(W, "GET", sc.roles_path()), 403, ps.NO_CREDENTIALS)

    def test_owner_holds_every_permission(self):
        sc = Scope()
        self.assertEqual(self.slugs(sc.owner, sc), ["student", "teacher", "admin"])
        r = sc.owner.call("POST", "/api/auth/roles/", sc.role_body("top", 30000))
        self.ok(r, 201)
        r = sc.owner.call("PATCH", "/api/auth/roles/%s/" % sc.admin, {"priority": 32000})
        self.assertEqual(self.ok(r)["priority"], 32000)

    def test_role_permissions_through_assignment(self):
        sc = Scope()
        self.assertEqual(self.slugs(sc.t, sc), ["student", "teacher", "admin"])
        # The student role holds no role permission: nothing visible.
        self.assertEqual(self.slugs(sc.s, sc), [])
        # Another scope: nothing.
        other = Scope()
        self.assertEqual(self.slugs(sc.t, other), [])

    def test_priority_guard_create(self):
        sc = Scope()
        self.ok(sc.t.call("POST", "/api/auth/roles/", sc.role_body("tutor", 50)), 201)
        r = sc.t.call("POST", "/api/auth/roles/", sc.role_body("dean", 51))
        self.assertJSON(r, 403, ps.FORBIDDEN)
        self.ok(sc.a.call("POST", "/api/auth/roles/", sc.role_body("dean", 51)), 201)

    def test_priority_guard_update_checks_stored_and_new(self):
        sc = Scope()
        # Stored item above the requester's priority.
        r = sc.t.call("PATCH", "/api/auth/roles/%s/" % sc.admin, {"name": "x"})
        self.assertJSON(r, 403, ps.FORBIDDEN)
        # Raising a role above one's own priority (deliberate fix).
        r = sc.t.call("PATCH", "/api/auth/roles/%s/" % sc.student, {"priority": 60})
        self.assertJSON(r, 403, ps.FORBIDDEN)
        r = sc.t.call("PATCH", "/api/auth/roles/%s/" % sc.student, {"priority": 40})
        self.assertEqual(self.ok(r)["priority"], 40)
        r = sc.t.call("DELETE", "/api/auth/roles/%s/" % sc.admin)
        self.assertJSON(r, 403, ps.FORBIDDEN)

    def test_change_only_sees_up_to_own_priority(self):
        # permissions.md section 7: rule R for change AND the priority guard.
        sc = Scope()
        editor = W.role(sc.uuid, "editor", 50, ["openbook_auth.change_role"])
        e = W.user("editor")
        W.assign(sc.uuid, editor, e)
        self.assertEqual(self.slugs(e, sc), ["student", "editor", "teacher"])
        self.assertJSON(e.call("GET", "/api/auth/roles/%s/" % sc.admin), 404, NO_ROLE)
        self.ok(e.call("GET", "/api/auth/roles/%s/" % sc.teacher))
        # The same rule in C for unsaved items (permissions.md 6.3): a role
        # it could view (priority <= 50) is 403, one above it 404.
        self.assertJSON(e.call("POST", "/api/auth/roles/", sc.role_body("low", 40)), 403,
                        ps.FORBIDDEN)
        self.assertJSON(e.call("POST", "/api/auth/roles/", sc.role_body("high", 60)), 404,
                        NO_ROLE)
        # It may change what it sees, within its priority.
        r = e.call("PATCH", "/api/auth/roles/%s/" % sc.teacher, {"description": "changed"})
        self.assertEqual(self.ok(r)["description"], "changed")
        self.assertJSON(e.call("PATCH", "/api/auth/roles/%s/" % sc.teacher, {"priority": 51}),
                        403, ps.FORBIDDEN)

    def test_view_only_gets_403_on_writes_and_create(self):
        sc = Scope()
        viewer = W.role(sc.uuid, "viewer", 5, ["openbook_auth.view_role"])
        v = W.user("viewer")
        W.assign(sc.uuid, viewer, v)
        self.assertEqual(self.slugs(v, sc), ["viewer", "student", "teacher", "admin"])
        # Id lists show only what the requester may view (deliberate fix):
        # the viewer sees the role but not its assignments.
        mine = self.ok(v.call("GET", "/api/auth/roles/%s/" % sc.teacher))
        self.assertEqual(mine["role_assignments"], [])
        full = self.ok(sc.owner.call("GET", "/api/auth/roles/%s/" % sc.teacher))
        self.assertEqual(len(full["role_assignments"]), 1)
        r = v.call("GET", "/api/auth/roles/%s/?_expand=role_assignments" % sc.teacher)
        self.assertEqual(self.ok(r)["role_assignments"], [])
        for method, body in (("PATCH", {"name": "x"}), ("PUT", sc.role_body("student", 10)),
                             ("DELETE", None)):
            r = v.call(method, "/api/auth/roles/%s/" % sc.student, body)
            self.assertJSON(r, 403, ps.FORBIDDEN)
        # A create it could view but not add: 403; one it could not view: 404.
        r = v.call("POST", "/api/auth/roles/", sc.role_body("x", 1))
        self.assertJSON(r, 403, ps.FORBIDDEN)
        p = W.user("plain")
        r = p.call("POST", "/api/auth/roles/", sc.role_body("x", 1))
        self.assertJSON(r, 404, NO_ROLE)

    def test_public_permissions(self):
        sc = Scope()
        W.public(ps.COURSE, sc.uuid, "openbook_auth.view_role")
        p = W.user("plain")
        self.assertEqual(self.slugs(p, sc), ["student", "teacher", "admin"])
        # A public change permission alone does not pass the priority guard.
        sc2 = Scope()
        W.public(ps.COURSE, sc2.uuid, "openbook_auth.change_role")
        self.assertEqual(self.slugs(p, sc2), [])
        r = p.call("POST", "/api/auth/roles/", sc2.role_body("x", 0))
        self.assertJSON(r, 404, NO_ROLE)

    def test_step4_model_permissions(self):
        sc, sc2 = Scope(), Scope()
        g = W.user("global", perms=["openbook_auth.view_role"])
        self.assertEqual(self.slugs(g, sc), ["student", "teacher", "admin"])
        self.assertEqual(self.slugs(g, sc2), ["student", "teacher", "admin"])
        self.assertJSON(g.call("PATCH", "/api/auth/roles/%s/" % sc.admin, {"name": "x"}), 403,
                        ps.FORBIDDEN)
        # Through a group too.
        W.psql("INSERT INTO groups (name, slug) VALUES ('Role viewers', 'role-viewers')"
               " ON CONFLICT DO NOTHING")
        W.psql("INSERT INTO group_permissions (group_id, permission_id) SELECT id, %d FROM groups"
               " WHERE slug = 'role-viewers' ON CONFLICT DO NOTHING"
               % W.perm_id("openbook_auth.view_role"))
        gg = W.user("grouped", groups=["role-viewers"])
        self.assertEqual(self.slugs(gg, sc), ["student", "teacher", "admin"])

    def test_step5_view_implied_by_change(self):
        sc = Scope()
        c = W.user("changer", perms=["openbook_auth.change_role"])
        self.assertEqual(self.slugs(c, sc), ["student", "teacher", "admin"])
        r = c.call("PATCH", "/api/auth/roles/%s/" % sc.admin, {"name": "Renamed"})
        self.assertEqual(self.ok(r)["name"], "Renamed")

    def test_step2_anonymous_permission(self):
        # The initial data grants view_enrollmentmethod to everybody.
        sc = Scope()
        su = W.user("su", superuser=True)
        m = self.ok(su.call("POST", "/api/auth/enrollment_methods/", {
            "scope_type": ps.COURSE, "scope_uuid": sc.uuid, "name": "Open",
            "role": "student"}), 201)
        p = W.user("plain")
        r = p.call("GET", "/api/auth/enrollment_methods/?scope_uuid=%s" % sc.uuid)
        self.assertEqual([x["id"] for x in self.rows(r)], [m["id"]])


class Effective(ps.Base):
    """permissions.md 6.1: only effective assignments count."""

    def visible(self, user, sc):
        return [x["slug"] for x in self.rows(user.call("GET", sc.roles_path()))]

    def test_windows_and_flags(self):
        sc = Scope()
        cases = {
            "inactive": dict(active=False),
            "future": dict(start="now() + interval '1 day'"),
            "expired": dict(end="now() - interval '1 minute'"),
        }
        for name, kw in cases.items():
            u = W.user(name)
            W.assign(sc.uuid, sc.teacher, u, **kw)
            self.assertEqual(self.visible(u, sc), [], name)
        ok = W.user("window")
        W.assign(sc.uuid, sc.teacher, ok, start="now() - interval '1 day'",
                 end="now() + interval '1 day'")
        self.assertEqual(self.visible(ok, sc), ["student", "teacher", "admin"])
        su = W.user("su", superuser=True)
        rows = self.rows(su.call("GET", "/api/auth/role_assignments/?scope_uuid=%s&_page_size=100"
                                 % sc.uuid))
        eff = {x["user"]: x["is_effective"] for x in rows}
        self.assertIs(eff[ok.name], True)
        self.assertIs(eff[sc.t.name], True)

    def test_inactive_role(self):
        sc = Scope()
        dormant = W.role(sc.uuid, "dormant", 50, MANAGE, active=False)
        u = W.user("dormant")
        W.assign(sc.uuid, dormant, u)
        self.assertEqual(self.visible(u, sc), [])
        su = W.user("su", superuser=True)
        rows = self.rows(su.call("GET", "/api/auth/role_assignments/?user=%s" % u.name))
        self.assertIs(rows[0]["is_effective"], False)

    def test_inactive_user_cannot_act(self):
        sc = Scope()
        u = W.user("gone")
        W.assign(sc.uuid, sc.teacher, u)
        W.psql("UPDATE users SET is_active = false WHERE id = %d" % u.id)
        self.assertJSON(u.call("GET", sc.roles_path()), 403,
                        {"detail": "User is inactive or deleted."})


class Assignments(ps.Base):
    def body(self, sc, user, role, **kw):
        b = {"scope_type": ps.COURSE, "scope_uuid": sc.uuid, "user": user.name, "role": role}
        b.update(kw)
        return b

    def test_manual_assignment_and_guard(self):
        sc = Scope()
        x = W.user("x")
        a = self.ok(sc.t.call("POST", "/api/auth/role_assignments/", self.body(sc, x, "student")),
                    201)
        self.assertEqual(a["assignment_method"], "manual")
        self.assertEqual((a["role"], a["user"], a["scope_type"], a["scope_uuid"]),
                         ("student", x.name, ps.COURSE, sc.uuid))
        self.assertIsNone(a["enrollment_method"])
        self.assertIs(a["is_effective"], True)
        self.assertEqual(a["created_by"], sc.t.name)
        # assignment_method is read-only.
        y = W.user("y")
        a2 = self.ok(sc.t.call("POST", "/api/auth/role_assignments/",
                               self.body(sc, y, "student", assignment_method="self-enrollment")),
                     201)
        self.assertEqual(a2["assignment_method"], "manual")
        # Above the teacher's priority: 403 on create, and on moving an
        # assignment to such a role (checked on the updated item).
        r = sc.t.call("POST", "/api/auth/role_assignments/", self.body(sc, W.user("z"), "admin"))
        self.assertJSON(r, 403, ps.FORBIDDEN)
        r = sc.t.call("PATCH", "/api/auth/role_assignments/%s/" % a["id"], {"role": "admin"})
        self.assertJSON(r, 403, ps.FORBIDDEN)
        r = sc.a.call("PATCH", "/api/auth/role_assignments/%s/" % a["id"], {"role": "admin"})
        self.assertEqual(self.ok(r)["role"], "admin")
        # Now the teacher sees it but may not change or delete it.
        r = sc.t.call("DELETE", "/api/auth/role_assignments/%s/" % a["id"])
        self.assertJSON(r, 403, ps.FORBIDDEN)
        self.assertEqual(sc.a.call("DELETE", "/api/auth/role_assignments/%s/" % a["id"]).status,
                         204)

    def test_unique_and_dates(self):
        sc = Scope()
        x = W.user("x")
        self.ok(sc.t.call("POST", "/api/auth/role_assignments/", self.body(sc, x, "student")), 201)
        r = sc.t.call("POST", "/api/auth/role_assignments/", self.body(sc, x, "student"))
        self.errors(r, {"non_field_errors": [
            "Role Assignment with this Scope Type, Scope UUID, Role and User already exists."]})
        r = sc.t.call("POST", "/api/auth/role_assignments/", self.body(
            sc, W.user("d"), "student", start_date="2030-01-02T00:00:00Z",
            end_date="2030-01-01T00:00:00Z"))
        self.errors(r, {"non_field_errors": ["End date must be later than start date."]})

    def test_scope_is_fixed_after_create(self):
        sc, other = Scope(), Scope()
        r = sc.owner.call("PATCH", "/api/auth/roles/%s/" % sc.student,
                          {"scope_uuid": other.uuid, "name": "Moved?"})
        role = self.ok(r)
        self.assertEqual((role["scope_uuid"], role["name"]), (sc.uuid, "Moved?"))


class AccessRequests(ps.Base):
    def body(self, sc, user, role, **kw):
        b = {"scope_type": ps.COURSE, "scope_uuid": sc.uuid, "user": user.name, "role": role}
        b.update(kw)
        return b

    def assignment(self, sc, user, role_slug):
        su = W.user("su", superuser=True)
        rows = self.rows(su.call("GET", "/api/auth/role_assignments/?scope_uuid=%s&user=%s&role=%s"
                                 % (sc.uuid, user.name, role_slug)))
        return rows[0] if rows else None

    def test_own_request(self):
        sc = Scope()
        p = W.user("asker")
        req = self.ok(p.call("POST", "/api/auth/access_requests/",
                             self.body(sc, p, "student")), 201)
        self.assertEqual(req["decision"], "pending")
        self.assertIsNone(req["decision_date"])
        self.assertEqual([x["id"] for x in self.rows(p.call("GET", "/api/auth/access_requests/"))],
                         [req["id"]])
        # One pending request per scope, role and user (deliberate).
        r = p.call("POST", "/api/auth/access_requests/", self.body(sc, p, "student"))
        self.errors(r, {"non_field_errors": [
            "A pending access request for this role already exists."]})
        # The requester may not decide on it.
        self.assertJSON(p.call("PUT", "/api/auth/access_requests/%s/accept/" % req["id"]), 403,
                        ps.FORBIDDEN)
        self.assertJSON(p.call("PATCH", "/api/auth/access_requests/%s/" % req["id"],
                               {"decision": "accepted"}), 403, ps.FORBIDDEN)
        self.assertIsNone(self.assignment(sc, p, "student"))
        # ... but may withdraw it.
        self.assertEqual(p.call("DELETE", "/api/auth/access_requests/%s/" % req["id"]).status, 204)

    def test_request_for_someone_else_is_404(self):
        sc = Scope()
        p, x = W.user("asker"), W.user("other")
        r = p.call("POST", "/api/auth/access_requests/", self.body(sc, x, "student"))
        self.assertJSON(r, 404, {"detail": "No AccessRequest matches the given query."})

    def test_accept_enrolls(self):
        sc = Scope()
        p = W.user("asker")
        req = self.ok(p.call("POST", "/api/auth/access_requests/", self.body(
            sc, p, "student", duration_period="days", duration_value=2)), 201)
        done = self.ok(sc.t.call("PUT", "/api/auth/access_requests/%s/accept/" % req["id"]))
        self.assertEqual(done["decision"], "accepted")
        self.assertIsNotNone(done["decision_date"])
        a = self.assignment(sc, p, "student")
        self.assertEqual(a["assignment_method"], "access-request")
        self.assertEqual(a["access_request"], req["id"])
        end = parse(a["end_date"])
        want = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=2)
        self.assertLess(abs((end - want).total_seconds()), 120)

    def test_accept_priority_guard(self):
        sc = Scope()
        p = W.user("asker")
        req = self.ok(p.call("POST", "/api/auth/access_requests/", self.body(sc, p, "admin")), 201)
        self.assertJSON(sc.t.call("PUT", "/api/auth/access_requests/%s/accept/" % req["id"]), 403,
                        ps.FORBIDDEN)
        self.assertIsNone(self.assignment(sc, p, "admin"))
        self.ok(sc.a.call("PUT", "/api/auth/access_requests/%s/accept/" % req["id"]))
        self.assertIsNotNone(self.assignment(sc, p, "admin"))

    def test_deny_withdraws(self):
        sc = Scope()
        p = W.user("asker")
        W.assign(sc.uuid, sc.student, p)
        req = self.ok(p.call("POST", "/api/auth/access_requests/", self.body(sc, p, "student")),
                      201)
        done = self.ok(sc.t.call("PUT", "/api/auth/access_requests/%s/deny/" % req["id"]))
        self.assertEqual(done["decision"], "denied")
        self.assertIsNone(self.assignment(sc, p, "student"))

    def test_decision_through_patch(self):
        sc = Scope()
        p = W.user("asker")
        req = self.ok(p.call("POST", "/api/auth/access_requests/", self.body(sc, p, "student")),
                      201)
        r = self.ok(sc.t.call("PATCH", "/api/auth/access_requests/%s/" % req["id"],
                              {"decision": "accepted"}))
        self.assertIsNotNone(r["decision_date"])
        self.assertIsNotNone(self.assignment(sc, p, "student"))
        r = self.ok(sc.t.call("PATCH", "/api/auth/access_requests/%s/" % req["id"],
                              {"decision": "pending"}))
        self.assertEqual(r["decision"], "pending")
        self.assertIsNone(r["decision_date"])
        r = sc.t.call("PATCH", "/api/auth/access_requests/%s/" % req["id"], {"decision": "maybe"})
        self.errors(r, {"decision": ['"maybe" is not a valid choice.']})


class Enrollment(ps.Base):
    def method(self, sc, **kw):
        b = {"scope_type": ps.COURSE, "scope_uuid": sc.uuid, "name": "Join", "role": "student"}
        b.update(kw)
        return self.ok(sc.owner.call("POST", "/api/auth/enrollment_methods/", b), 201)

    def enroll(self, user, m, body=None):
        return user.call("PUT", "/api/auth/enrollment_methods/%s/enroll/" % m["id"], body or {})

    def test_self_enroll(self):
        sc = Scope()
        m = self.method(sc)
        self.assertIs(m["has_passphrase"], False)
        self.assertNotIn("passphrase", m)
        p = W.user("joiner")
        a = self.ok(self.enroll(p, m))
        self.assertEqual((a["user"], a["role"], a["assignment_method"], a["enrollment_method"]),
                         (p.name, "student", "self-enrollment", m["id"]))
        self.assertIsNone(a["end_date"])
        # Enrolling again finds the same assignment.
        self.assertEqual(self.ok(self.enroll(p, m))["id"], a["id"])

    def test_anonymous_and_unknown(self):
        sc = Scope()
        m = self.method(sc)
        r = ps.anon(W, "PUT", "/api/auth/enrollment_methods/%s/enroll/" % m["id"], {})
        self.assertJSON(r, 403, ps.NO_CREDENTIALS)
        p = W.user("joiner")
        for key in ("00000000-0000-4000-8000-000000000000", "not-a-uuid"):
            r = p.call("PUT", "/api/auth/enrollment_methods/%s/enroll/" % key, {})
            self.assertJSON(r, 404, {"detail": "No EnrollmentMethod matches the given query."})
        self.assertEqual(p.call("POST", "/api/auth/enrollment_methods/%s/enroll/" % m["id"],
                                {}).status, 405)

    def test_passphrase(self):
        sc = Scope()
        m = self.method(sc, passphrase="  open sesame  ")
        self.assertIs(m["has_passphrase"], True)
        self.assertNotIn("passphrase", m)
        stored = W.psql("SELECT passphrase FROM enrollment_methods WHERE id = '%s'" % m["id"])
        self.assertNotIn("open sesame", stored)
        self.assertTrue(stored.startswith("$argon2id$"), stored)
        p = W.user("joiner")
        for body in ({}, {"passphrase": "wrong"}, {"passphrase": ""}):
            self.assertJSON(self.enroll(p, m, body), 403, {"detail": "Incorrect passphrase"})
        self.ok(self.enroll(p, m, {"passphrase": " open sesame "}))
        # "" removes it; absent leaves it.
        r = sc.owner.call("PATCH", "/api/auth/enrollment_methods/%s/" % m["id"], {"name": "N"})
        self.assertIs(self.ok(r)["has_passphrase"], True)
        r = sc.owner.call("PATCH", "/api/auth/enrollment_methods/%s/" % m["id"], {"passphrase": ""})
        self.assertIs(self.ok(r)["has_passphrase"], False)
        r = sc.owner.call("PATCH", "/api/auth/enrollment_methods/%s/" % m["id"],
                          {"passphrase": "x" * 101})
        self.errors(r, {"passphrase": ["Ensure this field has no more than 100 characters."]})

    def test_closed_methods(self):
        sc = Scope()
        closed = {"detail": "This enrollment method is currently not available."}
        p = W.user("joiner")
        self.assertJSON(self.enroll(p, self.method(sc, is_active=False)), 403, closed)
        self.assertJSON(self.enroll(p, self.method(sc, end_date=utc(days=-1))), 403, closed)
        self.ok(self.enroll(p, self.method(sc, end_date=utc(days=1))))
        W.psql("UPDATE roles SET is_active = false WHERE id = '%s'" % sc.student)
        self.assertJSON(self.enroll(W.user("j2"), self.method(sc)), 403, closed)

    def test_self_enroll_permission(self):
        sc = Scope()
        m = self.method(sc)
        p = W.user("joiner")
        pid = W.perm_id("openbook_auth.self_enroll")
        W.psql("DELETE FROM anonymous_permissions WHERE permission_id = %d" % pid)
        try:
            self.assertJSON(self.enroll(p, m), 403, ps.FORBIDDEN)
            # Per-scope control through the scope's public permissions.
            W.public(ps.COURSE, sc.uuid, "openbook_auth.self_enroll")
            self.ok(self.enroll(p, m))
        finally:
            W.psql("INSERT INTO anonymous_permissions (permission_id) VALUES (%d)"
                   " ON CONFLICT DO NOTHING" % pid)

    def test_duration_and_never_shorter(self):
        sc = Scope()
        week = self.method(sc, duration_period="weeks", duration_value=1)
        hour = self.method(sc, duration_period="hours", duration_value=1)
        p = W.user("joiner")
        a = self.ok(self.enroll(p, week))
        end = parse(a["end_date"])
        want = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=7)
        self.assertLess(abs((end - want).total_seconds()), 120)
        # A shorter method does not shorten it.
        self.assertEqual(self.ok(self.enroll(p, hour))["end_date"], a["end_date"])
        # An unlimited one makes it unlimited; nothing makes it limited again.
        forever = self.method(sc)
        self.assertIsNone(self.ok(self.enroll(p, forever))["end_date"])
        self.assertIsNone(self.ok(self.enroll(p, week))["end_date"])

    def test_deactivated_assignment_stays_inactive(self):
        sc = Scope()
        p = W.user("joiner")
        aid = W.assign(sc.uuid, sc.student, p, active=False)
        a = self.ok(self.enroll(p, self.method(sc)))
        self.assertEqual(a["id"], aid)
        self.assertIs(a["is_active"], False)

    def test_method_priority_guard(self):
        sc = Scope()
        body = {"scope_type": ps.COURSE, "scope_uuid": sc.uuid, "name": "Staff", "role": "admin"}
        self.assertJSON(sc.t.call("POST", "/api/auth/enrollment_methods/", body), 403,
                        ps.FORBIDDEN)
        body["role"] = "teacher"
        self.ok(sc.t.call("POST", "/api/auth/enrollment_methods/", body), 201)


class Filters(ps.Base):
    def test_too_many_scope_filters_is_400(self):
        # One parameter per value: past what a statement carries the
        # request is refused, never a broken statement (it was a 503).
        sc = Scope()
        q = "&".join(["scope_uuid=" + sc.uuid] * 70)
        r = sc.owner.call("GET", "/api/auth/role_assignments/?" + q)
        self.assertJSON(r, 400, {"detail": "Too many filters."})
        # A handful of repeats is fine.
        q = "&".join(["scope_uuid=" + sc.uuid] * 5)
        self.assertEqual(len(self.rows(sc.owner.call("GET", "/api/auth/role_assignments/?" + q))),
                         3)
        # A scope UUID is a plain UUID filter, not a reference.
        self.assertJSON(sc.owner.call("GET", "/api/auth/role_assignments/?scope_uuid=nope"), 400,
                        {"scope_uuid": ["Enter a valid UUID."]})


LIBRARY_GROUP_EXPANDS = ["parent", "children", "textbooks", "courses", "links",
                         "public_permissions", "role_assignments", "enrollment_methods",
                         "access_requests", "created_by", "modified_by"]


class Expansion(ps.Base):
    """api-conventions.md 8: every expansion a resource offers works, in any
    number at once, and neither an expansion nor a plain id list shows an
    item the requester could not GET."""

    def group(self, slug_prefix, parent=None, owner=None):
        return W.psql(
            "INSERT INTO library_groups (slug, name, parent_id, owner_id, created_by,"
            " modified_by) VALUES (%s, %s, %s, %s, %s, %s) RETURNING id"
            % (ps.lit(W.unique(slug_prefix)), ps.lit(W.unique("G")), ps.lit(parent),
               owner.id if owner else "NULL", owner.id if owner else "NULL",
               owner.id if owner else "NULL")).split()[0]

    def test_all_library_group_expansions_at_once(self):
        owner = W.user("gown")
        root = self.group("root", owner=owner)
        g = self.group("g", parent=root, owner=owner)
        self.group("child", parent=g, owner=owner)
        other = self.group("other", owner=owner)
        tb_other = W.psql("INSERT INTO textbooks (slug, name, group_id) VALUES ('o', 'O', %s)"
                          " RETURNING id" % ps.lit(other)).split()[0]
        W.psql("INSERT INTO textbooks (slug, name, group_id) VALUES ('t', 'T', %s)" % ps.lit(g))
        W.psql("INSERT INTO courses (slug, name, group_id, owner_id) VALUES ('c', 'C', %s, %d)"
               % (ps.lit(g), owner.id))
        W.psql("INSERT INTO library_links (group_id, textbook_id) VALUES (%s, %s)"
               % (ps.lit(g), ps.lit(tb_other)))
        W.public(ps.GROUP, g, "openbook_content.view_librarygroup")
        role = W.role(g, "member", 10, scope_type=ps.GROUP)
        W.assign(g, role, W.user("member"), scope_type=ps.GROUP)
        asker = W.user("asker")
        W.psql("INSERT INTO access_requests (scope_type_id, scope_uuid, user_id, role_id)"
               " VALUES (%d, %s, %d, %s)" % (W.ct(ps.GROUP), ps.lit(g), asker.id, ps.lit(role)))
        W.psql("INSERT INTO enrollment_methods (scope_type_id, scope_uuid, name, role_id)"
               " VALUES (%d, %s, 'Join', %s)" % (W.ct(ps.GROUP), ps.lit(g), ps.lit(role)))
        path = "/api/content/library_groups/%s/" % g
        expand = "?_expand=" + ",".join(LIBRARY_GROUP_EXPANDS)

        su = W.user("su", superuser=True)
        plain = self.ok(su.call("GET", path))
        data = self.ok(su.call("GET", path + expand))
        for f in LIBRARY_GROUP_EXPANDS:
            with self.subTest(field=f):
                got = data[f]
                if isinstance(plain[f], list):
                    self.assertEqual(len(got), len(plain[f]), (f, got))
                    self.assertTrue(got, "%s: nothing to expand" % f)
                    self.assertTrue(all(isinstance(x, dict) for x in got), (f, got))
                else:
                    self.assertIsInstance(got, dict, (f, got))

        # The requester may view the group (its public permission) but none
        # of its assignments or requests: those lists are empty, expanded
        # or not, however many fields are expanded at once.
        nobody = W.user("nobody")
        seen = self.ok(nobody.call("GET", path))
        for q in ("", expand, "?_expand=" + ",".join(LIBRARY_GROUP_EXPANDS[:8]),
                  "?_expand=" + ",".join(reversed(LIBRARY_GROUP_EXPANDS))):
            with self.subTest(query=q):
                got = self.ok(nobody.call("GET", path + q))
                for f in ("role_assignments", "access_requests", "children", "textbooks",
                          "courses"):
                    self.assertEqual(got[f], [], (f, got))
                self.assertEqual(got["parent"], root, "an invisible parent stays a key")
                self.assertEqual(got["created_by"], owner.name)
        self.assertEqual(len(seen["enrollment_methods"]), 1)  # viewable by everybody

    def test_depth_is_limited_to_three(self):
        sc = Scope()
        su = W.user("su", superuser=True)
        ra = W.assign(sc.uuid, sc.student, W.user("deep"))
        got = self.ok(su.call("GET", "/api/auth/role_assignments/%s/?_expand="
                              "role.role_assignments.role.role_assignments" % ra))
        level2 = got["role"]["role_assignments"]
        level3 = level2[0]["role"]
        self.assertIsInstance(level3, dict)
        # The fourth level is ignored: plain ids.
        self.assertEqual(level3["role_assignments"], sorted(x["id"] for x in level2))
        self.assertIn(ra, level3["role_assignments"])


if __name__ == "__main__":
    unittest.main()


class CurrentUserPermissions(ps.Base):
    """_expand=permissions on current_user: what the app reads to show only
    the controls the API would allow (issue 16)."""

    def test_global_model_scopes(self):
        sc = Scope()
        W.assign(sc.uuid, W.role(sc.uuid, "gone", 5, ["openbook_content.change_course"],
                                 active=False), sc.t)
        W.assign(sc.uuid, sc.student, sc.t, end="now() - interval '1 day'")
        own = W.scope(owner=sc.t)
        W.grant(sc.t.id, "openbook_content.add_course")
        me = self.ok(sc.t.call("GET", "/api/auth/current_user/?_expand=permissions"))
        p = me["permissions"]
        self.assertEqual(sorted(p), ["global", "model", "scopes"])
        self.assertEqual(p["model"], ["openbook_content.add_course"])
        self.assertIn("openbook_content.add_course", p["global"])
        self.assertIn("openbook_auth.self_enroll", p["global"])   # anonymous grants count
        self.assertNotIn("openbook_auth.self_enroll", p["model"])
        entries = [(s["scope_uuid"], s["owner"], s["role"]) for s in p["scopes"]]
        # The teacher role only: the inactive role and the expired
        # assignment grant nothing (permissions.md 6.1).
        self.assertCountEqual(entries, [(sc.uuid, False, "teacher"), (own, True, None)])
        teacher = [s for s in p["scopes"] if s["role"] == "teacher"][0]
        self.assertEqual(teacher["scope_type"], ps.COURSE)
        self.assertEqual(teacher["priority"], 50)
        self.assertEqual(sorted(teacher["permissions"]), sorted(MANAGE))

    def test_only_when_expanded(self):
        u = W.user("plain")
        me = self.ok(u.call("GET", "/api/auth/current_user/"))
        self.assertNotIn("permissions", me)
        me = self.ok(u.call("GET", "/api/auth/current_user/?_expand=permissions&_fields=id,permissions"))
        self.assertEqual(sorted(me), ["id", "permissions"])
        self.assertEqual(me["permissions"]["scopes"], [])
        self.assertEqual(me["permissions"]["model"], [])
