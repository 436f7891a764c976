"""REST resources of accounts through nginx: /api/auth/current_user/,
/api/auth/users/ and /api/auth/auth_tokens/ (api-resources.md; rules U and T
of permissions.md; api-conventions.md for envelopes and messages).

Users and their tokens are inserted with psql (the token's SHA-256 is what
the server stores), so the tests authenticate with `Authorization: Token`
and, where the session matters, with a session row and its cookie.
"""

import base64
import hashlib
import re
import secrets
import string
import unittest

import support

STACK = None
ALNUM = string.ascii_letters + string.digits

PUBLIC = ["id", "username", "full_name", "first_name", "last_name", "description", "picture",
          "is_staff", "last_login", "date_joined"]
ADMIN = ["email", "user_type", "is_active", "is_superuser", "groups", "user_permissions"]
TOKEN_FIELDS = ["id", "user", "token", "token_prefix", "name", "description", "text_format",
                "is_active", "start_date", "end_date", "created_by", "created_at", "modified_by",
                "modified_at"]
FORBIDDEN = {"detail": "You do not have permission to perform this action."}
NO_CREDENTIALS = {"detail": "Authentication credentials were not provided."}
NO_USER = {"detail": "No User matches the given query."}
NO_TOKEN = {"detail": "No AuthToken matches the given query."}
DATETIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z$")


def setUpModule():
    global STACK
    STACK = support.start_stack("users")
    support.StackTestCase.stack = STACK
    # The initial groups of api-resources.md §5 (load-initial-data may not
    # create them yet in this build).
    STACK.psql("INSERT INTO groups (name, slug) VALUES ('Student', 'student'), "
               "('Teacher', 'teacher') ON CONFLICT DO NOTHING")
    STACK.psql("INSERT INTO group_permissions (group_id, permission_id) "
               "SELECT g.id, p.id FROM groups g, permissions p JOIN content_types ct "
               "ON ct.id = p.content_type_id WHERE g.slug IN ('student', 'teacher') "
               "AND ct.app_label = 'openbook_auth' AND p.codename = 'view_user' "
               "ON CONFLICT DO NOTHING")


def tearDownModule():
    support.StackTestCase.stack = None
    support.stop_stack(STACK)


def lit(v):
    if v is None:
        return "NULL"
    return "'" + str(v).replace("'", "''") + "'"


def pbkdf2(password):
    salt = secrets.token_hex(8)
    dk = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 1000, 32)
    return "pbkdf2_sha256$1000$%s$%s" % (salt, base64.b64encode(dk).decode())


_n = [0]


def unique(prefix):
    _n[0] += 1
    return "%s%d%s" % (prefix, _n[0], secrets.token_hex(2))


def mkuser(prefix="user", superuser=False, active=True, perms=(), groups=(), first="",
           last="", description=""):
    """A user with a primary address and an API token; returns (name, id, token)."""
    name = unique(prefix)
    uid = int(STACK.psql(
        "INSERT INTO users (username, password, email, first_name, last_name, description, "
        "is_superuser, is_staff, is_active) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
        "RETURNING id" % (lit(name), lit(pbkdf2("x-Secret-123")), lit(name.lower() + "@example.org"),
                          lit(first), lit(last), lit(description), superuser, superuser, active)
    ).split()[0])
    STACK.psql("INSERT INTO email_addresses (user_id, email, verified, is_primary) "
               "VALUES (%d, %s, true, true)" % (uid, lit(name.lower() + "@example.org")))
    for p in perms:
        grant(uid, p)
    for g in groups:
        STACK.psql("INSERT INTO user_groups (user_id, group_id) SELECT %d, id FROM groups "
                   "WHERE slug = %s" % (uid, lit(g)))
    return name, uid, mktoken(uid)


def grant(uid, perm):
    app, codename = perm.split(".")
    STACK.psql("INSERT INTO user_permissions (user_id, permission_id) SELECT %d, p.id "
               "FROM permissions p JOIN content_types ct ON ct.id = p.content_type_id "
               "WHERE ct.app_label = %s AND p.codename = %s ON CONFLICT DO NOTHING"
               % (uid, lit(app), lit(codename)))


def mktoken(uid, active=True, name="test"):
    tok = "".join(secrets.choice(ALNUM) for _ in range(64))
    STACK.psql("INSERT INTO auth_tokens (user_id, token_hash, token_prefix, name, is_active) "
               "VALUES (%d, decode('%s', 'hex'), '%s', %s, %s)"
               % (uid, hashlib.sha256(tok.encode()).hexdigest(), tok[:8], lit(name), active))
    return tok


def auth(token):
    return {"Authorization": "Token " + token}


class Base(support.StackTestCase):
    def call(self, method, path, token=None, body=None, headers=None):
        h = dict(headers or {})
        if token:
            h.update(auth(token))
        return self.req(method, path, json_body=body, headers=h)

    def page(self, r):
        data = self.assertJSON(r, 200)
        self.assertEqual(sorted(data), ["count", "next", "previous", "results"], repr(r))
        return data


# --------------------------------------------------------------------------


class CurrentUser(Base):
    def test_anonymous_exactly(self):
        for q in ("", "?_fields=username", "?_omit=is_authenticated"):
            r = self.get("/api/auth/current_user/" + q)
            self.assertJSON(r, 200, {"is_authenticated": False})
        self.assertJSON(self.get("/api/auth/current_user"), 200, {"is_authenticated": False})

    def test_authenticated_shape(self):
        name, uid, tok = mkuser("cur", first="Ada", last="Lovelace", description="Hi")
        data = self.assertJSON(self.call("GET", "/api/auth/current_user/", tok), 200)
        self.assertEqual(list(data), PUBLIC + ["email", "is_authenticated", "is_superuser"])
        self.assertEqual(data["id"], uid)
        self.assertEqual(data["username"], name)
        self.assertEqual(data["full_name"], "Ada Lovelace")
        self.assertEqual(data["email"], name.lower() + "@example.org")
        self.assertIs(data["is_authenticated"], True)
        self.assertIs(data["is_superuser"], False)
        self.assertIs(data["is_staff"], False)
        self.assertIsNone(data["picture"])
        self.assertIsNone(data["last_login"])
        self.assertRegex(data["date_joined"], DATETIME_RE)

    def test_fields_and_omit(self):
        name, _, tok = mkuser("curf")
        r = self.call("GET", "/api/auth/current_user/?_fields=username,is_authenticated", tok)
        self.assertJSON(r, 200, {"username": name, "is_authenticated": True})
        data = self.assertJSON(self.call("GET", "/api/auth/current_user/?_omit=email,id", tok), 200)
        self.assertNotIn("email", data)
        self.assertNotIn("id", data)
        self.assertIn("username", data)

    def test_superuser_flag(self):
        _, _, tok = mkuser("cursu", superuser=True)
        data = self.assertJSON(self.call("GET", "/api/auth/current_user/", tok), 200)
        self.assertIs(data["is_superuser"], True)

    def test_model_permissions_from_groups(self):
        # permissions.model: own model permissions and the groups' ones,
        # once each, sorted; what the app's administration uses to show a
        # staff user only what the admin gate (permissions.md §9) lets
        # through.
        gid = STACK.psql("INSERT INTO groups (name, slug) VALUES (%s, %s) RETURNING id"
                         % (lit(unique("Lang")), lit(unique("lang")))).split()[0]
        STACK.psql("INSERT INTO group_permissions (group_id, permission_id) SELECT %s, p.id "
                   "FROM permissions p JOIN content_types ct ON ct.id = p.content_type_id "
                   "WHERE ct.app_label = 'openbook_core' AND p.codename IN "
                   "('change_language', 'add_language')" % gid)
        _, uid, tok = mkuser("curmp", perms=("openbook_core.add_language",
                                             "openbook_auth.view_group"))
        STACK.psql("INSERT INTO user_groups (user_id, group_id) VALUES (%d, %s)" % (uid, gid))
        me = "/api/auth/current_user/?_expand=permissions"
        data = self.assertJSON(self.call("GET", me, tok), 200)
        self.assertEqual(data["permissions"]["model"], [
            "openbook_auth.view_group", "openbook_core.add_language",
            "openbook_core.change_language"])
        # Another user's grants are not the requester's.
        _, _, other = mkuser("curmp2")
        data = self.assertJSON(self.call("GET", me, other), 200)
        self.assertEqual(data["permissions"]["model"], [])

    def test_anything_below_is_not_found(self):
        _, _, tok = mkuser("curx")
        for path in ("/api/auth/current_user/1/", "/api/auth/current_user/x/y/",
                     "/api/auth/current_user/me"):
            self.assertJSON(self.call("GET", path, tok), 404, {"detail": "Not found."})
            self.assertJSON(self.get(path), 404, {"detail": "Not found."})

    def test_get_only(self):
        _, _, tok = mkuser("curm")
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            r = self.call(method, "/api/auth/current_user/", tok, body={})
            self.assertJSON(r, 405, {"detail": 'Method "%s" not allowed.' % method})

    def test_api_root_lists_collections(self):
        data = self.assertJSON(self.get("/api/"), 200)
        for name in ("auth/users", "auth/auth_tokens", "auth/current_user"):
            self.assertEqual(data.get(name), self.url("/api/%s/" % name))

    def test_inactive_users_token(self):
        _, _, tok = mkuser("curi", active=False)
        r = self.call("GET", "/api/auth/current_user/", tok)
        self.assertJSON(r, 403, {"detail": "User is inactive or deleted."})


# --------------------------------------------------------------------------


class UsersRead(Base):
    @classmethod
    def setUpClass(cls):
        cls.plain = mkuser("plain", first="Plain", last="Person")
        cls.student = mkuser("stud", groups=["student"], description="likes Kafka")
        cls.viewer = mkuser("viewer", perms=["openbook_auth.view_user"])
        cls.gone = mkuser("gone", active=False)
        cls.su = mkuser("root", superuser=True)

    def names(self, r):
        return [u["username"] for u in self.page(r)["results"]]

    def test_login_required(self):
        self.assertJSON(self.get("/api/auth/users/"), 403, NO_CREDENTIALS)
        self.assertJSON(self.get("/api/auth/users/%s/" % self.plain[0]), 403, NO_CREDENTIALS)

    def test_without_view_user_only_self(self):
        r = self.call("GET", "/api/auth/users/", self.plain[2])
        data = self.page(r)
        self.assertEqual(data["count"], 1)
        self.assertEqual(data["results"][0]["username"], self.plain[0])
        self.assertEqual(list(data["results"][0]), PUBLIC)
        self.assertJSON(self.call("GET", "/api/auth/users/%s/" % self.student[0], self.plain[2]),
                        404, NO_USER)
        me = self.assertJSON(self.call("GET", "/api/auth/users/%s/" % self.plain[0],
                                       self.plain[2]), 200)
        self.assertEqual(me["full_name"], "Plain Person")
        self.assertEqual(list(me), PUBLIC)

    def test_group_and_user_permission_show_active_users(self):
        for who in (self.student, self.viewer):
            names = self.names(self.call("GET", "/api/auth/users/?_page_size=1000", who[2]))
            for n in (self.plain[0], self.student[0], self.viewer[0], self.su[0]):
                self.assertIn(n, names)
            self.assertNotIn(self.gone[0], names)
            self.assertJSON(self.call("GET", "/api/auth/users/%s/" % self.gone[0], who[2]),
                            404, NO_USER)
            self.assertEqual(names, sorted(names, key=lambda s: s))  # ordered by username

    def test_superuser_sees_everyone_and_admin_fields(self):
        r = self.call("GET", "/api/auth/users/?_page_size=1000", self.su[2])
        rows = {u["username"]: u for u in self.page(r)["results"]}
        self.assertIn(self.gone[0], rows)
        self.assertEqual(list(rows[self.gone[0]]), PUBLIC + ADMIN)
        self.assertIs(rows[self.gone[0]]["is_active"], False)
        self.assertEqual(rows[self.student[0]]["groups"], ["student"])
        self.assertEqual(rows[self.viewer[0]]["user_permissions"], ["openbook_auth.view_user"])
        self.assertEqual(rows[self.plain[0]]["user_type"], "human")
        names = self.names(self.call("GET", "/api/auth/users/?is_active=false&_page_size=1000",
                                     self.su[2]))
        self.assertIn(self.gone[0], names)
        self.assertNotIn(self.plain[0], names)

    def test_admin_filters_ignored_for_others(self):
        # email__icontains and is_active are superuser-only filters.
        a = self.names(self.call("GET", "/api/auth/users/?_page_size=1000", self.viewer[2]))
        b = self.names(self.call("GET", "/api/auth/users/?_page_size=1000&email__icontains="
                                 + self.plain[0].lower(), self.viewer[2]))
        self.assertEqual(a, b)
        c = self.names(self.call("GET", "/api/auth/users/?_page_size=1000&is_active=false",
                                 self.viewer[2]))
        self.assertEqual(a, c)
        d = self.names(self.call("GET", "/api/auth/users/?_page_size=1000&email__icontains="
                                 + self.plain[0].lower(), self.su[2]))
        self.assertEqual(d, [self.plain[0]])

    def test_search_and_filters(self):
        tok = self.viewer[2]
        self.assertEqual(self.names(self.call("GET", "/api/auth/users/?_search=kafka", tok)),
                         [self.student[0]])
        self.assertEqual(self.names(self.call(
            "GET", "/api/auth/users/?_search=plain,person", tok)), [self.plain[0]])
        self.assertEqual(self.names(self.call(
            "GET", "/api/auth/users/?username__icontains=" + self.plain[0].upper(), tok)),
            [self.plain[0]])
        self.assertEqual(self.names(self.call(
            "GET", "/api/auth/users/?first_name__icontains=lai&_search=" + self.plain[0],
            tok)), [self.plain[0]])
        staff = self.names(self.call("GET", "/api/auth/users/?is_staff=true&_page_size=1000",
                                     tok))
        self.assertIn(self.su[0], staff)
        self.assertNotIn(self.plain[0], staff)

    def test_sort(self):
        tok = self.viewer[2]
        r = self.call("GET", "/api/auth/users/?_sort=-username&_page_size=1000", tok)
        names = self.names(r)
        self.assertEqual(names, sorted(names, reverse=True))

    def test_admin_fields_hidden_from_fields_param(self):
        r = self.call("GET", "/api/auth/users/%s/?_fields=username,email" % self.plain[0],
                      self.viewer[2])
        self.assertJSON(r, 200, {"username": self.plain[0]})
        r = self.call("GET", "/api/auth/users/%s/?_fields=username,email" % self.plain[0],
                      self.su[2])
        self.assertJSON(r, 200, {"username": self.plain[0],
                                 "email": self.plain[0].lower() + "@example.org"})

    def test_bad_keys(self):
        self.assertJSON(self.call("GET", "/api/auth/users/%s/" % ("x" * 700), self.su[2]), 404,
                        NO_USER)
        self.assertJSON(self.call("GET", "/api/auth/users/nobody-here/", self.su[2]), 404,
                        NO_USER)


class UsersWrite(Base):
    def test_patch_own_profile(self):
        name, uid, tok = mkuser("self")
        r = self.call("PATCH", "/api/auth/users/%s/" % name, tok,
                      body={"first_name": "  Grace ", "last_name": "Hopper",
                            "description": "COBOL", "is_superuser": True, "email": "x@y.org",
                            "username": "renamed"})
        data = self.assertJSON(r, 200)
        self.assertEqual(data["first_name"], "Grace")
        self.assertEqual(data["full_name"], "Grace Hopper")
        self.assertEqual(data["description"], "COBOL")
        self.assertEqual(data["username"], name)
        self.assertEqual(list(data), PUBLIC)
        # Admin fields are read-only for non-superusers: ignored.
        self.assertEqual(STACK.psql("SELECT is_superuser, email FROM users WHERE id = %d" % uid)
                         .strip(), "f|%s@example.org" % name.lower())
        # PUT with only some fields keeps the others.
        r = self.call("PUT", "/api/auth/users/%s/" % name, tok, body={"last_name": "H."})
        data = self.assertJSON(r, 200)
        self.assertEqual((data["first_name"], data["last_name"]), ("Grace", "H."))
        # Without the final slash too.
        r = self.call("PATCH", "/api/auth/users/%s" % name, tok, body={"first_name": "G"})
        self.assertEqual(self.assertJSON(r, 200)["first_name"], "G")

    def test_validation_messages(self):
        name, _, tok = mkuser("val")
        path = "/api/auth/users/%s/" % name
        self.assertJSON(self.call("PATCH", path, tok, body={"first_name": "x" * 151}), 400,
                        {"first_name": ["Ensure this field has no more than 150 characters."]})
        self.assertJSON(self.call("PATCH", path, tok, body={"first_name": None,
                                                           "last_name": ["a"]}), 400,
                        {"first_name": ["This field may not be null."],
                         "last_name": ["Not a valid string."]})
        self.assertJSON(self.call("PATCH", path, tok, body={"first_name": "é" * 150}), 200)
        self.assertEqual(self.assertJSON(self.call("PATCH", path, tok, body={"last_name": 42}),
                                         200)["last_name"], "42")
        self.assertJSON(self.call("PATCH", path, tok, body={"description": "a\u0000b"}), 400,
                        {"description": ["Null characters are not allowed."]})
        r = self.call("PATCH", path, tok)
        self.assertEqual(r.status, 200, repr(r))  # an empty body changes nothing
        r = self.req("PATCH", path, body=b"[1]", headers=dict(auth(tok), **{
            "Content-Type": "application/json"}))
        self.assertJSON(r, 400, {"non_field_errors": [
            "Invalid data. Expected a dictionary, but got list."]})
        self.assertJSON(self.call("PATCH", path, tok, body={"picture": "x.png"}), 400, {
            "picture": ["The submitted data was not a file. Check the encoding type on the form."]})
        self.assertJSON(self.call("PATCH", path, tok, body={"picture": ""}), 200)

    def test_other_user_visible_but_not_changeable(self):
        target, _, _ = mkuser("tgt", first="T")
        _, _, viewer = mkuser("vw", groups=["student"])
        _, _, blind = mkuser("bl")
        path = "/api/auth/users/%s/" % target
        self.assertJSON(self.call("PATCH", path, viewer, body={"first_name": "X"}), 403,
                        FORBIDDEN)
        self.assertJSON(self.call("DELETE", path, viewer), 403, FORBIDDEN)
        # Invisible: 404 even for the write, before looking at the body.
        self.assertJSON(self.call("PATCH", path, blind, body={"first_name": "x" * 200}), 404,
                        NO_USER)
        self.assertJSON(self.call("DELETE", path, blind), 404, NO_USER)
        # Validation comes before the object permission (api-conventions.md §5).
        self.assertEqual(self.call("PATCH", path, viewer, body={"first_name": "x" * 200}).status,
                         400)
        # With change_user the edit goes through.
        _, vid, _ = mkuser("chg")
        _, _, changer = mkuser("chg2", perms=["openbook_auth.change_user"])
        r = self.call("PATCH", path, changer, body={"first_name": "Changed"})
        self.assertEqual(self.assertJSON(r, 200)["first_name"], "Changed")

    def test_superuser_admin_fields(self):
        name, uid, _ = mkuser("adm")
        _, _, su = mkuser("su", superuser=True)
        path = "/api/auth/users/%s/" % name
        r = self.call("PATCH", path, su, body={
            "email": "New.Address@Example.org", "user_type": "app", "is_staff": "true",
            "groups": ["teacher", "student"], "user_permissions": ["openbook_auth.view_group"]})
        data = self.assertJSON(r, 200)
        self.assertEqual(data["email"], "new.address@example.org")
        self.assertEqual(data["user_type"], "app")
        self.assertIs(data["is_staff"], True)
        self.assertEqual(data["groups"], ["student", "teacher"])
        self.assertEqual(data["user_permissions"], ["openbook_auth.view_group"])
        self.assertEqual(STACK.psql("SELECT email, verified FROM email_addresses WHERE "
                                    "user_id = %d AND is_primary" % uid).strip(),
                         "new.address@example.org|t")
        self.assertJSON(self.call("PATCH", path, su, body={
            "groups": ["nope", "student"], "user_permissions": ["nope", "auth", 5],
            "user_type": "robot", "is_active": "maybe", "email": "not-an-address",
            "is_superuser": None}), 400, {
            "groups": ["Object with slug=nope does not exist."],
            "user_permissions": ["Permission 'nope' not found."],
            "user_type": ['"robot" is not a valid choice.'],
            "is_active": ["Must be a valid boolean."],
            "email": ["Enter a valid email address."],
            "is_superuser": ["This field may not be null."]})
        self.assertJSON(self.call("PATCH", path, su, body={"groups": "student"}), 400, {
            "groups": ['Expected a list of items but got type "str".']})
        self.assertJSON(self.call("PATCH", path, su, body={"user_permissions": [
            "openbook_auth.view_user", 5, "nope"]}), 400, {
            "user_permissions": ["Invalid format: Expected a permission string."]})
        self.assertEqual(self.assertJSON(self.call("PATCH", path, su, body={"groups": []}),
                                         200)["groups"], [])

    def test_superuser_sets_password_and_deactivates(self):
        name, uid, tok = mkuser("pw")
        _, _, su = mkuser("su", superuser=True)
        path = "/api/auth/users/%s/" % name
        STACK.psql("INSERT INTO sessions (key_hash, user_id, expires_at) VALUES "
                   "(decode('%s', 'hex'), %d, now() + interval '1 hour')"
                   % (hashlib.sha256(b"k" * 32).hexdigest(), uid))
        self.assertJSON(self.call("PATCH", path, su, body={"password": "12345678"}), 400)
        r = self.call("PATCH", path, su, body={"password": "short"})
        self.assertIn("This password is too short. It must contain at least 8 characters.",
                      self.assertJSON(r, 400)["password"])
        r = self.call("PATCH", path, su, body={"password": "Zq7!orchid-Lantern-93"})
        self.assertNotIn("password", self.assertJSON(r, 200))
        self.assertTrue(STACK.psql("SELECT password FROM users WHERE id = %d" % uid)
                        .strip().startswith("$argon2id$"))
        self.assertEqual(STACK.psql("SELECT count(*) FROM sessions WHERE user_id = %d" % uid)
                         .strip(), "0")
        r = self.call("PATCH", path, su, body={"is_active": False})
        self.assertIs(self.assertJSON(r, 200)["is_active"], False)
        self.assertJSON(self.call("GET", "/api/auth/current_user/", tok), 403,
                        {"detail": "User is inactive or deleted."})

    def test_create(self):
        _, _, su = mkuser("su", superuser=True)
        _, _, plain = mkuser("pl", perms=["openbook_auth.add_user"])
        new = unique("made")
        self.assertJSON(self.call("POST", "/api/auth/users/", plain,
                                  body={"username": new, "email": "a@b.org"}), 403, FORBIDDEN)
        self.assertJSON(self.call("POST", "/api/auth/users/", su, body={}), 400, {
            "username": ["This field is required."], "email": ["This field is required."]})
        self.assertJSON(self.call("POST", "/api/auth/users/", su,
                                  body={"username": "ab", "email": "a@b.org"}), 400,
                        {"username": ["Ensure this field has at least 5 characters."]})
        self.assertJSON(self.call("POST", "/api/auth/users/", su,
                                  body={"username": "with space", "email": "a@b.org"}), 400,
                        {"username": ["Enter a valid username. This value may contain only "
                                      "letters, numbers, and @/./+/-/_ characters."]})
        r = self.call("POST", "/api/auth/users/", su, body={
            "username": new, "email": "Made@Example.org", "first_name": "M", "user_type": "app",
            "groups": ["student"]})
        data = self.assertJSON(r, 201)
        self.assertEqual(list(data), PUBLIC + ADMIN)
        self.assertEqual((data["username"], data["email"], data["user_type"], data["groups"],
                          data["is_staff"], data["is_superuser"], data["is_active"]),
                         (new, "made@example.org", "app", ["student"], False, False, True))
        self.assertEqual(STACK.psql("SELECT password FROM users WHERE username = %s" % lit(new))
                         .strip()[:1], "!")
        self.assertEqual(STACK.psql("SELECT verified, is_primary FROM email_addresses e JOIN "
                                    "users u ON u.id = e.user_id WHERE u.username = %s"
                                    % lit(new)).strip(), "t|t")
        # Unique, case-insensitively; the blacklist does not apply here.
        self.assertJSON(self.call("POST", "/api/auth/users/", su,
                                  body={"username": new.upper(), "email": "c@d.org"}), 400,
                        {"username": ["A user with that username already exists."]})
        admin = "admin" + secrets.token_hex(2)
        self.assertJSON(self.call("POST", "/api/auth/users/", su, body={
            "username": admin, "email": "e@f.org", "password": "Zq7!orchid-Lantern-93",
            "is_superuser": True}), 201)
        self.assertTrue(STACK.psql("SELECT password FROM users WHERE username = %s" % lit(admin))
                        .strip().startswith("$argon2id$"))

    def test_delete(self):
        name, uid, tok = mkuser("del")
        mktoken(uid)
        _, _, deleter = mkuser("dl", perms=["openbook_auth.delete_user",
                                             "openbook_auth.view_user"])
        r = self.call("DELETE", "/api/auth/users/%s/" % name, deleter)
        self.assertEqual(r.status, 204, repr(r))
        self.assertEqual(r.body, b"")
        self.assertEqual(STACK.psql("SELECT count(*) FROM auth_tokens WHERE user_id = %d" % uid)
                         .strip(), "0")
        self.assertJSON(self.call("GET", "/api/auth/current_user/", tok), 403,
                        {"detail": "Invalid token received."})

    def test_delete_self_logs_out(self):
        name, uid, tok = mkuser("me")
        key = "".join(secrets.choice(ALNUM) for _ in range(32))
        csrf = "".join(secrets.choice(ALNUM) for _ in range(32))
        STACK.psql("INSERT INTO sessions (key_hash, user_id, expires_at) VALUES "
                   "(decode('%s', 'hex'), %d, now() + interval '1 hour')"
                   % (hashlib.sha256(key.encode()).hexdigest(), uid))
        # Cookie-authenticated unsafe requests need the CSRF token.
        cookie = {"Cookie": "sessionid=%s; csrftoken=%s" % (key, csrf)}
        r = self.req("DELETE", "/api/auth/users/%s/" % name, headers=cookie)
        self.assertEqual(r.status, 403, repr(r))
        r = self.req("DELETE", "/api/auth/users/%s/" % name,
                     headers=dict(cookie, **{"X-CSRFToken": csrf}))
        self.assertEqual(r.status, 204, repr(r))
        set_cookie = " ".join(r.header_all("Set-Cookie"))
        self.assertIn("sessionid=", set_cookie)
        self.assertIn("Max-Age=0", set_cookie)
        self.assertEqual(STACK.psql("SELECT count(*) FROM users WHERE id = %d" % uid).strip(),
                         "0")
        self.assertJSON(self.req("GET", "/api/auth/current_user/", headers=cookie), 200,
                        {"is_authenticated": False})

    def test_methods(self):
        _, _, tok = mkuser("mth")
        r = self.call("DELETE", "/api/auth/users/", tok)
        self.assertJSON(r, 405, {"detail": 'Method "DELETE" not allowed.'})
        r = self.call("POST", "/api/auth/users/x/", tok, body={})
        self.assertJSON(r, 405, {"detail": 'Method "POST" not allowed.'})


# --------------------------------------------------------------------------


class Tokens(Base):
    @classmethod
    def setUpClass(cls):
        cls.owner = mkuser("own", perms=["openbook_auth.manage_own_authtoken"])
        cls.other = mkuser("oth", perms=["openbook_auth.manage_own_authtoken"])
        cls.nobody = mkuser("nob")
        cls.auditor = mkuser("aud", perms=["openbook_auth.view_authtoken"])
        cls.su = mkuser("tsu", superuser=True)

    def create(self, who, body):
        return self.call("POST", "/api/auth/auth_tokens/", who[2], body=body)

    def test_login_required(self):
        self.assertJSON(self.get("/api/auth/auth_tokens/"), 403, NO_CREDENTIALS)
        self.assertJSON(self.req("POST", "/api/auth/auth_tokens/", json_body={"name": "x"}), 403,
                        NO_CREDENTIALS)

    def test_create_shows_token_once(self):
        r = self.create(self.owner, {"name": " laptop ", "description": "d",
                                     "text_format": "TEXT", "end_date": "2099-01-01T10:00:00+02:00"})
        data = self.assertJSON(r, 201)
        self.assertEqual(list(data), TOKEN_FIELDS)
        tok = data["token"]
        self.assertRegex(tok, r"^[A-Za-z0-9]{64}$")
        self.assertEqual(data["token_prefix"], tok[:8])
        self.assertEqual((data["user"], data["name"], data["description"], data["text_format"],
                          data["is_active"], data["start_date"], data["end_date"],
                          data["created_by"], data["modified_by"]),
                         (self.owner[0], "laptop", "d", "TEXT", True, None,
                          "2099-01-01T08:00:00Z", self.owner[0], self.owner[0]))
        self.assertRegex(data["created_at"], DATETIME_RE)
        # Stored hashed; the new token authenticates.
        self.assertEqual(STACK.psql("SELECT encode(token_hash, 'hex') FROM auth_tokens WHERE "
                                    "id = '%s'" % data["id"]).strip(),
                         hashlib.sha256(tok.encode()).hexdigest())
        me = self.assertJSON(self.call("GET", "/api/auth/current_user/", tok), 200)
        self.assertEqual(me["username"], self.owner[0])
        # Nowhere else is the token shown.
        got = self.assertJSON(self.call("GET", "/api/auth/auth_tokens/%s/" % data["id"],
                                        self.owner[2]), 200)
        self.assertIsNone(got["token"])
        self.assertEqual(got["token_prefix"], tok[:8])
        listed = self.page(self.call("GET", "/api/auth/auth_tokens/", self.owner[2]))
        self.assertTrue(all(t["token"] is None for t in listed["results"]))
        self.assertIn(data["id"], [t["id"] for t in listed["results"]])

    def test_rule_t_visibility(self):
        mine = self.assertJSON(self.create(self.owner, {"name": "vis"}), 201)["id"]
        theirs = self.assertJSON(self.create(self.other, {"name": "vis"}), 201)["id"]
        own_list = self.page(self.call("GET", "/api/auth/auth_tokens/?_page_size=1000",
                                       self.owner[2]))
        users = {t["user"] for t in own_list["results"]}
        self.assertEqual(users, {self.owner[0]})
        self.assertJSON(self.call("GET", "/api/auth/auth_tokens/%s/" % theirs, self.owner[2]),
                        404, NO_TOKEN)
        # Without manage_own_authtoken even one's own tokens are invisible.
        data = self.page(self.call("GET", "/api/auth/auth_tokens/", self.nobody[2]))
        self.assertEqual(data["count"], 0)
        # Global view_authtoken: every token, but no change.
        ids = [t["id"] for t in self.page(self.call(
            "GET", "/api/auth/auth_tokens/?_page_size=1000", self.auditor[2]))["results"]]
        self.assertIn(mine, ids)
        self.assertIn(theirs, ids)
        self.assertJSON(self.call("PATCH", "/api/auth/auth_tokens/%s/" % mine, self.auditor[2],
                                  body={"name": "x"}), 403, FORBIDDEN)
        self.assertJSON(self.call("DELETE", "/api/auth/auth_tokens/%s/" % mine,
                                  self.auditor[2]), 403, FORBIDDEN)
        # An invisible token is 404 for writes too.
        self.assertJSON(self.call("PATCH", "/api/auth/auth_tokens/%s/" % theirs, self.owner[2],
                                  body={"name": "x"}), 404, NO_TOKEN)

    def test_create_for_others(self):
        self.assertJSON(self.create(self.owner, {"name": "x", "user": self.other[0]}), 404,
                        NO_TOKEN)
        self.assertJSON(self.create(self.nobody, {"name": "x"}), 404, NO_TOKEN)
        # Can view all tokens but not add: 403.
        self.assertJSON(self.create(self.auditor, {"name": "x", "user": self.other[0]}), 403,
                        FORBIDDEN)
        self.assertJSON(self.create(self.owner, {"name": "x", "user": "no-such-user"}), 400,
                        {"user": ["Object with username=no-such-user does not exist."]})
        data = self.assertJSON(self.create(self.su, {"name": "for", "user": self.other[0]}), 201)
        self.assertEqual((data["user"], data["created_by"]), (self.other[0], self.su[0]))

    def test_validation(self):
        self.assertJSON(self.create(self.owner, {}), 400, {"name": ["This field is required."]})
        self.assertJSON(self.create(self.owner, {"name": "  "}), 400,
                        {"name": ["This field may not be blank."]})
        self.assertJSON(self.create(self.owner, {"name": "n" * 256, "text_format": "RTF",
                                                 "is_active": "yes", "start_date": "tomorrow"}),
                        400, {
            "name": ["Ensure this field has no more than 255 characters."],
            "text_format": ['"RTF" is not a valid choice.'],
            "is_active": ["Must be a valid boolean."],
            "start_date": ["Datetime has wrong format. Use one of these formats instead: "
                           "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."]})
        self.assertJSON(self.create(self.owner, {"name": "v", "start_date": "2030-01-02T00:00Z",
                                                 "end_date": "2030-01-01T23:00:00-00:30"}), 400,
                        {"non_field_errors": ["End date must be later than start date."]})
        data = self.assertJSON(self.create(self.owner, {"name": "v", "start_date": "",
                                                        "end_date": None, "is_active": "0"}), 201)
        self.assertEqual((data["start_date"], data["end_date"], data["is_active"]),
                         (None, None, False))

    def test_update_and_delete(self):
        data = self.assertJSON(self.create(self.owner, {"name": "upd",
                                                        "start_date": "2020-01-01T00:00:00Z"}),
                               201)
        path = "/api/auth/auth_tokens/%s/" % data["id"]
        r = self.call("PATCH", path, self.owner[2], body={"description": "new", "user":
                                                          self.other[0], "token": "x"})
        got = self.assertJSON(r, 200)
        self.assertEqual((got["description"], got["user"], got["token"], got["name"]),
                         ("new", self.owner[0], None, "upd"))
        self.assertJSON(self.call("PUT", path, self.owner[2], body={"description": "x"}), 400,
                        {"name": ["This field is required."]})
        # The stored start date counts for the validity check.
        self.assertJSON(self.call("PATCH", path, self.owner[2],
                                  body={"end_date": "2019-12-31T23:59:59Z"}), 400,
                        {"non_field_errors": ["End date must be later than start date."]})
        got = self.assertJSON(self.call("PUT", path, self.owner[2],
                                        body={"name": "put", "end_date": "2021-01-01T00:00:00.5Z"}),
                              200)
        self.assertEqual((got["name"], got["end_date"]), ("put", "2021-01-01T00:00:00.500000Z"))
        # Uppercase and hyphen-less UUIDs name the same item.
        alt = data["id"].replace("-", "").upper()
        self.assertJSON(self.call("GET", "/api/auth/auth_tokens/%s/" % alt, self.owner[2]), 200)
        self.assertJSON(self.call("GET", "/api/auth/auth_tokens/not-a-uuid/", self.owner[2]),
                        404, NO_TOKEN)
        r = self.call("DELETE", path, self.owner[2])
        self.assertEqual(r.status, 204, repr(r))
        self.assertJSON(self.call("GET", path, self.owner[2]), 404, NO_TOKEN)

    def test_inactive_and_expired_tokens_refused(self):
        data = self.assertJSON(self.create(self.owner, {"name": "off", "is_active": False}), 201)
        self.assertJSON(self.call("GET", "/api/auth/current_user/", data["token"]), 403,
                        {"detail": "Token is inactive or expired."})
        data = self.assertJSON(self.create(self.owner, {"name": "old",
                                                        "end_date": "2001-01-01T00:00Z"}), 201)
        self.assertJSON(self.call("GET", "/api/auth/current_user/", data["token"]), 403,
                        {"detail": "Token is inactive or expired."})

    def test_filters_search_sort_expand(self):
        made = [self.assertJSON(self.create(self.su, {"name": "flt-%d" % i,
                                                       "user": self.other[0],
                                                       "description": "needle" if i else ""}),
                                201) for i in range(3)]
        base = "/api/auth/auth_tokens/?_page_size=1000&user=%s" % self.other[0]
        rows = self.page(self.call("GET", base, self.su[2]))["results"]
        self.assertTrue({m["id"] for m in made} <= {t["id"] for t in rows})
        self.assertTrue(all(t["user"] == self.other[0] for t in rows))
        found = self.page(self.call("GET", base + "&_search=needle", self.su[2]))["results"]
        self.assertEqual(sorted(t["id"] for t in found), sorted(m["id"] for m in made[1:]))
        found = self.page(self.call("GET", "/api/auth/auth_tokens/?_search=" +
                                    made[0]["token_prefix"], self.su[2]))["results"]
        self.assertEqual([t["id"] for t in found], [made[0]["id"]])
        self.assertEqual(self.page(self.call("GET", "/api/auth/auth_tokens/?user=nobody-at-all",
                                             self.su[2]))["count"], 0)
        self.assertEqual(self.page(self.call(
            "GET", base + "&created_by=%s&created_at__gte=2000-01-01" % self.su[0],
            self.su[2]))["count"], len(rows) and len([t for t in rows
                                                     if t["created_by"] == self.su[0]]))
        self.assertJSON(self.call("GET", "/api/auth/auth_tokens/?created_at__lte=soon",
                                  self.su[2]), 400, {"created_at__lte": ["Enter a valid date/time."]})
        r = self.call("GET", base + "&_sort=-name", self.su[2])
        names = [t["name"] for t in self.page(r)["results"]]
        self.assertEqual(names, sorted(names, reverse=True))
        # _expand: the public user shape; _fields reaches into it.
        r = self.call("GET", "/api/auth/auth_tokens/%s/?_expand=user,created_by"
                      % made[0]["id"], self.su[2])
        data = self.assertJSON(r, 200)
        self.assertEqual(list(data["user"]), PUBLIC)
        self.assertEqual(data["user"]["username"], self.other[0])
        self.assertEqual(data["created_by"]["username"], self.su[0])
        r = self.call("GET", "/api/auth/auth_tokens/%s/?_expand=user&_fields=id,user.username"
                      % made[0]["id"], self.su[2])
        self.assertJSON(r, 200, {"id": made[0]["id"], "user": {"username": self.other[0]}})

    def test_expand_never_reveals_invisible_users(self):
        # The owner sees their token but not the superuser who created it
        # (no view_user): the reference stays a plain username.
        data = self.assertJSON(self.create(self.su, {"name": "gift", "user": self.owner[0]}), 201)
        r = self.call("GET", "/api/auth/auth_tokens/%s/?_expand=user,created_by" % data["id"],
                      self.owner[2])
        got = self.assertJSON(r, 200)
        self.assertEqual(got["created_by"], self.su[0])
        self.assertEqual(got["user"]["username"], self.owner[0])


if __name__ == "__main__":
    unittest.main()
