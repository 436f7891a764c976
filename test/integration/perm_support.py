"""Helpers of the permission tests (test_perm_*.py, test_auth_resources.py).

Users, tokens and grants are inserted with psql; requests authenticate with
`Authorization: Token` (CSRF-exempt).  Scopes are real rows of the scope
tables (courses in one root library group, or library groups), which the
engine finds through the view scope_objects.
"""

import hashlib
import json
import secrets
import string

import support

ALNUM = string.ascii_letters + string.digits
FORBIDDEN = {"detail": "You do not have permission to perform this action."}
NO_CREDENTIALS = {"detail": "Authentication credentials were not provided."}

COURSE = "openbook_content.course"
GROUP = "openbook_content.librarygroup"


def lit(v):
    if v is None:
        return "NULL"
    return "'" + str(v).replace("'", "''") + "'"


class World:
    """One stack plus helpers to populate it."""

    def __init__(self, stack):
        self.st = stack
        self._n = 0
        self._ct = {}
        self._perm = {}
        self._root = None

    def psql(self, sql):
        return self.st.psql(sql)

    def unique(self, prefix):
        self._n += 1
        return "%s%d%s" % (prefix, self._n, secrets.token_hex(2))

    def ct(self, scope_type):
        if scope_type not in self._ct:
            app, model = scope_type.split(".")
            self._ct[scope_type] = int(self.psql(
                "SELECT id FROM content_types WHERE app_label = %s AND model = %s"
                % (lit(app), lit(model))).split()[0])
        return self._ct[scope_type]

    def perm_id(self, perm):
        if perm not in self._perm:
            app, codename = perm.split(".")
            self._perm[perm] = int(self.psql(
                "SELECT p.id FROM permissions p JOIN content_types ct ON ct.id = p.content_type_id"
                " WHERE ct.app_label = %s AND p.codename = %s" % (lit(app), lit(codename))).split()[0])
        return self._perm[perm]

    @staticmethod
    def perm_ids_sql(perms):
        """SQL for the ids of perm strings (one statement, no round trip each)."""
        arr = "ARRAY[%s]::text[]" % ", ".join(lit(p) for p in perms) if perms else "'{}'::text[]"
        return ("SELECT p.id FROM permissions p JOIN content_types ct ON ct.id = p.content_type_id"
                " WHERE ct.app_label || '.' || p.codename = ANY(%s)" % arr)

    def user(self, prefix="u", superuser=False, staff=False, active=True, perms=(), groups=()):
        """A user with an API token (one statement): returns a User."""
        name = self.unique(prefix)
        tok = "".join(secrets.choice(ALNUM) for _ in range(64))
        garr = "ARRAY[%s]::text[]" % ", ".join(lit(g) for g in groups) if groups else "'{}'::text[]"
        uid = int(self.psql(
            "WITH u AS (INSERT INTO users (username, email, is_superuser, is_staff, is_active)"
            " VALUES (%s, %s, %s, %s, %s) RETURNING id),"
            " t AS (INSERT INTO auth_tokens (user_id, token_hash, token_prefix, name)"
            " SELECT id, decode('%s', 'hex'), '%s', 'test' FROM u),"
            " p AS (INSERT INTO user_permissions (user_id, permission_id) SELECT u.id, x.id FROM u,"
            " (%s) x),"
            " g AS (INSERT INTO user_groups (user_id, group_id) SELECT u.id, gr.id FROM u, groups gr"
            " WHERE gr.slug = ANY(%s))"
            " SELECT id FROM u"
            % (lit(name), lit(name.lower() + "@example.org"), superuser, staff or superuser,
               active, hashlib.sha256(tok.encode()).hexdigest(), tok[:8],
               self.perm_ids_sql(perms), garr)).split()[0])
        return User(self, name, uid, tok)

    def grant(self, uid, perm):
        self.psql("INSERT INTO user_permissions (user_id, permission_id) VALUES (%d, %d)"
                  " ON CONFLICT DO NOTHING" % (uid, self.perm_id(perm)))

    def scope(self, scope_type=COURSE, owner=None, name=None):
        """A scope object (a course, or a root library group); returns its uuid."""
        owner_id = owner.id if owner else "NULL"
        name = name or self.unique("scope")
        if scope_type == GROUP:
            return self.psql(
                "INSERT INTO library_groups (slug, name, owner_id) VALUES (%s, %s, %s)"
                " RETURNING id" % (lit(self.unique("g")), lit(name), owner_id)).split()[0]
        if self._root is None:
            self._root = self.psql("INSERT INTO library_groups (slug, name) VALUES (%s, 'Courses')"
                                   " RETURNING id" % lit(self.unique("courses"))).split()[0]
        return self.psql(
            "INSERT INTO courses (slug, name, group_id, owner_id) VALUES (%s, %s, %s, %s)"
            " RETURNING id" % (lit(self.unique("c")), lit(name), lit(self._root),
                               owner_id)).split()[0]

    def public(self, scope_type, uuid, perm):
        self.psql("INSERT INTO scope_public_permissions (scope_type_id, scope_uuid, permission_id)"
                  " VALUES (%d, %s, %d)" % (self.ct(scope_type), lit(uuid), self.perm_id(perm)))

    def whitelist(self, scope_type, perms):
        self.psql("INSERT INTO allowed_role_permissions (scope_type_id, permission_id)"
                  " SELECT %d, x.id FROM (%s) x ON CONFLICT DO NOTHING"
                  % (self.ct(scope_type), self.perm_ids_sql(perms)))

    def role(self, uuid, slug, priority, perms=(), scope_type=COURSE, active=True):
        """A role inserted directly (no whitelist check); returns its id."""
        return self.psql(
            "WITH r AS (INSERT INTO roles (scope_type_id, scope_uuid, slug, name, priority,"
            " is_active) VALUES (%d, %s, %s, %s, %d, %s) RETURNING id),"
            " p AS (INSERT INTO role_permissions (role_id, permission_id) SELECT r.id, x.id"
            " FROM r, (%s) x) SELECT id FROM r"
            % (self.ct(scope_type), lit(uuid), lit(slug), lit(slug.title()), priority, active,
               self.perm_ids_sql(perms))).split()[0]

    def assign(self, uuid, role_id, user, active=True, start=None, end=None, scope_type=COURSE):
        return self.psql(
            "INSERT INTO role_assignments (scope_type_id, scope_uuid, role_id, user_id, is_active,"
            " start_date, end_date) VALUES (%d, %s, %s, %d, %s, %s, %s) RETURNING id"
            % (self.ct(scope_type), lit(uuid), lit(role_id), user.id, active,
               start or "NULL", end or "NULL")).split()[0]


class User:
    def __init__(self, world, name, uid, token):
        self.world = world
        self.name = name
        self.id = uid
        self.token = token

    def call(self, method, path, body=None, raw=None, headers=None):
        h = {"Authorization": "Token " + self.token}
        h.update(headers or {})
        if raw is not None:
            h.setdefault("Content-Type", "application/json")
            return support.request(self.world.st.port, method, path, body=raw, headers=h)
        return support.request(self.world.st.port, method, path, json_body=body, headers=h)


def anon(world, method, path, body=None):
    return support.request(world.st.port, method, path, json_body=body)


class Base(support.StackTestCase):
    world = None

    def ok(self, r, status=200):
        return self.assertJSON(r, status)

    def rows(self, r):
        data = self.assertJSON(r, 200)
        self.assertEqual(sorted(data), ["count", "next", "previous", "results"], repr(r))
        return data["results"]

    def ids(self, r):
        return sorted(x["id"] for x in self.rows(r))

    def errors(self, r, body):
        self.assertJSON(r, 400, body)


def dumps(v):
    return json.dumps(v).encode()
