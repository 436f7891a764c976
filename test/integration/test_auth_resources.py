"""The permission-model resources of /api/auth/ and the core admin writes
(api-resources.md sections 1 and 2): permissions, permission_texts,
allowed_role_permissions, anonymous_permissions, groups, scope_types, roles
(fields, filters, expansion), sites and auth_configs editing, the admin gate
(permissions.md section 9), natural keys and bad input
(api-conventions.md sections 2, 4, 9), unique rules, initial data, and the
number of queries per list request.
"""

import os
import re
import time
import unittest

import perm_support as ps
import support

STACK = None
W = None
SU = None
ROLE_FIELDS = ["id", "scope_type", "scope_uuid", "slug", "name", "description", "text_format",
               "priority", "is_active", "permissions", "role_assignments", "enrollment_methods",
               "access_requests", "created_by", "created_at", "modified_by", "modified_at"]


def setUpModule():
    global STACK, W, SU
    STACK = support.start_stack("auth-res")
    support.StackTestCase.stack = STACK
    W = ps.World(STACK)
    SU = W.user("root", superuser=True)


def tearDownModule():
    support.StackTestCase.stack = None
    support.stop_stack(STACK)


class InitialData(ps.Base):
    def test_groups_config_and_signup(self):
        rows = {g["slug"]: g for g in self.rows(SU.call("GET", "/api/auth/groups/"))}
        self.assertEqual(rows["student"]["name"], "Student")
        self.assertEqual(rows["student"]["permissions"], ["openbook_auth.view_user"])
        self.assertEqual(rows["teacher"]["permissions"], [
            "openbook_auth.view_group", "openbook_auth.view_user", "openbook_content.add_course"])
        cfg = self.ok(ps.anon(W, "GET", "/api/auth/auth_configs/1/?_expand=translations"))
        self.assertEqual(cfg["logout_next_url"], "/")
        self.assertIs(cfg["local_signup_allowed"], True)
        self.assertEqual(sorted((t["language"], t["logout_next_text"]) for t in cfg["translations"]),
                         [("de", "Startseite"), ("en", "Start Page")])
        self.assertEqual(W.psql(
            "SELECT g.slug FROM signup_group_assignments s JOIN signup_group_assignment_groups x"
            " ON x.assignment_id = s.id JOIN groups g ON g.id = x.group_id"
            " WHERE s.social_app IS NULL").split(), ["student"])

    def test_anonymous_permissions_default(self):
        perms = sorted(x["permission"] for x in self.rows(
            SU.call("GET", "/api/auth/anonymous_permissions/")))
        self.assertEqual(perms, ["openbook_auth.self_enroll", "openbook_auth.view_authconfig",
                                 "openbook_auth.view_enrollmentmethod", "openbook_core.view_language",
                                 "openbook_core.view_site"])


class Permissions(ps.Base):
    def test_rows_need_view_permission(self):
        self.assertEqual(self.rows(ps.anon(W, "GET", "/api/auth/permissions/")), [])
        self.assertEqual(self.rows(W.user("p").call("GET", "/api/auth/permissions/")), [])
        viewer = W.user("pv", perms=["auth.view_permission"])
        self.assertGreater(len(self.rows(viewer.call("GET",
                                                     "/api/auth/permissions/?_page_size=1000"))), 100)

    def test_shape_filters_and_translation(self):
        r = SU.call("GET", "/api/auth/permissions/?perm_string=openbook_auth.self_enroll")
        (row,) = self.rows(r)
        self.assertEqual(list(row), ["id", "name", "codename", "perm_string", "perm_display_name",
                                     "app", "app_display_name", "model", "model_display_name"])
        self.assertEqual((row["name"], row["app"], row["app_display_name"], row["model"],
                          row["model_display_name"]),
                         ("Can self-enroll in a scope", "openbook_auth", "User Management",
                          "enrollmentmethod", "Enrollment Method"))
        self.assertEqual(self.rows(SU.call("GET", "/api/auth/permissions/?perm_string=no.such")),
                         [])
        self.assertEqual(self.rows(SU.call("GET", "/api/auth/permissions/?perm_string=nodot")), [])
        rows = self.rows(SU.call("GET", "/api/auth/permissions/?app=openbook_core&model=site"))
        self.assertEqual([x["codename"] for x in rows],
                         ["add_site", "change_site", "delete_site", "view_site"])
        rows = self.rows(SU.call("GET", "/api/auth/permissions/?codename=ENROLL&_page_size=5"))
        self.assertTrue(all("enroll" in x["codename"] for x in rows), rows)
        # perm_display_name follows the request language, then the default.
        staff = W.user("translator", staff=True, perms=["openbook_auth.add_permissiontext"])
        t = self.ok(staff.call("POST", "/api/auth/permission_texts/", {
            "language": "de", "parent": "openbook_auth.self_enroll",
            "name": "Darf sich selbst einschreiben"}), 201)
        self.assertEqual(t["parent"], "openbook_auth.self_enroll")
        url = "/api/auth/permissions/?perm_string=openbook_auth.self_enroll"
        de = self.rows(SU.call("GET", url, headers={"Accept-Language": "de"}))[0]
        en = self.rows(SU.call("GET", url, headers={"Accept-Language": "en"}))[0]
        self.assertEqual(de["perm_display_name"], "Darf sich selbst einschreiben")
        self.assertEqual(en["perm_display_name"], "Can self-enroll in a scope")
        r = staff.call("POST", "/api/auth/permission_texts/", {
            "language": "de", "parent": "openbook_auth.self_enroll", "name": "x"})
        self.errors(r, {"non_field_errors": [
            "Permission: Translation with this Permission and Language already exists."]})
        r = staff.call("POST", "/api/auth/permission_texts/", {
            "language": "xx", "parent": "bogus", "name": ""})
        self.errors(r, {"language": ['Invalid pk "xx" - object does not exist.'],
                        "parent": ["Permission 'bogus' not found."],
                        "name": ["This field may not be blank."]})
        # The staff gate: a staff user without change_permissiontext.
        self.assertJSON(staff.call("PATCH", "/api/auth/permission_texts/%s/" % t["id"],
                                   {"name": "y"}), 403, ps.FORBIDDEN)
        self.assertEqual(self.rows(ps.anon(W, "GET", "/api/auth/permission_texts/")), [])
        reader = W.user("ptreader", perms=["openbook_auth.view_permissiontext"])
        rows = self.rows(reader.call("GET", "/api/auth/permission_texts/?_expand=parent"))
        self.assertEqual(rows[0]["parent"], "openbook_auth.self_enroll")  # not visible: plain key
        rows = self.rows(SU.call("GET", "/api/auth/permission_texts/?_expand=parent&language=de"))
        self.assertEqual(rows[0]["parent"]["perm_string"], "openbook_auth.self_enroll")


class AdminGate(ps.Base):
    def test_anonymous_permissions_superuser_writes(self):
        staff = W.user("staff", staff=True, perms=["openbook_auth.add_anonymouspermission"])
        body = {"permission": "openbook_content.view_course"}
        self.assertJSON(staff.call("POST", "/api/auth/anonymous_permissions/", body), 403,
                        ps.FORBIDDEN)
        self.assertJSON(ps.anon(W, "POST", "/api/auth/anonymous_permissions/", body), 403,
                        ps.NO_CREDENTIALS)
        row = self.ok(SU.call("POST", "/api/auth/anonymous_permissions/", body), 201)
        self.assertEqual(row["permission"], "openbook_content.view_course")
        self.assertEqual(row["perm_display_name"], "Can view Course")
        self.errors(SU.call("POST", "/api/auth/anonymous_permissions/", body), {
            "permission": ["Anonymous Permission with this Permission already exists."]})
        self.assertEqual(SU.call("DELETE", "/api/auth/anonymous_permissions/%s/"
                                 % row["id"]).status, 204)
        # Gated resources are 404 only for items that do not exist.
        self.assertJSON(SU.call("DELETE", "/api/auth/anonymous_permissions/%s/" % row["id"]), 404,
                        {"detail": "No AnonymousPermission matches the given query."})
        self.assertJSON(staff.call("DELETE", "/api/auth/anonymous_permissions/%s/" % row["id"]),
                        403, ps.FORBIDDEN)

    def test_allowed_role_permissions(self):
        body = {"scope_type": ps.GROUP, "permission": "openbook_auth.view_role"}
        self.assertJSON(W.user("x").call("POST", "/api/auth/allowed_role_permissions/", body), 403,
                        ps.FORBIDDEN)
        row = self.ok(SU.call("POST", "/api/auth/allowed_role_permissions/", body), 201)
        self.assertEqual(list(row), ["id", "scope_type", "permission"])
        self.errors(SU.call("POST", "/api/auth/allowed_role_permissions/", body), {
            "non_field_errors": [
                "Allowed Role Permission with this Scope Type and Permission already exists."]})
        # Reads are anonymous, but rows need view_allowedrolepermission.
        self.assertEqual(self.rows(ps.anon(W, "GET", "/api/auth/allowed_role_permissions/")), [])
        rows = self.rows(SU.call("GET", "/api/auth/allowed_role_permissions/?scope_type="
                                 + ps.GROUP))
        self.assertEqual([x["id"] for x in rows], [row["id"]])
        ct = W.ct(ps.GROUP)
        rows = self.rows(SU.call("GET", "/api/auth/allowed_role_permissions/?scope_type=%d" % ct))
        self.assertEqual([x["id"] for x in rows], [row["id"]])
        rows = self.rows(SU.call("GET", "/api/auth/allowed_role_permissions/?_expand=permission"
                                 "&permission=openbook_auth.view_role&scope_type=" + ps.GROUP))
        self.assertEqual(rows[0]["permission"]["perm_string"], "openbook_auth.view_role")
        self.assertEqual(SU.call("PATCH", "/api/auth/allowed_role_permissions/%s/" % row["id"],
                                 {}).status, 405)

    def test_groups(self):
        staff = W.user("gstaff", staff=True, perms=["openbook_auth.add_group",
                                                    "openbook_auth.change_group"])
        notstaff = W.user("gplain", perms=["openbook_auth.add_group"])
        body = {"name": " Editors ", "slug": "editors", "permissions": ["openbook_auth.view_role"]}
        self.assertJSON(notstaff.call("POST", "/api/auth/groups/", body), 403, ps.FORBIDDEN)
        g = self.ok(staff.call("POST", "/api/auth/groups/", body), 201)
        self.assertEqual(list(g), ["id", "name", "slug", "permissions", "user_count"])
        self.assertEqual((g["name"], g["permissions"], g["user_count"]),
                         ("Editors", ["openbook_auth.view_role"], 0))
        self.errors(staff.call("POST", "/api/auth/groups/", body), {
            "name": ["User Group with this Name already exists."]})
        self.errors(staff.call("POST", "/api/auth/groups/", {"name": "Other", "slug": "editors"}),
                    {"slug": ["User Group with this Slug already exists."]})
        self.errors(staff.call("POST", "/api/auth/groups/", {"name": "X" * 151, "slug": "a b"}), {
            "name": ["Ensure this field has no more than 150 characters."],
            "slug": ['Enter a valid "slug" consisting of letters, numbers, underscores or hyphens.']})
        self.errors(staff.call("POST", "/api/auth/groups/", {}), {
            "name": ["This field is required."], "slug": ["This field is required."]})
        r = staff.call("PATCH", "/api/auth/groups/%d/" % g["id"],
                       {"permissions": ["openbook_auth.view_role", "nope.nope"]})
        self.errors(r, {"permissions": ["Permission 'nope.nope' not found."]})
        r = staff.call("PATCH", "/api/auth/groups/%d/" % g["id"], {"permissions": [1]})
        self.errors(r, {"permissions": ["Invalid format: Expected a permission string."]})
        r = staff.call("PATCH", "/api/auth/groups/%d/" % g["id"], {"permissions": "x"})
        self.errors(r, {"permissions": ['Expected a list of items but got type "str".']})
        r = staff.call("PUT", "/api/auth/groups/%d/" % g["id"],
                       {"name": "Editors", "slug": "editors", "permissions": []})
        self.assertEqual(self.ok(r)["permissions"], [])
        # delete needs delete_group.
        self.assertJSON(staff.call("DELETE", "/api/auth/groups/%d/" % g["id"]), 403, ps.FORBIDDEN)
        self.assertEqual(SU.call("DELETE", "/api/auth/groups/%d/" % g["id"]).status, 204)
        # Reads: global view_group (Teacher has it).
        teacher = W.user("gteacher", groups=["teacher"])
        self.assertTrue(self.rows(teacher.call("GET", "/api/auth/groups/?slug=teacher")))
        self.assertEqual(self.rows(W.user("nobody").call("GET", "/api/auth/groups/")), [])
        rows = self.rows(SU.call("GET", "/api/auth/groups/?slug=teacher&_expand=permissions"))
        self.assertEqual(rows[0]["permissions"][0]["perm_string"], "openbook_auth.view_group")


class ScopeTypes(ps.Base):
    def test_list_and_detail(self):
        u = W.user("st")
        data = self.assertJSON(u.call("GET", "/api/auth/scope_types/"), 200)
        want = sorted([{"pk": W.ct(ps.COURSE), "id": ps.COURSE, "label": "Course"},
                       {"pk": W.ct(ps.GROUP), "id": ps.GROUP, "label": "Library Group"}],
                      key=lambda x: x["pk"])
        self.assertEqual(data, want)
        self.assertJSON(ps.anon(W, "GET", "/api/auth/scope_types/"), 403, ps.NO_CREDENTIALS)
        mine = W.scope(ps.COURSE, owner=u, name="Mine")
        W.scope(ps.COURSE, name="Hidden")
        pub = W.scope(ps.COURSE, name="Public")
        W.public(ps.COURSE, pub, "openbook_content.view_course")
        W.whitelist(ps.COURSE, ["openbook_content.view_course"])
        for key in (ps.COURSE, str(W.ct(ps.COURSE))):
            d = self.ok(u.call("GET", "/api/auth/scope_types/%s/" % key))
            self.assertEqual(list(d), ["pk", "id", "label", "objects", "allowed_permissions"])
            self.assertEqual(d["objects"], [{"uuid": mine, "name": "Mine"},
                                            {"uuid": pub, "name": "Public"}])
            self.assertIn({"id": W.perm_id("openbook_content.view_course"),
                           "perm": "openbook_content.view_course", "app": "Learning Content",
                           "model": "Course", "name": "Can view Course"},
                          d["allowed_permissions"])
        names = [o["name"] for o in self.ok(SU.call("GET", "/api/auth/scope_types/%s/"
                                                    % ps.COURSE))["objects"]]
        self.assertIn("Hidden", names)
        for key in ("openbook_auth.user", "999999", "x"):
            self.assertJSON(u.call("GET", "/api/auth/scope_types/%s/" % key), 404,
                            {"detail": "Not found."})


class Roles(ps.Base):
    @classmethod
    def setUpClass(cls):
        W.whitelist(ps.COURSE, ["openbook_auth.view_role", "openbook_content.view_course"])
        cls.owner = W.user("rowner")
        cls.scope = W.scope(ps.COURSE, owner=cls.owner)

    def body(self, **kw):
        b = {"scope_type": ps.COURSE, "scope_uuid": self.scope, "slug": W.unique("r"),
             "name": "Role", "priority": 1}
        b.update(kw)
        return b

    def test_create_shape_and_defaults(self):
        r = self.owner.call("POST", "/api/auth/roles/", self.body(
            permissions=["openbook_auth.view_role"], description="  desc  ", unknown_field=1))
        role = self.ok(r, 201)
        self.assertEqual(list(role), ROLE_FIELDS)
        self.assertEqual((role["text_format"], role["is_active"], role["description"],
                          role["permissions"], role["created_by"], role["modified_by"]),
                         ("MD", True, "desc", ["openbook_auth.view_role"], self.owner.name,
                          self.owner.name))
        self.assertRegex(role["created_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
        got = self.ok(SU.call("GET", "/api/auth/roles/%s/?_expand=permissions,created_by"
                              % role["id"]))
        self.assertEqual([p["perm_string"] for p in got["permissions"]],
                         ["openbook_auth.view_role"])
        self.assertEqual(got["created_by"]["username"], self.owner.name)
        # Permissions need auth.view_permission to be seen: an expansion
        # leaves out what the requester could not GET (api-conventions.md 8).
        got = self.ok(self.owner.call("GET", "/api/auth/roles/%s/?_expand=permissions"
                                      % role["id"]))
        self.assertEqual(got["permissions"], [])
        # Unique slug within the scope.
        r = self.owner.call("POST", "/api/auth/roles/", self.body(slug=role["slug"]))
        self.errors(r, {"non_field_errors": [
            "Role with this Scope Type, Scope UUID and Slug already exists."]})
        # Filters, search, sort.
        rows = self.rows(self.owner.call("GET", "/api/auth/roles/?slug=%s" % role["slug"]))
        self.assertEqual([x["id"] for x in rows], [role["id"]])
        rows = self.rows(self.owner.call("GET", "/api/auth/roles/?scope_type=%s&_search=%s"
                                         % (ps.COURSE, role["slug"].upper())))
        self.assertEqual([x["id"] for x in rows], [role["id"]])
        self.errors(self.owner.call("GET", "/api/auth/roles/?priority__gte=x"),
                    {"priority__gte": ["Enter a whole number."]})
        self.errors(self.owner.call("GET", "/api/auth/roles/?scope_uuid=nope"),
                    {"scope_uuid": ["Enter a valid UUID."]})
        self.errors(self.owner.call("GET", "/api/auth/roles/?created_at__lte=nope"),
                    {"created_at__lte": ["Enter a valid date/time."]})
        rows = self.rows(self.owner.call("GET", "/api/auth/roles/?created_by=%s&_fields=id,slug"
                                         % self.owner.name))
        self.assertTrue(rows and all(list(x) == ["id", "slug"] for x in rows))

    def test_whitelist(self):
        r = self.owner.call("POST", "/api/auth/roles/", self.body(
            permissions=["openbook_auth.view_role", "openbook_auth.delete_user"]))
        self.errors(r, {"permissions": [
            "Permission openbook_auth.delete_user cannot be assigned in this scope"]})

    def test_natural_key_errors(self):
        cases = [
            ({"scope_type": "no.such"}, {"scope_type": ["Scope type 'no.such' not found."]}),
            ({"scope_type": "nodot"}, {"scope_type": ["Scope type 'nodot' not found."]}),
            ({"scope_type": 5}, {"scope_type": ["Invalid format: Expected a scope type string."]}),
            ({"scope_type": "openbook_auth.user"}, {"scope_type": ["Scope type user is not valid."]}),
            ({"scope_type": "openbook_core.site"},
             {"scope_type": ["Scope type Website is not valid."]}),
            ({"scope_uuid": "xyz"}, {"scope_uuid": ["Must be a valid UUID."]}),
            ({"scope_uuid": "00000000-0000-4000-8000-000000000000"},
             {"scope_uuid": ["Scope object not found."]}),
            ({"permissions": ["x"]}, {"permissions": ["Permission 'x' not found."]}),
            ({"permissions": [None]},
             {"permissions": ["Invalid format: Expected a permission string."]}),
        ]
        for patch, want in cases:
            r = self.owner.call("POST", "/api/auth/roles/", self.body(**patch))
            self.errors(r, want)
        # UUIDs in any case, with or without hyphens.
        r = self.owner.call("POST", "/api/auth/roles/", self.body(
            scope_uuid=self.scope.upper().replace("-", "")))
        self.assertEqual(self.ok(r, 201)["scope_uuid"], self.scope)

    def test_role_references(self):
        body = {"scope_type": ps.COURSE, "scope_uuid": self.scope, "user": self.owner.name}
        r = self.owner.call("POST", "/api/auth/role_assignments/", dict(body, role="nope"))
        self.errors(r, {"role": ["Role 'nope' not found."]})
        r = self.owner.call("POST", "/api/auth/role_assignments/", dict(body, role=1))
        self.errors(r, {"role": ["Invalid format: Expected a role slug."]})
        r = self.owner.call("POST", "/api/auth/role_assignments/", {"role": "x", "user": "nobody"})
        self.errors(r, {"scope_type": ["This field is required."],
                        "scope_uuid": ["This field is required."],
                        "role": ["Scope type and scope UUID are required."],
                        "user": ["Object with username=nobody does not exist."]})
        # A scope that names nothing is that field's error alone: the role
        # is not "given without a scope" (api-resources.md [scope]).
        missing = "00000000-0000-4000-8000-000000000000"
        for path in ("/api/auth/role_assignments/", "/api/auth/access_requests/",
                     "/api/auth/enrollment_methods/"):
            r = self.owner.call("POST", path, dict(body, name="M", scope_uuid=missing,
                                                   role="student"))
            self.errors(r, {"scope_uuid": ["Scope object not found."]})
        r = self.owner.call("POST", "/api/auth/role_assignments/",
                            dict(body, scope_uuid="xyz", role="student"))
        self.errors(r, {"scope_uuid": ["Must be a valid UUID."]})
        r = self.owner.call("POST", "/api/auth/role_assignments/",
                            dict(body, scope_type="no.such", role="student"))
        self.errors(r, {"scope_type": ["Scope type 'no.such' not found."]})
        # Only a role given without any scope says so.
        r = self.owner.call("POST", "/api/auth/role_assignments/",
                            {"scope_type": ps.COURSE, "role": "x", "user": self.owner.name})
        self.errors(r, {"scope_uuid": ["This field is required."],
                        "role": ["Scope type and scope UUID are required."]})

    def test_bad_types(self):
        cases = [
            ({"priority": "x"}, {"priority": ["A valid integer is required."]}),
            ({"priority": 1.5}, {"priority": ["A valid integer is required."]}),
            ({"priority": -1}, {"priority": ["Ensure this value is greater than or equal to 0."]}),
            ({"priority": 32768},
             {"priority": ["Ensure this value is less than or equal to 32767."]}),
            ({"priority": None}, {"priority": ["This field may not be null."]}),
            ({"is_active": "maybe"}, {"is_active": ["Must be a valid boolean."]}),
            ({"slug": "x" * 51}, {"slug": ["Ensure this field has no more than 50 characters."]}),
            ({"name": "   "}, {"name": ["This field may not be blank."]}),
            ({"name": ["a"]}, {"name": ["Not a valid string."]}),
            ({"text_format": "RTF"}, {"text_format": ['"RTF" is not a valid choice.']}),
            ({"permissions": {"a": 1}},
             {"permissions": ['Expected a list of items but got type "dict".']}),
        ]
        for patch, want in cases:
            self.errors(self.owner.call("POST", "/api/auth/roles/", self.body(**patch)), want)
        # Strings for numbers and booleans.
        role = self.ok(self.owner.call("POST", "/api/auth/roles/", self.body(
            priority="7", is_active="FALSE")), 201)
        self.assertEqual((role["priority"], role["is_active"]), (7, False))
        for v, want in (("1", True), (0, False), ("true", True)):
            r = self.owner.call("PATCH", "/api/auth/roles/%s/" % role["id"], {"is_active": v})
            self.assertIs(self.ok(r)["is_active"], want)
        # Malformed bodies and keys.
        r = self.owner.call("POST", "/api/auth/roles/", raw=b"{not json")
        self.assertDetail(r, 400, "JSON parse error - ")
        r = self.owner.call("POST", "/api/auth/roles/", raw=b"[]")
        self.errors(r, {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]})
        for key in ("not-a-uuid", "1", "%s0" % role["id"]):
            self.assertJSON(self.owner.call("GET", "/api/auth/roles/%s/" % key), 404,
                            {"detail": "No Role matches the given query."})
        r = self.owner.call("PUT", "/api/auth/roles/%s/" % role["id"], {"name": "only"})
        self.errors(r, {"slug": ["This field is required."],
                        "priority": ["This field is required."]})

    def test_delete_cascades(self):
        role = self.ok(self.owner.call("POST", "/api/auth/roles/", self.body()), 201)
        a = self.ok(self.owner.call("POST", "/api/auth/role_assignments/", {
            "scope_type": ps.COURSE, "scope_uuid": self.scope, "role": role["slug"],
            "user": self.owner.name}), 201)
        got = self.ok(self.owner.call("GET", "/api/auth/roles/%s/?_expand=role_assignments"
                                      % role["id"]))
        self.assertEqual([x["id"] for x in got["role_assignments"]], [a["id"]])
        # Dotted paths reach nested levels; _fields shapes them.
        got = self.ok(self.owner.call(
            "GET", "/api/auth/roles/%s/?_expand=role_assignments.user"
            "&_fields=slug,role_assignments.user.username" % role["id"]))
        self.assertEqual(got, {"slug": role["slug"], "role_assignments": [
            {"user": {"username": self.owner.name}}]})
        self.assertEqual(self.owner.call("DELETE", "/api/auth/roles/%s/" % role["id"]).status, 204)
        self.assertJSON(self.owner.call("GET", "/api/auth/role_assignments/%s/" % a["id"]), 404,
                        {"detail": "No RoleAssignment matches the given query."})

    def test_methods_not_offered(self):
        self.assertEqual(self.owner.call("POST", "/api/auth/scope_types/", {}).status, 405)
        r = self.owner.call("DELETE", "/api/auth/permissions/1/")
        self.assertJSON(r, 405, {"detail": 'Method "DELETE" not allowed.'})


class Sites(ps.Base):
    def test_edit_gate_and_validation(self):
        body = {"domain": "openbook.studio", "name": "OpenBook", "short_name": "OpenBook",
                "about_url": "https://openbook.studio", "brand_color": "#e2001a"}
        self.assertJSON(ps.anon(W, "PATCH", "/api/core/sites/1/", {"name": "x"}), 403,
                        ps.NO_CREDENTIALS)
        self.assertJSON(W.user("nostaff", perms=["openbook_core.change_site"]).call(
            "PATCH", "/api/core/sites/1/", {"name": "x"}), 403, ps.FORBIDDEN)
        self.assertJSON(W.user("staffnoperm", staff=True).call(
            "PATCH", "/api/core/sites/1/", {"name": "x"}), 403, ps.FORBIDDEN)
        staff = W.user("sitestaff", staff=True, perms=["openbook_core.change_site"])
        r = staff.call("PATCH", "/api/core/sites/1/", {"name": "Renamed", "brand_color": "#ABC"})
        self.assertEqual((self.ok(r)["name"], self.ok(r)["brand_color"]), ("Renamed", "#ABC"))
        r = staff.call("PATCH", "/api/core/sites/1/", {
            "about_url": "not a url", "brand_color": "red", "domain": "d" * 101, "short_name": ""})
        self.errors(r, {"domain": ["Ensure this field has no more than 100 characters."],
                        "short_name": ["This field may not be blank."],
                        "about_url": ["Enter a valid URL."],
                        "brand_color": ["Enter a valid color: #rgb or #rrggbb."]})
        self.errors(staff.call("PUT", "/api/core/sites/1/", {"name": "x"}), {
            "domain": ["This field is required."], "short_name": ["This field is required."],
            "about_url": ["This field is required."]})
        self.ok(staff.call("PUT", "/api/core/sites/1/", body))
        self.assertJSON(staff.call("PATCH", "/api/core/sites/2/", {"name": "x"}), 404,
                        {"detail": "No Site matches the given query."})
        site = self.ok(ps.anon(W, "GET", "/api/core/sites/1/?_expand=auth_config"))
        self.assertEqual(site["auth_config"]["site"], 1)
        self.assertNotIn("translations", site["auth_config"])
        site = self.ok(ps.anon(W, "GET", "/api/core/sites/1/?_expand=auth_config.translations"))
        self.assertEqual(len(site["auth_config"]["translations"]), 2)


class AuthConfigs(ps.Base):
    def test_read_and_superuser_write(self):
        cfg = self.ok(ps.anon(W, "GET", "/api/auth/auth_configs/1/"))
        self.assertEqual(list(cfg), ["site", "local_signup_allowed", "signup_email_suffix",
                                     "logout_next_url", "signup_image", "login_image",
                                     "logout_image", "password_reset_image"])
        self.assertEqual(len(self.rows(ps.anon(W, "GET", "/api/auth/auth_configs/"))), 1)
        staff = W.user("cfgstaff", staff=True, perms=["openbook_auth.change_authconfig"])
        self.assertJSON(staff.call("PATCH", "/api/auth/auth_configs/1/", {}), 403, ps.FORBIDDEN)
        r = SU.call("PATCH", "/api/auth/auth_configs/1/", {
            "signup_email_suffix": "@example.org", "logout_image": "",
            "translations": [{"language": "en", "logout_next_text": "Home"}]})
        self.assertEqual(self.ok(r)["signup_email_suffix"], "@example.org")
        cfg = self.ok(ps.anon(W, "GET", "/api/auth/auth_configs/1/?_expand=translations"))
        self.assertEqual(cfg["translations"], [{"parent": 1, "language": "en",
                                                "logout_next_text": "Home"}])
        # Every field's errors at once, a list's per item.
        r = SU.call("PATCH", "/api/auth/auth_configs/1/", {
            "logout_next_url": "", "translations": [{"language": "xx"}, {}]})
        self.errors(r, {"logout_next_url": ["This field may not be blank."], "translations": [
            {"language": ['Invalid pk "xx" - object does not exist.']},
            {"language": ["This field is required."]}]})
        r = SU.call("PATCH", "/api/auth/auth_configs/1/", {"translations": [
            {"language": "en", "logout_next_text": "x" * 256}, "en", {"language": 1}]})
        self.errors(r, {"translations": [
            {"logout_next_text": ["Ensure this field has no more than 255 characters."]},
            {"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]},
            {"language": ["Incorrect type. Expected pk value, received int."]}]})
        r = SU.call("PATCH", "/api/auth/auth_configs/1/", {"translations": None})
        self.errors(r, {"translations": ["This field may not be null."]})
        self.assertEqual(SU.call("POST", "/api/auth/auth_configs/", {}).status, 405)
        # Back to the initial texts (other tests read them).
        self.ok(SU.call("PATCH", "/api/auth/auth_configs/1/", {
            "signup_email_suffix": "", "translations": [
                {"language": "de", "logout_next_text": "Startseite"},
                {"language": "en", "logout_next_text": "Start Page"}]}))


class Languages(ps.Base):
    """api-resources.md 2, languages: C U P D for staff with the model
    permission; deleting a language deletes the translations in it."""

    def test_admin_writes_and_cascade(self):
        path = "/api/core/languages/"
        body = {"language": "fr", "name": " Fran\u00e7ais "}
        self.assertJSON(ps.anon(W, "POST", path, body), 403, ps.NO_CREDENTIALS)
        self.assertJSON(W.user("lnostaff", perms=["openbook_core.add_language"]).call(
            "POST", path, body), 403, ps.FORBIDDEN)
        self.assertJSON(W.user("lstaff0", staff=True).call("POST", path, body), 403,
                        ps.FORBIDDEN)
        staff = W.user("lstaff", staff=True, perms=["openbook_core.add_language",
                                                    "openbook_core.change_language"])
        lang = self.ok(staff.call("POST", path, body), 201)
        self.assertEqual(lang, {"language": "fr", "name": "Fran\u00e7ais"})
        self.assertEqual(self.ok(ps.anon(W, "GET", path + "fr/")), lang)
        self.errors(staff.call("POST", path, {"language": "fr", "name": "Other"}),
                    {"language": ["Language with this Language Code already exists."]})
        self.errors(staff.call("POST", path, {}), {"language": ["This field is required."],
                                                   "name": ["This field is required."]})
        self.errors(staff.call("POST", path, {"language": "fran", "name": "n" * 65}), {
            "language": ["Ensure this field has no more than 3 characters."],
            "name": ["Ensure this field has no more than 64 characters."]})
        self.errors(staff.call("POST", path, {"language": "a b", "name": "Space"}), {
            "language": ['Enter a valid "slug" consisting of letters, numbers, underscores or '
                         'hyphens.']})
        # The code is the key: set on create, ignored afterwards.
        r = staff.call("PATCH", path + "fr/", {"name": "French", "language": "fx"})
        self.assertEqual(self.ok(r), {"language": "fr", "name": "French"})
        self.errors(staff.call("PUT", path + "fr/", {"language": "fr"}),
                    {"name": ["This field is required."]})
        self.assertEqual(self.ok(staff.call("PUT", path + "fr/", {"name": "Francais"}))["name"],
                         "Francais")
        self.assertJSON(staff.call("PATCH", path + "xx/", {"name": "x"}), 404,
                        {"detail": "No Language matches the given query."})
        # Translations in it.
        texts = self.ok(SU.call("POST", "/api/auth/permission_texts/", {
            "language": "fr", "parent": "openbook_auth.self_enroll", "name": "S'inscrire"}), 201)
        W.psql("INSERT INTO auth_config_texts (site_id, language, logout_next_text)"
               " VALUES (1, 'fr', 'Accueil')")
        self.assertJSON(staff.call("DELETE", path + "fr/"), 403, ps.FORBIDDEN)
        deleter = W.user("ldel", staff=True, perms=["openbook_core.delete_language"])
        r = deleter.call("DELETE", path + "fr/")
        self.assertEqual((r.status, r.body), (204, b""), repr(r))
        self.assertJSON(ps.anon(W, "GET", path + "fr/"), 404,
                        {"detail": "No Language matches the given query."})
        self.assertJSON(SU.call("GET", "/api/auth/permission_texts/%s/" % texts["id"]), 404,
                        {"detail": "No PermissionText matches the given query."})
        self.assertEqual(W.psql("SELECT count(*) FROM auth_config_texts WHERE language = 'fr'"
                                ).split(), ["0"])
        self.assertEqual([x["language"] for x in self.rows(ps.anon(W, "GET", path))],
                         ["de", "en"])


SIGNUP_FIELDS = ["id", "name", "description", "text_format", "is_active", "site", "social_app",
                 "groups", "is_staff", "is_superuser", "assertions"]


class SignupGroupAssignments(ps.Base):
    """api-resources.md 1, signup_group_assignments (admin addition): every
    method behind staff + the model permission; the effect at sign-up
    (api-auth.md 6)."""

    PATH = "/api/auth/signup_group_assignments/"
    ALL = ["openbook_auth.%s_signupgroupassignment" % a
           for a in ("view", "add", "change", "delete")]

    def test_gate(self):
        self.assertJSON(ps.anon(W, "GET", self.PATH), 403, ps.NO_CREDENTIALS)
        for u in (W.user("sgnostaff", perms=self.ALL), W.user("sgstaff0", staff=True)):
            self.assertJSON(u.call("GET", self.PATH), 403, ps.FORBIDDEN)
            self.assertJSON(u.call("POST", self.PATH, {"name": "x"}), 403, ps.FORBIDDEN)
        viewer = W.user("sgview", staff=True,
                        perms=["openbook_auth.view_signupgroupassignment"])
        rows = self.rows(viewer.call("GET", self.PATH))
        initial = [x for x in rows if x["name"] == "Students"]
        self.assertEqual(len(initial), 1, rows)
        self.assertEqual(list(initial[0]), SIGNUP_FIELDS)
        self.assertEqual({k: v for k, v in initial[0].items() if k != "id"}, {
            "name": "Students", "description": "New users become students.",
            "text_format": "MD", "is_active": True, "site": None, "social_app": None,
            "groups": ["student"], "is_staff": False, "is_superuser": False,
            "assertions": []})
        self.assertEqual(self.ok(viewer.call("GET", self.PATH + initial[0]["id"] + "/")),
                         initial[0])
        self.assertJSON(viewer.call("PATCH", self.PATH + initial[0]["id"] + "/", {"name": "x"}),
                        403, ps.FORBIDDEN)
        self.assertJSON(viewer.call("GET", self.PATH + "00000000-0000-4000-8000-000000000000/"),
                        404, {"detail": "No SignupGroupAssignment matches the given query."})

    def test_write_validate_filter_delete(self):
        staff = W.user("sgadmin", staff=True, perms=self.ALL)
        body = {"name": " Teachers ", "groups": ["teacher"], "site": 1, "assertions": [
            {"name": "mail", "value": "@uni.example", "match_strategy": "ends-with"},
            {"name": " affiliation ", "value": None}]}
        a = self.ok(staff.call("POST", self.PATH, body), 201)
        self.assertEqual(list(a), SIGNUP_FIELDS)
        self.assertEqual({k: v for k, v in a.items() if k != "id"}, {
            "name": "Teachers", "description": "", "text_format": "MD", "is_active": True,
            "site": 1, "social_app": None, "groups": ["teacher"], "is_staff": False,
            "is_superuser": False, "assertions": [
                {"name": "mail", "value": "@uni.example", "match_strategy": "ends-with"},
                {"name": "affiliation", "value": None, "match_strategy": "exact"}]})
        item = self.PATH + a["id"] + "/"
        self.assertEqual(self.ok(staff.call("GET", item)), a)
        self.errors(staff.call("POST", self.PATH, {}), {"name": ["This field is required."]})
        self.errors(staff.call("POST", self.PATH, {"name": "x", "site": 99, "groups": ["nope"],
                                                   "is_staff": "maybe"}), {
            "site": ['Invalid pk "99" - object does not exist.'],
            "groups": ["Object with slug=nope does not exist."],
            "is_staff": ["Must be a valid boolean."]})
        self.errors(staff.call("POST", self.PATH, {"name": "x", "assertions": [
            {"value": "v"}, {"name": "n", "match_strategy": "fuzzy"}, {"name": "ok"}, "x",
            {"name": "n" * 256, "value": "v" * 256}]}), {"assertions": [
                {"name": ["This field is required."]},
                {"match_strategy": ['"fuzzy" is not a valid choice.']},
                {},
                {"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]},
                {"name": ["Ensure this field has no more than 255 characters."],
                 "value": ["Ensure this field has no more than 255 characters."]}]})
        self.errors(staff.call("POST", self.PATH, {"name": "x", "assertions": {"name": "n"}}),
                    {"assertions": ['Expected a list of items but got type "dict".']})
        # Writing assertions replaces them; other writes keep them.
        r = staff.call("PATCH", item, {"assertions": [{"name": "eduPerson", "value": "staff",
                                                       "match_strategy": "regex"}]})
        self.assertEqual(self.ok(r)["assertions"], [
            {"name": "eduPerson", "value": "staff", "match_strategy": "regex"}])
        r = staff.call("PUT", item, {"name": "Teachers", "is_active": False, "social_app": "saml",
                                     "site": None})
        got = self.ok(r)
        self.assertEqual((got["is_active"], got["social_app"], got["site"], got["groups"],
                          len(got["assertions"])), (False, "saml", None, ["teacher"], 1))
        # Filters, search, order.
        names = lambda q: [x["name"] for x in self.rows(staff.call("GET", self.PATH + q))]
        self.assertIn("Teachers", names("?is_active=false"))
        self.assertNotIn("Students", names("?is_active=false"))
        self.ok(staff.call("PATCH", item, {"site": 1}))
        self.assertEqual(names("?site=1"), ["Teachers"])
        self.errors(staff.call("GET", self.PATH + "?site=x"), {"site": [
            "Select a valid choice. That choice is not one of the available choices."]})
        self.assertEqual(names("?_search=TEACH"), ["Teachers"])
        self.assertEqual(names(""), sorted(names("")))
        # Delete takes its links and assertions along.
        self.assertEqual(staff.call("DELETE", item).status, 204)
        self.assertJSON(staff.call("GET", item), 404,
                        {"detail": "No SignupGroupAssignment matches the given query."})
        self.assertEqual(W.psql("SELECT count(*) FROM signup_group_assignment_assertions"
                                " WHERE assignment_id = %s" % ps.lit(a["id"])).split(), ["0"])

    def test_signup_follows_the_assignments(self):
        import auth_support as au
        made = []
        W.psql("INSERT INTO groups (name, slug) VALUES ('Sign-up A', 'sga'), ('Sign-up B', 'sgb'),"
               " ('Sign-up C', 'sgc') ON CONFLICT DO NOTHING")
        for body in ({"name": "Local A", "groups": ["sga"]},
                     {"name": "Off", "groups": ["sgb"], "is_active": False},
                     {"name": "Provider", "groups": ["sgc"], "social_app": "saml"}):
            made.append(self.ok(SU.call("POST", self.PATH, body), 201))
        try:
            name = W.unique("signup")
            r = au.Client(STACK, "app").post("/auth/signup", {
                "username": name, "email": name + "@example.org",
                "password": au.GOOD_PASSWORD})
            self.assertIn(r.status, (200, 401), repr(r))
            groups = W.psql("SELECT g.slug FROM user_groups ug JOIN groups g ON g.id = ug.group_id"
                            " JOIN users u ON u.id = ug.user_id WHERE u.username = %s"
                            " ORDER BY g.slug" % ps.lit(name)).split()
            self.assertEqual(groups, ["sga", "student"])
        finally:
            for a in made:
                SU.call("DELETE", self.PATH + a["id"] + "/")


class NeverServerError(ps.Base):
    """Every writable field of every resource here, given values of every
    JSON type, answers 2xx/4xx (api-conventions.md: never a 500); the
    sanitizers watch the server meanwhile (checked at tear-down)."""

    VALUES = [None, True, 0, -1, 2 ** 40, 1.5, "", " ", "x" * 300, "\u00e4\u00f6",
              "00000000-0000-4000-8000-000000000000", "2025-01-01T00:00:00Z", "not-a-date",
              [], ["x"], [None], {}, {"a": [1, {"b": None}]}]

    def test_fields_of_every_type(self):
        W.whitelist(ps.COURSE, ["openbook_auth.view_role"])
        scope = W.scope(ps.COURSE, owner=SU)
        role = W.role(scope, "fz", 5)
        base = {"scope_type": ps.COURSE, "scope_uuid": scope}
        targets = {
            "/api/auth/roles/": dict(base, slug="fz2", name="F", priority=1),
            "/api/auth/role_assignments/": dict(base, role="fz", user=SU.name),
            "/api/auth/enrollment_methods/": dict(base, name="M", role="fz"),
            "/api/auth/access_requests/": dict(base, role="fz", user=SU.name),
            "/api/auth/groups/": {"name": "Fuzz", "slug": "fuzz"},
            "/api/auth/permission_texts/": {"language": "en", "parent": "openbook_auth.view_role",
                                            "name": "n"},
            "/api/auth/allowed_role_permissions/": {"scope_type": ps.COURSE,
                                                    "permission": "openbook_auth.add_role"},
            "/api/auth/anonymous_permissions/": {"permission": "openbook_auth.add_role"},
            "/api/auth/signup_group_assignments/": {"name": "S", "groups": ["student"],
                                                    "assertions": [{"name": "a"}]},
            "/api/core/languages/": {"language": "zz", "name": "Zed"},
        }
        seen = set()
        for path, good in targets.items():
            fields = list(good) + ["description", "text_format", "is_active", "start_date",
                                   "end_date", "duration_period", "duration_value", "decision",
                                   "passphrase", "permissions", "end_date", "site",
                                   "social_app", "groups", "is_staff", "assertions"]
            for f in fields:
                for v in self.VALUES:
                    body = dict(good)
                    body[f] = v
                    r = SU.call("POST", path, body)
                    self.assertIn(r.status, (201, 400), "%s %s=%r: %r" % (path, f, v, r))
                    seen.add(r.status)
                    if r.status == 201:
                        # Back out, so the next create is not a duplicate.
                        item = r.json()
                        key = item.get("id", item.get("language"))
                        self.assertIn(SU.call("DELETE", "%s%s/" % (path, key)).status, (204, 405))
        self.assertEqual(seen, {201, 400})
        for path, body in (("/api/core/sites/1/", {}), ("/api/auth/auth_configs/1/", {})):
            for f in ("domain", "about_url", "brand_color", "logout_next_url", "translations",
                      "login_image", "local_signup_allowed"):
                for v in self.VALUES:
                    r = SU.call("PATCH", path, {f: v})
                    self.assertIn(r.status, (200, 400), "%s %s=%r: %r" % (path, f, v, r))
        # Leave the site and its config as the other tests expect them.
        SU.call("PUT", "/api/core/sites/1/", {
            "domain": "openbook.studio", "name": "OpenBook", "short_name": "OpenBook",
            "about_url": "https://openbook.studio", "brand_color": "#e2001a"})
        SU.call("PATCH", "/api/auth/auth_configs/1/", {
            "logout_next_url": "/", "local_signup_allowed": True, "translations": [
                {"language": "de", "logout_next_text": "Startseite"},
                {"language": "en", "logout_next_text": "Start Page"}]})
        for key in ("x", "0", "-1", "99999999999999999999", "%00", "a" * 300):
            for path in targets:
                r = SU.call("PATCH", "%s%s/" % (path, key), {})
                self.assertIn(r.status, (400, 404, 405), "%s%s: %r" % (path, key, r))
        self.assertTrue(role)


class QueryCount(ps.Base):
    """The number of statements per list request does not depend on the
    number of rows (permissions.md section 7), measured in the PostgreSQL
    log."""

    def statements(self, user, path):
        log = STACK.log_path("postgres")
        start = os.path.getsize(log)
        # A fresh answer: a repeat from the response cache runs nothing.
        r = user.call("GET", path, headers={"Cache-Control": "no-cache"})
        self.assertEqual(r.status, 200, repr(r))
        time.sleep(0.1)  # the log line of the last statement
        with open(log, "rb") as f:
            f.seek(start)
            text = f.read().decode("utf-8", "replace")
        return [x for x in text.splitlines() if "duration:" in x and
                ("execute" in x or "statement:" in x)]

    def test_constant(self):
        W.whitelist(ps.COURSE, ["openbook_auth.view_role", "openbook_auth.view_roleassignment",
                                "openbook_auth.change_role"])
        owner = W.user("qowner")
        t = W.user("qt")
        paths = {
            "roles": "/api/auth/roles/?scope_uuid=%s&_page_size=100",
            "roles+expand": "/api/auth/roles/?scope_uuid=%s&_page_size=100"
                            "&_expand=created_by,permissions,role_assignments.user",
            "role_assignments+expand": "/api/auth/role_assignments/?scope_uuid=%s"
                                       "&_page_size=100&_expand=user,role",
            "enrollment_methods": "/api/auth/enrollment_methods/?scope_uuid=%s&_page_size=100",
        }
        counts = {k: {} for k in paths}
        W.psql("ALTER SYSTEM SET log_min_duration_statement = 0")
        W.psql("SELECT pg_reload_conf()")
        try:
            self.measure(owner, t, paths, counts)
        finally:
            W.psql("ALTER SYSTEM RESET log_min_duration_statement")
            W.psql("SELECT pg_reload_conf()")
        for name, c in counts.items():
            self.assertEqual(len(set(c.values())), 1, (name, c))
            self.assertLessEqual(c[1], 8, (name, c))
        report = os.environ.get("OPENBOOK_REPORT_QUERIES")
        if report:
            with open(report, "a") as f:
                for name, c in counts.items():
                    f.write("%s: statements per request by rows %r\n" % (name, c))

    def measure(self, owner, t, paths, counts):
        time.sleep(0.2)  # the reload reaches every backend
        for n in (1, 5, 40):
            sc = W.scope(ps.COURSE, owner=owner)
            rid = W.role(sc, "viewer", 10, ["openbook_auth.view_role",
                                            "openbook_auth.view_roleassignment"])
            W.role(sc, "editor", 20, ["openbook_auth.change_role"])
            W.assign(sc, rid, t)
            # n more roles, each with an assignment of a new user and an
            # enrollment method, in one statement.
            W.psql(
                "WITH r AS (INSERT INTO roles (scope_type_id, scope_uuid, slug, name, priority)"
                " SELECT %(ct)d, '%(sc)s', 'r' || i, 'R' || i, 5 FROM generate_series(1, %(n)d) i"
                " RETURNING id, slug),"
                " u AS (INSERT INTO users (username) SELECT 'm%(tag)s_' || i"
                " FROM generate_series(1, %(n)d) i RETURNING id, username),"
                " a AS (INSERT INTO role_assignments (scope_type_id, scope_uuid, role_id, user_id)"
                " SELECT %(ct)d, '%(sc)s', r.id, u.id FROM r JOIN u"
                " ON substr(u.username, length('m%(tag)s_') + 1) = substr(r.slug, 2))"
                " INSERT INTO enrollment_methods (scope_type_id, scope_uuid, name, role_id)"
                " SELECT %(ct)d, '%(sc)s', 'm' || r.slug, r.id FROM r"
                % {"ct": W.ct(ps.COURSE), "sc": sc, "n": n, "tag": W.unique("q")})
            for name, tmpl in paths.items():
                path = tmpl % sc
                for _ in range(4):  # warm both workers (catalogue cache, prepared statements)
                    t.call("GET", path)
                counts[name][n] = len(self.statements(t, path))


if __name__ == "__main__":
    unittest.main()
