"""The generated contract suite: every resource of GET /api/schema/ against
the conventions it promises (api-conventions.md, permissions.md).

Nothing here names a resource.  At load time (unittest's load_tests
protocol) the module starts its Stack, reads the OpenAPI document and
builds one TestCase class per resource, with one test per operation and
requester, named like

    test_core_sites__list__anonymous
    test_auth_auth_tokens__create__no_permission
    test_auth_users__filter__username__icontains

so a resource added to the registry gets its tests for free.  What a test
expects comes from the document: the paths and methods (405 for the rest),
the access mode (403 "Authentication credentials were not provided."),
gates, guard and permissions (what a user without permissions sees:
everything, their own rows, nothing, or 403), the shapes and their
validation (payloads, 400 messages), natural keys, filters, search fields,
sort fields, the default ordering and expansions.

Requesters: anonymous; a user without any permission ("no_permission");
a superuser ("authorised").  The grants everybody holds (anonymous
permissions of the initial data) are read from the database, because
permissions.md §3 makes them part of every answer.

Payloads are derived from the request schemas (required fields, types,
choices, lengths, formats; natural keys from existing objects, created
when there are none).  Two small tables take what the document cannot
say: OVERRIDES (hand-made values) and SETUP (operations whose setup cannot
be derived; listed, with a reason, as skips, so they show up in every
run).  Writes that name a scope need an object of a scope type; until a
collection of such objects exists (courses, library groups), the tests
that need one are skipped with that reason, and run by themselves once it
does.

Every object a test creates is deleted after it, and items a test changes
in place are put back, so tests do not see each other's data.

The stack starts at load time, not in setUpModule, because the tests are
named after what the running server describes; it stops in
tearDownModule (or at exit, when no test of the module was selected).
"""

import atexit
import base64
import datetime
import hashlib
import json
import re
import secrets
import string
import unittest
import uuid
from urllib.parse import parse_qs, urlencode, urlsplit

import support

STACK = None
DOC = None
CREATED = []     # (resource, key) made by the running test, removed after it
RESTORE = []     # (resource, item) changed in place by the running test
SU = None        # the superuser: {"username", "id", "token"}
PLAIN = None     # a user without any permission
ANON_GRANTED = set()   # perm strings of the anonymous permissions
COLLATION_C = True

NO_CREDENTIALS = "Authentication credentials were not provided."
FORBIDDEN = "You do not have permission to perform this action."
INVALID_PAGE = "Invalid page."
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

# Hand-made values: {collection: {field: value or callable(ctx) -> value}}.
# Only for what the document cannot say (a value must satisfy a rule that
# looks at other rows, or a format the schema names only by pattern).
OVERRIDES = {
    # Positions are unique among siblings and default to 0.
    "content/textbook_pages": {"position": lambda p: secrets.randbelow(1 << 30)},
    "content/course_materials": {
        "position": lambda p: secrets.randbelow(1 << 30),
        # One material per course and textbook: a textbook of its own.
        "textbook": lambda p: create("content/textbooks",
                                     resource_named("content/textbooks"))["id"],
    },
    "content/course_material_page_ranges": {
        "position": lambda p: secrets.randbelow(1 << 30),
        # Both pages belong to the material's textbook.
        "start_page": lambda p: page_of_material(p["material"]),
        "end_page": lambda p: page_of_material(p["material"]),
    },
    # A media file is attached to an existing object: a library group.
    "core/media_files": {
        "content_type": lambda p: content_type_id("openbook_content", "librarygroup"),
        "object_id": lambda p: existing_key("content/library_groups", "id", 0),
        "_change": ("object_id", lambda item: existing_key("content/library_groups", "id", 0)),
    },
    # Exactly one target, in another group than the link's.
    "content/library_links": {
        "textbook": lambda p: textbook_elsewhere(p["group"]),
        # What PUT/PATCH tests change (every field is a reference).
        "_change": ("textbook", lambda item: textbook_elsewhere(item["group"])),
    },
}

# Operations whose setup the generator cannot derive from the document:
# {(collection, operation): reason}.  They are reported as skipped.
SETUP = {
}

# Objects the reverse relations and optional references need so that every
# expansion has something to expand (a group's children, a textbook's
# pages, a role's assignments...): made once by seed(), through the API,
# before the tests.  The generator cannot derive them, because what points
# back at an item is not a field of the item's own request schema.
SEEDED = {}
SEEDED_KEYS = set()   # tests draw references among their own items first


# --------------------------------------------------------------------------
# the stack and the document

def _start():
    global STACK, DOC
    if STACK is None:
        STACK = support.start_stack("contract")
        atexit.register(_stop_at_exit)
    if DOC is None:
        r = support.request(STACK.port, "GET", "/api/schema/")
        if r.status != 200:
            raise AssertionError("GET /api/schema/: %r" % r)
        DOC = r.json()
    return DOC


def _stop_at_exit():
    # Only when the module's tests never ran (tearDownModule stops it).
    global STACK
    if STACK is not None:
        try:
            support.stop_stack(STACK)
        except AssertionError as e:
            print(e)
        STACK = None


def lit(v):
    return "'" + str(v).replace("'", "''") + "'"


def pbkdf2(password):
    salt = secrets.token_hex(8)
    dk = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 1000, 32)
    return "pbkdf2_sha256$1000$%s$%s" % (salt, base64.b64encode(dk).decode())


def _mkuser(prefix, superuser=False):
    """A user with an API token, inserted directly (the API under test
    cannot be trusted to make its own requesters)."""
    name = "%s%s" % (prefix, secrets.token_hex(3))
    uid = int(STACK.psql(
        "INSERT INTO users (username, password, email, is_superuser, is_staff, is_active) "
        "VALUES (%s, %s, %s, %s, %s, true) RETURNING id"
        % (lit(name), lit(pbkdf2("x-Secret-123")), lit(name + "@example.org"), superuser,
           superuser)).split()[0])
    STACK.psql("INSERT INTO email_addresses (user_id, email, verified, is_primary) "
               "VALUES (%d, %s, true, true)" % (uid, lit(name + "@example.org")))
    tok = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(64))
    STACK.psql("INSERT INTO auth_tokens (user_id, token_hash, token_prefix, name) "
               "VALUES (%d, decode('%s', 'hex'), '%s', 'contract')"
               % (uid, hashlib.sha256(tok.encode()).hexdigest(), tok[:8]))
    return {"username": name, "id": uid, "token": tok}


def content_type_id(app_label, model):
    return int(STACK.psql("SELECT id FROM content_types WHERE app_label = '%s' AND model = '%s'"
                          % (app_label, model)).split()[0])


def install_library(name=None, depends=None):
    """A library version installed through the install endpoint (libraries
    have no create): returns the version as the endpoint answers."""
    import zip_factory
    name = name or "contract-" + secrets.token_hex(4)
    manifest = ('name: "@contract/%s"\nversion: 1.0.0\n'
                'description: {en: "A library of the contract suite", de: "Eine Bibliothek"}\n'
                % name)
    if depends:
        manifest += 'dependencies: {"%s": ">=1.0.0"}\n' % depends
    data = zip_factory.build([
        (zip_factory.ROOT + "library.yml", manifest),
        (zip_factory.ROOT + "library.js", "export {};\n"),
        (zip_factory.ROOT + "components/x-one.yml", "tag-name: x-contract-one\n"),
        (zip_factory.ROOT + "components/x-two.yml", "tag-name: x-contract-two\n")])
    ctype, body = support.multipart([], [("file", name + ".zip", data)])
    r = support.request(STACK.port, "POST", "/api/core/html_library/install/", body=body,
                        headers={"Content-Type": ctype, "Authorization": "Token " + SU["token"]})
    if r.status != 201:
        raise AssertionError("install a library: %r" % r)
    return r.json()


def fresh_version():
    return call("GET", "/api/core/html_library/versions/%s/" % install_library()["id"],
                SU).json()


def fresh_library():
    return call("GET", "/api/core/html_library/libraries/%s/" % install_library()["parent"],
                SU).json()


# Items a DELETE test removes, for resources that cannot create: made by
# other means.  {collection: callable() -> item as GET shows it}
DESTROY_FIXTURES = {
    "core/html_library/versions": fresh_version,
    "core/html_library/libraries": fresh_library,
}


def seed():
    """A connected graph of content and scope objects (see SEEDED), and two
    installed libraries (one depends on the other) for the html_library
    resources, which cannot create."""
    if "core/html_library/versions" in DOC["x-openbook-resources"]:
        base = install_library()
        fqn = call("GET", "/api/core/html_library/libraries/%s/" % base["parent"], SU).json()["fqn"]
        install_library(depends=fqn)
    if "content/library_groups" not in DOC["x-openbook-resources"]:
        return

    def make(collection, body):
        res = resource_named(collection)
        r = call("POST", res["collection_path"], SU, body)
        if r.status != 201:
            raise AssertionError("seed %s %r: %r" % (collection, body, r))
        SEEDED.setdefault(collection, []).append(r.json())
        SEEDED_KEYS.add(r.json()[res["key"]])
        return r.json()[res["key"]]

    def action(path):
        r = call("PUT", path, SU, {})
        if r.status != 200:
            raise AssertionError("seed PUT %s: %r" % (path, r))

    slug = unique_text("seed")
    course_t, group_t = "openbook_content.course", "openbook_content.librarygroup"
    perms = ["openbook_content.view_course", "openbook_content.view_textbook",
             "openbook_content.view_librarygroup", "openbook_auth.self_enroll"]
    for t in (course_t, group_t):
        for perm in perms:
            r = call("POST", "/api/auth/allowed_role_permissions/", SU,
                     {"scope_type": t, "permission": perm})
            if r.status not in (201, 400):   # 400: whitelisted already
                raise AssertionError("seed whitelist: %r" % r)
    # Public permissions that let nobody view anything: what a user
    # without permissions sees stays what the document promises.
    public = ["openbook_auth.self_enroll"]
    g1 = make("content/library_groups", {"slug": slug, "name": "Seed " + slug,
                                         "public_permissions": public})
    g2 = make("content/library_groups", {"slug": slug, "name": "Seed child " + slug,
                                         "parent": g1})
    tb = make("content/textbooks", {"slug": slug, "name": "Seed " + slug, "group": g1})
    p1 = make("content/textbook_pages", {"textbook": tb, "name": "Seed 1"})
    p2 = make("content/textbook_pages", {"textbook": tb, "name": "Seed 1.1", "parent": p1})
    co = make("content/courses", {"slug": slug, "name": "Seed " + slug, "group": g2,
                                  "public_permissions": public})
    m = make("content/course_materials", {"course": co, "textbook": tb})
    make("content/course_material_page_ranges", {"material": m, "start_page": p1,
                                                 "end_page": p2})
    make("content/library_links", {"group": g2, "textbook": tb})
    make("content/library_links", {"group": g1, "course": co})
    for t, scope in ((course_t, co), (group_t, g1)):
        role = {"scope_type": t, "scope_uuid": scope}
        make("auth/roles", dict(role, slug="seed", name="Seed", priority=10, permissions=perms))
        em = make("auth/enrollment_methods", dict(role, name="Seed", role="seed"))
        asker, user = _mkuser("ctseed"), _mkuser("ctseed")
        ar = make("auth/access_requests", dict(role, user=asker["username"], role="seed"))
        make("auth/role_assignments", dict(role, user=SU["username"], role="seed"))
        r = support.request(STACK.port, "PUT", "/api/auth/enrollment_methods/%s/enroll/" % em,
                            json_body={}, headers={"Authorization": "Token " + user["token"]})
        if r.status != 200:
            raise AssertionError("seed enroll: %r" % r)
        action("/api/auth/access_requests/%s/accept/" % ar)
        # An open request too (access_requests lists of the scope).
        make("auth/access_requests", dict(role, user=_mkuser("ctseed")["username"],
                                          role="seed"))


def page_of_material(material):
    """A new page of the textbook of a course material (a new one each
    time: a range is unique per material, start and end page)."""
    m = call("GET", "/api/content/course_materials/%s/" % material, SU).json()
    return create("content/textbook_pages", resource_named("content/textbook_pages"),
                  extra={"textbook": m["textbook"]})["id"]


def textbook_elsewhere(group):
    """A textbook of another library group than `group` (made for it)."""
    groups = resource_named("content/library_groups")
    other = create("content/library_groups", groups)["id"]
    return create("content/textbooks", resource_named("content/textbooks"),
                  extra={"group": other})["id"]


def setUpModule():
    global SU, PLAIN, COLLATION_C
    _start()
    support.StackTestCase.stack = STACK
    SU = _mkuser("ctsuper", superuser=True)
    PLAIN = _mkuser("ctplain")
    seed()
    coll = STACK.psql("SELECT datcollate FROM pg_database WHERE datname = current_database()")
    COLLATION_C = coll.strip() in ("C", "POSIX", "C.UTF-8", "C.utf8")


def tearDownModule():
    global STACK
    support.StackTestCase.stack = None
    st, STACK = STACK, None
    support.stop_stack(st)


# --------------------------------------------------------------------------
# HTTP

class FileValue:
    """A file in a payload: the body then goes as multipart/form-data
    (api-conventions.md §2)."""

    def __init__(self, name="contract.txt", data=b"contract file\n"):
        self.name, self.data = name, data

    def __repr__(self):
        return "<file %s>" % self.name


def multipart_of(body):
    """The form of a payload with files: a list repeats its part name, a
    JSON-typed value is JSON text, a boolean true/false."""
    fields, files = [], []
    for k, v in body.items():
        if isinstance(v, FileValue):
            files.append((k, v.name, v.data))
        elif isinstance(v, list):
            fields.extend((k, x if isinstance(x, str) else json.dumps(x)) for x in v)
        elif isinstance(v, bool):
            fields.append((k, "true" if v else "false"))
        elif isinstance(v, str):
            fields.append((k, v))
        elif v is None:
            fields.append((k, ""))
        else:
            fields.append((k, json.dumps(v)))
    return support.multipart(fields, files)


def call(method, path, actor=None, body=None, query=None, raw_body=None):
    headers = {}
    if actor is not None:
        headers["Authorization"] = "Token " + actor["token"]
    if query:
        path += "?" + urlencode(query)
    if isinstance(body, dict) and any(isinstance(v, FileValue) for v in body.values()):
        headers["Content-Type"], data = multipart_of(body)
        return support.request(STACK.port, method, path, body=data, headers=headers)
    if raw_body is not None:
        headers["Content-Type"] = "application/json"
        return support.request(STACK.port, method, path, body=raw_body, headers=headers)
    return support.request(STACK.port, method, path, json_body=body, headers=headers)


def post(res, actor, body=None, raw_body=None):
    """POST to a collection; whatever it creates is removed after the test
    (also when the answer was wrong)."""
    r = call("POST", res["collection_path"], actor, body, raw_body=raw_body)
    if r.status == 201:
        try:
            CREATED.append((res, r.json()[res["key"]]))
        except (ValueError, KeyError, TypeError):
            pass
    return r


def item_path(res, key):
    return re.sub(r"\{[^}]*\}", str(key), res["item_path"], count=1)


def schema(ref):
    return DOC["components"]["schemas"][ref.rsplit("/", 1)[1]]


def props(res):
    return schema(res["schema"])["properties"]


def visible_fields(res, actor, expanded=()):
    """The fields of an answer, in order: admin fields for superusers only,
    expand-only fields when expanded."""
    return [n for n, p in props(res).items()
            if (actor is SU or not p.get("x-openbook-admin"))
            and (not p.get("x-openbook-expand-only") or n in expanded)]


def request_props(res, patch=False):
    ref = res.get("patch_schema" if patch else "request_schema")
    return schema(ref) if ref else {"properties": {}, "required": []}


def operation(res, op):
    path = res["item_path"] if op in ("retrieve", "update", "partial_update", "destroy") \
        and res["kind"] == "collection" else res["collection_path"]
    method = {"list": "get", "create": "post", "retrieve": "get", "update": "put",
              "partial_update": "patch", "destroy": "delete"}[op]
    return DOC["paths"].get(path or "", {}).get(method)


def list_params(res):
    op = operation(res, "list")
    return op["parameters"] if op else []


# --------------------------------------------------------------------------
# what the requester without permissions may do (permissions.md §6, §7, §9)

def refresh_grants():
    """What everybody holds, now: tests of anonymous_permissions change it."""
    global ANON_GRANTED
    ANON_GRANTED = set(STACK.psql(
        "SELECT ct.app_label || '.' || p.codename FROM anonymous_permissions ap "
        "JOIN permissions p ON p.id = ap.permission_id "
        "JOIN content_types ct ON ct.id = p.content_type_id").split())


def anon_granted(perm):
    return perm in ANON_GRANTED


def gate(res, op):
    return res["gates"].get(op)


def plain_visibility(res, actor):
    """'all', 'own', 'none' or 'forbidden': which rows `actor` (anonymous
    or the user without permissions) sees.  The rows the suite works with
    are the superuser's, who owns every scope and holds every role there,
    so for scope rules only global grants count."""
    if gate(res, "list") or gate(res, "retrieve"):
        return "forbidden"
    refresh_grants()
    p = res["permissions"]
    if anon_granted(p["view"]) or anon_granted(p["change"]):
        return "all"
    if res["guard"] == "self" and actor is not None:
        sp = res["self"]["permission"]
        if sp is None or anon_granted(sp):
            return "own"
    return "none"


def is_own(res, row, actor):
    s = res.get("self") or {}
    return actor is not None and s.get("field") and \
        row.get(s["field"]) == actor.get(s["user_key"])


def may_view(res, row, actor):
    v = plain_visibility(res, actor)
    return v == "all" or (v == "own" and is_own(res, row, actor))


# --------------------------------------------------------------------------
# values and payloads

_seq = [0]


def unique_text(prefix="ct"):
    _seq[0] += 1
    return "%s%d%s" % (prefix, _seq[0], secrets.token_hex(3))


def parse_dt(s):
    if s is None:
        return None
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))


def future_dt(days=30):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=days)
    return t.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def text_value(p, variant=0):
    fmt, pattern = p.get("format"), p.get("pattern")
    lo, hi = p.get("minLength", 1), p.get("maxLength")
    if fmt == "email":
        v = unique_text("ct") + "@example.org"
    elif fmt == "uri":
        v = "https://example.org/" + unique_text()
    elif fmt == "date-time":
        v = future_dt(10 + variant)
    elif pattern and "#" in pattern:
        v = "#%06x" % secrets.randbelow(1 << 24)
    else:
        v = unique_text("ct")
    if hi and len(v) > hi:
        # Short codes (languages): random letters keep them apart.
        v = v[-hi:] if hi >= 8 else letters(hi)
    while len(v) < lo:
        v += "x"
    if pattern and not re.search(pattern, v):
        v = letters(max(lo, min(hi or 8, 8)))
    return v


def letters(n):
    return "".join(secrets.choice(string.ascii_lowercase) for _ in range(n))


def rows(res, actor=None, query=None):
    """Every row the actor may see (one page of up to 1000)."""
    q = {"_page_size": "1000"}
    q.update(query or {})
    r = call("GET", res["collection_path"], actor or SU, query=q)
    if r.status != 200:
        raise AssertionError("list %s: %r" % (res["collection_path"], r))
    return r.json()["results"]


def resource_named(name):
    return DOC["x-openbook-resources"].get(name)


def resource_of_model(model):
    for n, r in DOC["x-openbook-resources"].items():
        if r.get("model") == model and r["kind"] == "collection":
            return n, r
    return None, None


def existing_key(collection, key, depth, scope=None):
    """A natural key of an existing item of `collection` (created when
    there is none and the collection can create)."""
    res = resource_named(collection)
    if res is None or res["kind"] != "collection" or "list" not in res["operations"]:
        raise unittest.SkipTest("no collection %s to take a %s from" % (collection, key))
    query = {}
    if scope:
        query = {"scope_type": scope[0], "scope_uuid": scope[1]}
    found = rows(res, SU, query)
    own = [x for x in found if x[key] not in SEEDED_KEYS]
    found = own or found
    if not found:
        if "create" not in res["operations"]:
            raise AssertionError("no %s to reference and %s cannot create" % (collection, collection))
        found = [create(collection, res, SU, depth=depth + 1, scope=scope)]
    # Any of them: unique rules over references (one anonymous permission
    # per permission) then rarely refuse a payload; create() retries.
    return secrets.choice(found)[key]


def value_for(collection, res, name, p, actor, variant, depth, payload, scope):
    over = OVERRIDES.get(collection, {})
    if name in over:
        v = over[name]
        return v(payload) if callable(v) else v
    if p.get("format") == "binary":
        return FileValue()
    ref = p.get("x-openbook-ref")
    if ref and ref.get("resource") == "auth/scope_types":
        return scope[0] if scope else any_scope_type()
    if p.get("x-openbook-scope-uuid"):
        return scope[1]
    if ref and ref.get("resource") and p.get("type") != "array":
        if ref["resource"] == "auth/users":
            if name == (res.get("self") or {}).get("field"):
                return (actor or SU)["username"]   # the requester's own item
            return some_user(variant)
        return existing_key(ref["resource"], ref["key"], depth,
                            scope if ref["resource"] == "auth/roles" else None)
    t = p.get("type")
    if "enum" in p:
        return p["enum"][variant % len(p["enum"])]
    if t == "boolean":
        return True
    if t == "integer":
        lo = p.get("minimum", 0)
        hi = p.get("maximum", lo + 10000)
        return lo + (secrets.randbelow(max(1, min(hi - lo, 10000))) if hi > lo else 0)
    if t == "number":
        return 1.5
    if t == "array":
        return []
    if t == "string":
        if p.get("format") == "binary":
            return None
        return text_value(p, variant)
    return {}


def some_user(variant):
    """A user to name in a payload: never the requesters themselves (their
    own items follow other rules), different per variant where there are
    several (rules like one assignment per scope, role and user)."""
    users = resource_named("auth/users")
    found = [u for u in rows(users) if u["username"] not in (SU["username"], PLAIN["username"])]
    if len(found) <= variant % 3 and "create" in users["operations"]:
        found.append(create("auth/users", users))
    if not found:
        return SU["username"]
    return found[variant % len(found)]["username"]


def pick_scope(depth):
    """A scope for scoped resources: the first scope type whose collection
    has (or can create) an item."""
    for model in ("openbook_content.course", "openbook_content.librarygroup"):
        name, res = resource_of_model(model)
        if res:
            return model, existing_key(name, res["key"], depth)
    raise unittest.SkipTest("no scope type collection in the document")


def any_scope_type():
    """A scope type string, for writes that name a type but no scope."""
    res = resource_named("auth/scope_types")
    if res is None:
        return "openbook_content.course"
    r = call("GET", res["collection_path"], SU)
    if r.status != 200 or not r.json():
        raise AssertionError("GET %s: %r" % (res["collection_path"], r))
    return secrets.choice(r.json())["id"]


def needs_scope(res):
    """Whether a create names a scope (an existing object of a scope type)."""
    rp = request_props(res)["properties"]
    return any(p.get("x-openbook-scope-uuid") for p in rp.values())


def create_payload(collection, res, actor, variant=0, depth=0, scope=None):
    rp = request_props(res)
    payload = {}
    if needs_scope(res) and scope is None:
        scope = pick_scope(depth)
    for name in rp.get("required", []):
        p = rp["properties"][name]
        if p.get("x-openbook-admin-write") and actor is not SU:
            continue
        v = value_for(collection, res, name, p, actor, variant, depth, payload, scope)
        if v is not None:
            payload[name] = v
    for name, v in OVERRIDES.get(collection, {}).items():
        if name not in payload and not name.startswith("_"):
            payload[name] = v(payload) if callable(v) else v
    return payload


def create(collection, res, actor=None, variant=0, depth=0, scope=None, extra=None):
    """Creates an item as the superuser; returns its answer.  extra: values
    that replace the drawn ones."""
    if depth > 4:
        raise AssertionError("references nest too deep at %s" % collection)
    for attempt in range(8):
        payload = create_payload(collection, res, actor or SU, variant + attempt, depth, scope)
        payload.update(extra or {})
        r = post(res, SU, payload)
        if r.status == 201:
            return r.json()
        # A unique rule over the drawn references: draw again.
        if r.status != 400 or not res["uniques"]:
            break
    raise AssertionError("setup: create %s with %r: %r" % (collection, payload, r))


def ensure_rows(collection, res, n):
    """At least n rows the superuser sees (creating when the resource can)."""
    have = rows(res)
    i = 0
    while len(have) < n and "create" in res["operations"] and i < n:
        try:
            create(collection, res, variant=i)
        except unittest.SkipTest:
            break  # cannot be set up yet: the tests work on what there is
        i += 1
        have = rows(res)
    return have


def fixture(collection, res, op):
    """An item the superuser created for one test (or, for resources that
    cannot create, an existing one)."""
    if (collection, op) in SETUP:
        raise unittest.SkipTest(SETUP[(collection, op)])
    if "create" in res["operations"]:
        made = create(collection, res)
        # As GET shows it (a shown-once value is only in the 201).
        r = call("GET", item_path(res, made[res["key"]]), SU)
        if r.status != 200:
            raise AssertionError("setup: GET the created %s: %r" % (collection, r))
        return r.json()
    if op == "destroy":
        if collection in DESTROY_FIXTURES:
            made = DESTROY_FIXTURES[collection]()
            CREATED.append((res, made[res["key"]]))
            return made
        raise AssertionError("%s: destroy without create: add a SETUP entry" % collection)
    found = rows(res)
    if not found:
        raise AssertionError("%s: no item to work on and no create" % collection)
    RESTORE.append((res, found[0]))
    return found[0]


def missing_key(res):
    fmt = res["key_format"]
    if fmt == "integer":
        return "2147480000"
    if fmt == "uuid":
        return str(uuid.uuid4())
    return "zq" + secrets.token_hex(8)[:max(1, (res.get("key_max_length") or 12) - 2)]


def malformed_key(res):
    return {"integer": "12x", "uuid": "not-a-uuid"}.get(res["key_format"])


def put_payload(res, current):
    """PUT body: the writable fields with their current values (write-only
    ones only when required)."""
    rp = request_props(res)
    out = {}
    for name, p in rp["properties"].items():
        if p.get("x-openbook-create-only") or p.get("format") == "binary":
            continue
        if name in current and not p.get("writeOnly"):
            out[name] = current[name]
        elif name in rp.get("required", []):
            out[name] = text_value(p) if p.get("type") == "string" else True
    return out


def change_field(res):
    """A field a PATCH can change and an answer shows: (name, new value)."""
    name = next((n for n, r in DOC["x-openbook-resources"].items() if r is res), None)
    over = OVERRIDES.get(name, {}).get("_change")
    if over:
        return over
    rp = request_props(res, patch=True)["properties"]
    shown = props(res)
    best = None
    for name, p in rp.items():
        if name not in shown or p.get("writeOnly") or p.get("x-openbook-create-only") \
                or p.get("format") in ("binary",) or p.get("x-openbook-ref"):
            continue
        t = p.get("type")
        if t == "string" and "enum" not in p and not p.get("format") and not p.get("pattern"):
            return name, text_value(p)
        if best is None and t == "boolean":
            best = (name, None)
        if best is None and "enum" in p and len(p["enum"]) > 1:
            best = (name, p["enum"])
        if best is None and t == "integer" and "maximum" in p:
            # Another number in range (a random one: positions are unique
            # among siblings).
            lo, hi = p.get("minimum", 0), p["maximum"]
            best = (name, lo + secrets.randbelow(max(1, min(hi - lo, 1 << 30))))
    return best


# --------------------------------------------------------------------------
# comparisons

def comparable(p):
    t = p.get("type")
    if t in ("integer", "number", "boolean"):
        return t
    if t == "string" and p.get("format") == "date-time":
        return "datetime"
    if t == "string" and "x-openbook-ref" not in p and p.get("format") != "uri":
        # (Files: "" is stored, and shown as null.)
        return "string"
    return None


def sort_value(kind, v):
    return parse_dt(v) if kind == "datetime" else v


def simple(s):
    return isinstance(s, str) and re.fullmatch(r"[a-z0-9]*", s) is not None


def check_order(tc, values, kind, desc, what):
    """Values in the order the server returned them: ordered by kind, with
    NULLs last ascending and first descending (PostgreSQL)."""
    if kind == "string" and not COLLATION_C:
        values = [v for v in values if v is None or simple(v)]
    keyed = [(v is None, sort_value(kind, v)) for v in values]
    for a, b in zip(keyed, keyed[1:]):
        if desc:
            ok = (a[0] and not b[0]) or (a[0] == b[0] and (a[0] or a[1] >= b[1]))
        else:
            ok = (b[0] and not a[0]) or (a[0] == b[0] and (a[0] or a[1] <= b[1]))
        tc.assertTrue(ok, "%s: %r before %r" % (what, a[1], b[1]))


def check_value_type(tc, name, p, v, what):
    if v is None:
        tc.assertTrue(p.get("nullable"), "%s: %s is null but not nullable" % (what, name))
        return
    t = p.get("type")
    types = {"integer": int, "number": (int, float), "boolean": bool, "string": str,
             "array": list, "object": dict}
    if t in types:
        if t == "integer":
            tc.assertTrue(isinstance(v, int) and not isinstance(v, bool),
                          "%s: %s=%r is not an integer" % (what, name, v))
        else:
            tc.assertIsInstance(v, types[t], "%s: %s=%r" % (what, name, v))
    if t == "string" and p.get("format") == "date-time":
        tc.assertRegex(v, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z$", "%s: %s" % (what, name))
    if t == "string" and p.get("format") == "uuid":
        tc.assertRegex(v, r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
                       "%s: %s" % (what, name))
    if t == "string" and "enum" in p:
        tc.assertIn(v, p["enum"], "%s: %s" % (what, name))
    if t == "string" and p.get("maxLength"):
        tc.assertLessEqual(len(v), p["maxLength"], "%s: %s" % (what, name))


def same_value(sent, got, p):
    """Whether an answer shows what was sent (strings are trimmed on input,
    datetimes come back in UTC)."""
    if p.get("format") == "date-time" and sent is not None and got is not None:
        return parse_dt(sent) == parse_dt(got)
    if isinstance(sent, FileValue):
        # Stored under a generated path; the answer is its URL, and the
        # file is public there with what was sent.
        if not isinstance(got, str) or not got.startswith("http"):
            return False
        path = urlsplit(got).path
        return support.request(STACK.port, "GET", path).body == sent.data
    if isinstance(sent, str) and not p.get("x-openbook-no-trim"):
        sent = sent.strip()
    if p.get("format") == "email" and isinstance(sent, str) and isinstance(got, str):
        return sent.lower() == got.lower()
    return sent == got


# --------------------------------------------------------------------------
# the test case base

class Contract(support.StackTestCase):
    collection = None
    res = None

    def setUp(self):
        del CREATED[:]
        del RESTORE[:]

    def tearDown(self):
        # What the test made goes again (newest first), so that no test
        # sees another's objects, and grants made by one stay with it.
        while CREATED:
            res, key = CREATED.pop()
            if "destroy" in res["operations"]:
                call("DELETE", item_path(res, key), SU)
        while RESTORE:
            res, item = RESTORE.pop()
            if "update" in res["operations"]:
                call("PUT", item_path(res, item[res["key"]]), SU, put_payload(res, item))

    def assertDetail(self, r, status, detail):
        data = self.assertJSON(r, status)
        self.assertEqual(data, {"detail": detail}, repr(r))

    def assertPageShape(self, r):
        data = self.assertJSON(r, 200)
        self.assertEqual(sorted(data), ["count", "next", "previous", "results"], repr(r))
        self.assertIsInstance(data["count"], int)
        self.assertIsInstance(data["results"], list)
        return data

    def assertShape(self, row, actor, what, expanded=()):
        """Keys in the order of the schema (admin fields only for the
        superuser), each value of its declared type."""
        self.assertIsInstance(row, dict, what)
        want = visible_fields(self.res, actor, expanded)
        self.assertEqual(list(row), want, "%s: fields" % what)
        for name, p in props(self.res).items():
            if name in row and name not in expanded:
                check_value_type(self, name, p, row[name], what)

    def not_found(self):
        return "No %s matches the given query." % self.res["class"]

    def key(self, row):
        return row[self.res["key"]]

    def denied(self, r, actor, visible):
        """The answer to a refused write: anonymous callers of a login path
        403 (credentials), invisible items 404, visible ones 403."""
        if actor is None:
            self.assertDetail(r, 403, NO_CREDENTIALS)
        elif visible:
            self.assertDetail(r, 403, FORBIDDEN)
        else:
            self.assertDetail(r, 404, self.not_found())


# --------------------------------------------------------------------------
# the generated tests, one factory per kind

def t_unsupported(collection, res, op, method, path_kind):
    def test(self):
        path = res["item_path"] if path_kind == "item" else res["collection_path"]
        key = None
        if path_kind == "item":
            found = rows(res) if "list" in res["operations"] else []
            key = self.key(found[0]) if found else missing_key(res)
            path = item_path(res, key)
        allowed = [m for m in METHODS if m.lower() in DOC["paths"][
            res["item_path"] if path_kind == "item" else res["collection_path"]]]
        r = call(method, path, SU, {} if method in ("POST", "PUT", "PATCH") else None)
        self.assertDetail(r, 405, 'Method "%s" not allowed.' % method)
        want = allowed + (["HEAD"] if "GET" in allowed else []) + ["OPTIONS"]
        got = [m.strip() for m in (r.header("Allow") or "").split(",") if m.strip()]
        self.assertEqual(sorted(got), sorted(want), "Allow of %r" % r)
        # An anonymous caller of a login path hears about the login first.
        r = call(method, path, None, {} if method in ("POST", "PUT", "PATCH") else None)
        if res["access"] == "anon":
            self.assertDetail(r, 405, 'Method "%s" not allowed.' % method)
        else:
            self.assertDetail(r, 403, NO_CREDENTIALS)
    return test


def t_options(collection, res, path_kind):
    def test(self):
        # The router answers OPTIONS before any lookup: any key will do.
        path = res["collection_path"] if path_kind == "collection" else item_path(
            res, missing_key(res))
        doc_path = res["collection_path"] if path_kind == "collection" else res["item_path"]
        allowed = [m for m in METHODS if m.lower() in DOC["paths"][doc_path]]
        r = call("OPTIONS", path, SU)
        self.assertEqual(r.status, 204, repr(r))
        want = allowed + (["HEAD"] if "GET" in allowed else []) + ["OPTIONS"]
        got = [m.strip() for m in (r.header("Allow") or "").split(",") if m.strip()]
        self.assertEqual(sorted(got), sorted(want), "Allow of %r" % r)
        r = call("OPTIONS", path, None)
        if res["access"] == "login":
            self.assertDetail(r, 403, NO_CREDENTIALS)
        else:
            self.assertEqual(r.status, 204, repr(r))
    return test


def t_list(collection, res, who):
    def test(self):
        ensure_rows(collection, res, 2)
        everything = rows(res)
        actor = {"anonymous": None, "no_permission": PLAIN, "authorised": SU}[who]
        r = call("GET", res["collection_path"], actor, query={"_page_size": "1000"})
        if actor is None and res["access"] == "login":
            self.assertDetail(r, 403, NO_CREDENTIALS)
            return
        if actor is SU:
            data = self.assertPageShape(r)
            self.assertEqual(data["count"], len(data["results"]))
            self.assertGreaterEqual(data["count"], min(2, len(everything)))
            for row in data["results"]:
                self.assertShape(row, SU, "list row")
            # The path without the final slash is the same resource.
            r2 = call("GET", res["collection_path"].rstrip("/"), SU, query={"_page_size": "1000"})
            self.assertEqual(self.assertPageShape(r2)["results"], data["results"])
            return
        vis = plain_visibility(res, actor)
        if vis == "forbidden":
            self.assertDetail(r, 403, NO_CREDENTIALS if actor is None else FORBIDDEN)
            return
        data = self.assertPageShape(r)
        keys = [self.key(x) for x in data["results"]]
        for row in data["results"]:
            self.assertShape(row, actor, "list row")
        if vis == "all" and not res["restricted"]:
            self.assertEqual(keys, [self.key(x) for x in everything])
        elif vis == "all":
            self.assertTrue(set(keys) <= set(self.key(x) for x in everything))
        elif vis == "own":
            self.assertEqual(keys, [self.key(x) for x in everything if is_own(res, x, actor)])
        else:
            self.assertEqual(data["count"], 0, repr(r))
            self.assertEqual(keys, [])
        self.assertEqual(data["count"], len(keys))
    return test


def t_retrieve(collection, res, who):
    def test(self):
        if who == "not_found":
            r = call("GET", item_path(res, missing_key(res)), SU)
            self.assertDetail(r, 404, self.not_found())
            bad = malformed_key(res)
            if bad:
                self.assertDetail(call("GET", item_path(res, bad), SU), 404, self.not_found())
            return
        if who == "anonymous" and res["access"] == "login":
            # Login comes before the lookup (api-conventions.md §5).
            r = call("GET", item_path(res, missing_key(res)), None)
            self.assertDetail(r, 403, NO_CREDENTIALS)
            return
        item = fixture(collection, res, "retrieve")
        path = item_path(res, self.key(item))
        if who == "authorised":
            r = call("GET", path, SU)
            data = self.assertJSON(r, 200)
            self.assertShape(data, SU, "item")
            listed = [x for x in rows(res) if self.key(x) == self.key(item)]
            self.assertEqual([data], listed, "the item as in the list")
            return
        actor = None if who == "anonymous" else PLAIN
        r = call("GET", path, actor)
        if actor is None and res["access"] == "login":
            self.assertDetail(r, 403, NO_CREDENTIALS)
            return
        vis = plain_visibility(res, actor)
        if vis == "forbidden":
            self.assertDetail(r, 403, NO_CREDENTIALS if actor is None else FORBIDDEN)
        elif may_view(res, item, actor):
            self.assertShape(self.assertJSON(r, 200), actor, "item")
        else:
            self.assertDetail(r, 404, self.not_found())
        # The requester's own item, where the guard has them.
        if vis == "own":
            mine = [x for x in rows(res) if is_own(res, x, actor)]
            for x in mine[:1]:
                data = self.assertJSON(call("GET", item_path(res, self.key(x)), actor), 200)
                self.assertEqual(self.key(data), self.key(x))
    return test


def t_single(collection, res, who):
    def test(self):
        actor = {"anonymous": None, "no_permission": PLAIN, "authorised": SU}[who]
        r = call("GET", res["collection_path"], actor)
        if actor is None and res["access"] == "login":
            self.assertDetail(r, 403, NO_CREDENTIALS)
            return
        data = self.assertJSON(r, 200)
        if actor is None:
            # Anonymous: no identity, only what says so.
            self.assertTrue(set(data) < set(props(res)), repr(data))
            self.assertNotIn(res["key"], data)
            return
        self.assertShape(data, actor, "the requester")
        self.assertEqual(data[res["key"]], actor.get(res["key"]))
        r = call("GET", res["collection_path"] + "x/", actor)
        self.assertDetail(r, 404, "Not found.")
    return test


def t_create(collection, res, who):
    def test(self):
        actor = {"anonymous": None, "no_permission": PLAIN, "authorised": SU}[who]
        before = len(rows(res))
        if actor is None and res["access"] != "anon":
            # Refused before the body is read: any body will do.
            r = post(res, None, {})
            self.assertDetail(r, 403, NO_CREDENTIALS)
            self.assertEqual(len(rows(res)), before, "nothing created")
            return
        payload = create_payload(collection, res, actor or SU)
        r = post(res, actor, payload)
        for attempt in range(1, 8):
            # A unique rule over the drawn references (what the unique test
            # checks on purpose): draw again, as create() does.
            if actor is not SU or r.status != 400 or not res["uniques"]:
                break
            payload = create_payload(collection, res, SU, attempt)
            r = post(res, actor, payload)
        if actor is SU:
            data = self.assertJSON(r, 201)
            self.assertShape(data, SU, "created")
            shown = props(res)
            for name, v in payload.items():
                if name in shown and not request_props(res)["properties"][name].get("writeOnly"):
                    self.assertTrue(same_value(v, data[name], shown[name]),
                                    "%s: sent %r, got %r" % (name, v, data[name]))
            got = self.assertJSON(call("GET", item_path(res, self.key(data)), SU), 200)
            for name, p in shown.items():
                if p.get("x-openbook-shown-once"):
                    self.assertIsInstance(data[name], str, "%s in the 201" % name)
                    self.assertIsNone(got[name], "%s after the 201" % name)
                    got[name] = data[name]
            self.assertEqual(got, data, "GET after create")
            self.assertEqual(len(rows(res)), before + 1)
            return
        if actor is None and res["access"] != "anon":
            self.assertDetail(r, 403, NO_CREDENTIALS)
        elif gate(res, "create"):
            self.assertDetail(r, 403, FORBIDDEN)
        else:
            # permissions.md §6.3: 404 when the requester could not view the
            # would-be item (their own, for self-guarded resources), else 403.
            would_be = {(res.get("self") or {}).get("field"): actor.get(
                (res.get("self") or {}).get("user_key"))} if actor else {}
            self.denied(r, actor, may_view(res, would_be, actor))
        self.assertEqual(len(rows(res)), before, "nothing created")
    return test


MESSAGES = {
    "required": "This field is required.",
    "blank": "This field may not be blank.",
    "boolean": "Must be a valid boolean.",
    "integer": "A valid integer is required.",
    "datetime": "Datetime has wrong format. Use one of these formats instead: "
                "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].",
    "email": "Enter a valid email address.",
    "url": "Enter a valid URL.",
    "uuid": "Must be a valid UUID.",
    "no_file": "No file was submitted.",
}


def required_message(p):
    """What a missing required field gets (a file: DRF's FileField's)."""
    return MESSAGES["no_file"] if p.get("format") == "binary" else MESSAGES["required"]


def bad_values(name, p):
    """(value, message or None) pairs the field must refuse with 400."""
    out = []
    t = p.get("type")
    if t == "string" and p.get("maxLength"):
        n = p["maxLength"] + 1
        v = ("a" * (n - 12) + "@example.org") if p.get("format") == "email" and n > 20 else "a" * n
        out.append((v, "Ensure this field has no more than %d characters." % p["maxLength"]))
    if t == "string" and p.get("minLength", 0) > 1:
        out.append(("a" * (p["minLength"] - 1),
                    "Ensure this field has at least %d characters." % p["minLength"]))
    if "enum" in p:
        out.append(("not-a-choice", '"not-a-choice" is not a valid choice.'))
    elif p.get("x-openbook-not-blank") and t == "string":
        out.append(("", MESSAGES["blank"]))
    if t == "boolean":
        out.append(("maybe", MESSAGES["boolean"]))
    if t == "integer" and not p.get("x-openbook-ref"):
        out.append(("many", MESSAGES["integer"]))
        if "minimum" in p:
            out.append((p["minimum"] - 1,
                        "Ensure this value is greater than or equal to %d." % p["minimum"]))
        if "maximum" in p:
            out.append((p["maximum"] + 1,
                        "Ensure this value is less than or equal to %d." % p["maximum"]))
    if p.get("x-openbook-format") == "slug":
        # Short enough that the length is not what is wrong (language codes).
        bad = "not a slug!" if p.get("maxLength", 11) >= 11 else "a b"
        out.append((bad, 'Enter a valid "slug" consisting of letters, numbers, '
                         'underscores or hyphens.'))
    if p.get("x-openbook-format") == "color":
        out.append(("#12345g", None))
    if t == "string" and p.get("format") == "date-time":
        out.append(("tomorrow", MESSAGES["datetime"]))
    if t == "string" and p.get("format") == "email":
        out.append(("not-an-address", MESSAGES["email"]))
    if t == "string" and p.get("format") == "uri":
        out.append(("not a url", MESSAGES["url"]))
    if t == "array":
        out.append(("nope", 'Expected a list of items but got type "str".'))
    ref = p.get("x-openbook-ref") or {}
    unknown = "zq-unknown-" + secrets.token_hex(3)
    if ref.get("resource") == "auth/users":
        out.append((unknown, "Object with username=%s does not exist." % unknown))
    if ref.get("resource") == "auth/permissions":
        v = "zq.unknown"
        out.append(([v] if t == "array" else v, "Permission '%s' not found." % v))
    if ref.get("resource") == "auth/groups":
        out.append(([unknown] if t == "array" else unknown,
                    "Object with slug=%s does not exist." % unknown))
    return out


def t_create_invalid(collection, res):
    def test(self):
        before = len(rows(res))
        rp = request_props(res)
        required = rp.get("required", [])
        base = create_payload(collection, res, SU)  # (may skip: before any subtest)
        r = post(res, SU, {})
        if required:
            data = self.assertJSON(r, 400)
            for name in required:
                self.assertEqual(data.get(name), [required_message(rp["properties"][name])],
                                 "%s in %r" % (name, r))
        else:
            self.assertJSON(r, 201)  # nothing required: {} is a valid body
            before += 1
        r = post(res, SU, raw_body=b"[1]")
        self.assertJSON(r, 400, {"non_field_errors": [
            "Invalid data. Expected a dictionary, but got list."]})
        for name, p in rp["properties"].items():
            for value, message in bad_values(name, p):
                with self.subTest(field=name, value=value):
                    payload = dict(base)
                    payload[name] = value
                    r = post(res, SU, payload)
                    data = self.assertJSON(r, 400)
                    self.assertIn(name, data, repr(r))
                    if message is not None:
                        self.assertIn(message, data[name], repr(r))
        self.assertEqual(len(rows(res)), before, "nothing created by refused bodies")
    return test


def t_create_unique(collection, res):
    def test(self):
        for attempt in range(8):  # drawn references may collide already
            payload = create_payload(collection, res, SU, attempt)
            r = post(res, SU, payload)
            if r.status == 201:
                break
        self.assertJSON(r, 201)
        r = post(res, SU, payload)
        data = self.assertJSON(r, 400)
        messages = [(u["field"] or "non_field_errors", u["message"]) for u in res["uniques"]]
        self.assertTrue(any(m in data.get(f, []) for f, m in messages),
                        "none of %r in %r" % (messages, r))
    return test


def t_update(collection, res, who, method):
    op = "update" if method == "PUT" else "partial_update"

    def test(self):
        if who == "anonymous" and res["access"] == "login":
            r = call(method, item_path(res, missing_key(res)), None, {})
            self.assertDetail(r, 403, NO_CREDENTIALS)
            return
        if who == "not_found":
            # The lookup comes before the body is looked at.
            r = call(method, item_path(res, missing_key(res)), SU, {})
            self.assertDetail(r, 404, self.not_found())
            return
        item = fixture(collection, res, op)
        path = item_path(res, self.key(item))
        change = change_field(res)
        if change is None:
            self.fail("%s: no field a %s could change (add an OVERRIDES entry)" % (collection, method))
        name, new = change
        if callable(new):
            new = new(item)
        elif new is None:
            new = not item[name]
        elif isinstance(new, list):
            new = [c for c in new if c != item[name]][0]
        body = put_payload(res, item) if method == "PUT" else {}
        body[name] = new
        if who == "authorised":
            r = call(method, path, SU, body)
            data = self.assertJSON(r, 200)
            self.assertShape(data, SU, "updated")
            self.assertTrue(same_value(new, data[name], props(res)[name]),
                            "%s: sent %r, got %r" % (name, new, data[name]))
            got = self.assertJSON(call("GET", path, SU), 200)
            self.assertEqual(got, data, "GET after %s" % method)
            return
        if who == "invalid":
            rp = request_props(res)
            needed = [n for n in rp.get("required", [])
                      if not rp["properties"][n].get("x-openbook-create-only")
                      and not rp["properties"][n].get("x-openbook-update-optional")]
            for n in needed:
                with self.subTest(missing=n):
                    b = dict(body)
                    b.pop(n, None)
                    data = self.assertJSON(call("PUT", path, SU, b), 400)
                    self.assertEqual(data.get(n), [MESSAGES["required"]])
            self.assertEqual(self.assertJSON(call("GET", path, SU), 200), item, "unchanged")
            return
        actor = None if who == "anonymous" else PLAIN
        r = call(method, path, actor, body)
        if actor is None and res["access"] != "anon":
            self.assertDetail(r, 403, NO_CREDENTIALS)
        elif gate(res, op) or plain_visibility(res, actor) == "forbidden":
            self.assertDetail(r, 403, FORBIDDEN)
        else:
            self.denied(r, actor, may_view(res, item, actor))
        self.assertEqual(self.assertJSON(call("GET", path, SU), 200), item, "unchanged")
    return test


def t_destroy(collection, res, who):
    def test(self):
        if who == "not_found":
            r = call("DELETE", item_path(res, missing_key(res)), SU)
            self.assertDetail(r, 404, self.not_found())
            return
        if who == "anonymous" and res["access"] == "login":
            r = call("DELETE", item_path(res, missing_key(res)), None)
            self.assertDetail(r, 403, NO_CREDENTIALS)
            return
        item = fixture(collection, res, "destroy")
        path = item_path(res, self.key(item))
        before = len(rows(res))
        if who == "authorised":
            r = call("DELETE", path, SU)
            self.assertEqual(r.status, 204, repr(r))
            self.assertEqual(r.body, b"")
            self.assertDetail(call("GET", path, SU), 404, self.not_found())
            self.assertEqual(len(rows(res)), before - 1)
            return
        actor = None if who == "anonymous" else PLAIN
        r = call("DELETE", path, actor)
        if actor is None and res["access"] != "anon":
            self.assertDetail(r, 403, NO_CREDENTIALS)
        elif gate(res, "destroy") or plain_visibility(res, actor) == "forbidden":
            self.assertDetail(r, 403, FORBIDDEN)
        else:
            self.denied(r, actor, may_view(res, item, actor))
        self.assertEqual(self.assertJSON(call("GET", path, SU), 200), item, "still there")
        self.assertEqual(len(rows(res)), before)
    return test


def t_pagination(collection, res):
    def test(self):
        everything = ensure_rows(collection, res, 3)
        keys = [self.key(x) for x in everything]
        n = len(keys)
        base = res["collection_path"]
        size = 1 if n <= 20 else n // 10 + 1
        seen, url, page = [], base + "?" + urlencode({"_page_size": size}), 1
        while url:
            r = support.request(STACK.port, "GET", url, headers={
                "Authorization": "Token " + SU["token"]})
            data = self.assertPageShape(r)
            self.assertEqual(data["count"], n)
            self.assertLessEqual(len(data["results"]), size)
            seen += [self.key(x) for x in data["results"]]
            prev = data["previous"]
            if page == 1:
                self.assertIsNone(prev)
            else:
                q = parse_qs(urlsplit(prev).query)
                self.assertEqual(q.get("_page_size"), [str(size)], prev)
                self.assertEqual(q.get("_page"), None if page == 2 else [str(page - 1)], prev)
                self.assertEqual(urlsplit(prev).path, base)
            nxt = data["next"]
            if nxt:
                u = urlsplit(nxt)
                self.assertEqual((u.scheme, u.netloc, u.path),
                                 ("http", "127.0.0.1:%d" % STACK.port, base), nxt)
                self.assertEqual(parse_qs(u.query).get("_page"), [str(page + 1)], nxt)
                url = u.path + "?" + u.query
            else:
                url = None
            page += 1
            self.assertLess(page, 40, "too many pages")
        self.assertEqual(seen, keys, "the pages together are the list")
        last = self.assertPageShape(call("GET", base, SU, query={"_page": "last",
                                                                  "_page_size": size}))
        self.assertEqual([self.key(x) for x in last["results"]], keys[(page - 2) * size:])
        for bad in (str(page), "0", "-1", "x"):
            self.assertDetail(call("GET", base, SU, query={"_page": bad, "_page_size": size}),
                              404, INVALID_PAGE)
        for fallback in ("0", "x", "-3"):
            data = self.assertPageShape(call("GET", base, SU, query={"_page_size": fallback}))
            self.assertEqual(len(data["results"]), min(n, 100))
    return test


def search_term(v):
    words = [w for w in re.split(r"[\s,\"]+", v) if len(w) >= 2]
    if not words:
        return None
    w = max(words, key=len)
    if len(w) > 6:
        w = w[1:6]
    return w.swapcase()


def t_search(collection, res):
    def test(self):
        everything = ensure_rows(collection, res, 2)
        shown = props(res)
        fields = [f for f in res["search"] if shown.get(f, {}).get("type") == "string"]
        base = res["collection_path"]
        nonsense = "zq" + secrets.token_hex(6)
        data = self.assertPageShape(call("GET", base, SU, query={"_search": nonsense}))
        self.assertEqual(data["count"], 0, "%s matches nothing" % nonsense)
        samples = [(x, f, search_term(x[f])) for x in everything for f in fields
                   if isinstance(x.get(f), str) and search_term(x[f])]
        self.assertTrue(samples or not everything or not fields,
                        "no row with a searchable value")
        for row, f, term in samples[:3]:
            with self.subTest(field=f, term=term):
                data = self.assertPageShape(call("GET", base, SU, query={
                    "_search": term, "_page_size": 1000}))
                found = [self.key(x) for x in data["results"]]
                self.assertIn(self.key(row), found)
                if not res["search_beyond_fields"] and set(res["search"]) <= set(shown):
                    for x in data["results"]:
                        self.assertTrue(any(term.lower() in str(x.get(s) or "").lower()
                                            for s in res["search"]),
                                        "%r does not contain %r" % (x, term))
                # Every term must match: one that matches nothing empties it.
                data = self.assertPageShape(call("GET", base, SU, query={
                    "_search": "%s,%s" % (term, nonsense)}))
                self.assertEqual(data["count"], 0)
                data = self.assertPageShape(call("GET", base, SU, query={
                    "_search": '"%s" %s' % (term, term)}))
                self.assertIn(self.key(row), [self.key(x) for x in data["results"]])
    return test


def t_sort(collection, res):
    def test(self):
        everything = ensure_rows(collection, res, 3)
        default = [self.key(x) for x in everything]
        base = res["collection_path"]
        shown = props(res)
        # Unknown names are ignored: the default ordering.
        for q in ({"_sort": "zq_no_such_field"}, {"_sort": ""}):
            data = self.assertPageShape(call("GET", base, SU, query=dict(q, _page_size=1000)))
            self.assertEqual([self.key(x) for x in data["results"]], default, q)
        if res["default_ordering"]:
            f = res["default_ordering"][0].lstrip("-")
            kind = comparable(shown[f]) if f not in res["sort_by_stored_key"] else None
            if kind:
                check_order(self, [x[f] for x in everything], kind,
                            res["default_ordering"][0].startswith("-"), "default ordering")
        for f in res["sort"]:
            for desc in (False, True):
                with self.subTest(field=f, desc=desc):
                    q = {"_sort": ("-" if desc else "") + f, "_page_size": 1000}
                    data = self.assertPageShape(call("GET", base, SU, query=q))
                    got = data["results"]
                    self.assertEqual(sorted(map(str, (self.key(x) for x in got))),
                                     sorted(map(str, default)), "same rows")
                    kind = comparable(shown[f]) if f not in res["sort_by_stored_key"] else None
                    if kind:
                        check_order(self, [x[f] for x in got], kind, desc, q["_sort"])
    return test


def t_shaping(collection, res):
    def test(self):
        item = fixture(collection, res, "retrieve")
        path = item_path(res, self.key(item))
        names = visible_fields(res, SU)
        k = res["key"]
        other = [n for n in names if n != k][-1:]
        data = self.assertJSON(call("GET", path, SU, query={"_fields": ",".join([k] + other)}), 200)
        self.assertEqual(list(data), [n for n in names if n in [k] + other])
        data = self.assertJSON(call("GET", path, SU, query={"_omit": k}), 200)
        self.assertEqual(list(data), [n for n in names if n != k])
        data = self.assertPageShape(call("GET", res["collection_path"], SU,
                                         query={"_fields": k, "_page_size": 1000}))
        for row in data["results"]:
            self.assertEqual(list(row), [k])
        # _expand of something that cannot be expanded changes nothing.
        plain = self.assertJSON(call("GET", path, SU), 200)
        data = self.assertJSON(call("GET", path, SU, query={"_expand": "zq_no_such_field," + k}),
                               200)
        self.assertEqual(data, plain)
    return test


def t_expand(collection, res, field):
    spec = res["expand"][field]
    many = spec.get("many")

    def test(self):
        ensure_rows(collection, res, 2)
        expand_only = field in res.get("expand_only_fields", [])
        expanded = rows(res, SU, {"_expand": field})
        candidates = [x for x in expanded if x.get(field) not in (None, [])]
        if not candidates:
            fixture(collection, res, "retrieve")
            expanded = rows(res, SU, {"_expand": field})
            candidates = [x for x in expanded if x.get(field) not in (None, [])]
        self.assertTrue(candidates, "no %s row with %s set to expand" % (collection, field))
        key = self.key(candidates[0])
        plain = {self.key(x): x for x in rows(res)}[key]
        target = schema(spec["schema"])["properties"]
        want_keys = [n for n, p in target.items()
                     if not p.get("x-openbook-admin") and not p.get("x-openbook-expand-only")]
        path = item_path(res, key)
        data = self.assertJSON(call("GET", path, SU, query={"_expand": field}), 200)
        self.assertShape(data, SU, "expanded item", expanded=(field,))
        got = data[field] if many else [data[field]]
        self.assertIsInstance(got, list)
        for obj in got:
            self.assertIsInstance(obj, dict, "%s expanded: %r" % (field, obj))
            self.assertEqual([n for n in obj if n in want_keys], want_keys)
        if not expand_only:
            values = plain[field] if many else [plain[field]]
            self.assertEqual(len(got), len(values))
            if spec.get("key"):
                self.assertEqual([o[spec["key"]] for o in got], values,
                                 "expanded %s are the referenced items" % field)
        # Nothing else changes.
        self.assertEqual({k: v for k, v in data.items() if k != field},
                         {k: v for k, v in plain.items() if k != field})
        # With _fields reaching into the expanded item.
        if spec.get("key") and not many and not expand_only:
            data = self.assertJSON(call("GET", path, SU, query={
                "_expand": field, "_fields": "%s.%s" % (field, spec["key"])}), 200)
            self.assertEqual(data, {field: {spec["key"]: plain[field]}})
    return test


def t_expand_all(collection, res):
    fields = list(res["expand"])

    def test(self):
        # api-conventions.md 8 limits the depth only: every expansion at
        # once is each of them alone (it once stopped after 8 fields).
        ensure_rows(collection, res, 2)
        query = {"_expand": ",".join(fields)}
        found = rows(res, SU, query)
        self.assertTrue(found, "no %s row" % collection)
        row = max(found, key=lambda x: sum(x.get(f) not in (None, []) for f in fields))
        path = item_path(res, self.key(row))
        data = self.assertJSON(call("GET", path, SU, query=query), 200)
        self.assertShape(data, SU, "all expanded", expanded=fields)
        for f in fields:
            one = self.assertJSON(call("GET", path, SU, query={"_expand": f}), 200)
            self.assertEqual(data[f], one[f], "%s expanded with the others" % f)
    return test


def filter_value(p, v, lookup):
    if isinstance(v, bool):
        return "true" if v else "false"
    if lookup == "icontains":
        s = str(v)
        return (s[1:4] if len(s) > 4 else s).swapcase() if s else s
    return str(v)


def matches(lookup, kind, want, got):
    if lookup == "isnull":
        return (got is None) == (want == "true")
    if got is None:
        return False
    if lookup == "icontains":
        return want.lower() in str(got).lower()
    if kind == "datetime":
        a, b = parse_dt(got), parse_dt(want)
    elif kind == "integer" or kind == "number":
        a, b = got, float(want)
    elif kind == "boolean":
        a, b = got, want == "true"
    else:
        a, b = got, want
    return {"exact": a == b, "lte": a <= b, "gte": a >= b}[lookup]


def probe_value(param):
    """A well-formed value of a filter that no row of the suite has."""
    sch = param["schema"]
    if sch.get("format") == "uuid":
        return str(uuid.uuid4())
    if sch.get("format") == "date-time":
        return future_dt(3000)
    return {"boolean": "true", "integer": "2147480000"}.get(sch.get("type"),
                                                            "zq" + secrets.token_hex(4))


def t_filter(collection, res, param):
    spec = param["x-openbook-filter"]
    name = param["name"]

    def test(self):
        everything = ensure_rows(collection, res, 3)
        base = res["collection_path"]
        field, lookup = spec.get("field"), spec["lookup"]
        shown = props(res)
        ptype = param["schema"].get("type")
        pformat = param["schema"].get("format")
        # Invalid values of typed filters are a 400 naming the parameter.
        bad = {"integer": ("x1", "Enter a whole number."),
               "date-time": ("tomorrow", "Enter a valid date/time."),
               "uuid": ("not-a-uuid", "Enter a valid UUID.")}.get(pformat or ptype)
        if bad and spec.get("reference"):
            # A reference answers as the original's choice filter.
            bad = (bad[0], "Select a valid choice. That choice is not one of the available "
                           "choices.")
        if bad:
            r = call("GET", base, SU, query={name: bad[0]})
            self.assertJSON(r, 400, {name: [bad[1]]})
        if ptype == "boolean" and lookup != "isnull":
            # Other values are ignored.
            data = self.assertPageShape(call("GET", base, SU, query={name: "maybe",
                                                                      "_page_size": 1000}))
            self.assertEqual(data["count"], len(everything))
        if field is None or field not in shown:
            # A filter on something the answer does not show: it must at
            # least take a well-formed value.
            probe = probe_value(param)
            self.assertPageShape(call("GET", base, SU, query={name: probe}))
            return
        kind = comparable(shown[field]) or "string"
        if lookup == "isnull":
            for want in ("true", "false"):
                data = self.assertPageShape(call("GET", base, SU, query={name: want, "_page_size": 1000}))
                for x in data["results"]:
                    self.assertTrue(matches(lookup, kind, want, x[field]), (name, want, x))
            return
        samples = [x for x in everything if x.get(field) not in (None, "")]
        if not samples:
            # Nothing to find: a value no row has finds nothing.
            probe = probe_value(param)
            data = self.assertPageShape(call("GET", base, SU, query={name: probe}))
            self.assertEqual(data["count"], 0, "%s=%s: no row has a value" % (name, probe))
            return
        for row in samples[:2]:
            want = filter_value(shown[field], row[field], lookup)
            with self.subTest(value=want):
                data = self.assertPageShape(call("GET", base, SU, query={name: want, "_page_size": 1000}))
                got = data["results"]
                self.assertIn(self.key(row), [self.key(x) for x in got], "%s=%s" % (name, want))
                for x in got:
                    self.assertTrue(matches(lookup, kind, want, x[field]),
                                    "%s=%s but %s is %r" % (name, want, field, x[field]))
                expect = [self.key(x) for x in everything if matches(lookup, kind, want, x[field])]
                self.assertEqual([self.key(x) for x in got], expect)
        if param.get("x-openbook-admin") and "list" in res["operations"] \
                and plain_visibility(res, PLAIN) not in ("forbidden",):
            # A filter on an admin field does not exist for other requesters.
            want = filter_value(shown[field], samples[0][field], lookup)
            a = self.assertPageShape(call("GET", base, PLAIN, query={"_page_size": 1000}))
            b = self.assertPageShape(call("GET", base, PLAIN, query={name: "zq-none" if kind == "string" else want, "_page_size": 1000}))
            self.assertEqual(a["results"], b["results"])
    return test


# --------------------------------------------------------------------------
# building the classes

def test_name(collection, *parts):
    return "test_" + re.sub(r"\W", "_", collection) + "__" + "__".join(
        re.sub(r"\W", "_", p) for p in parts)


def t_array(collection, res, who):
    def test(self):
        actor = {"anonymous": None, "no_permission": PLAIN, "authorised": SU}[who]
        r = call("GET", res["collection_path"], actor)
        if actor is None and res["access"] == "login":
            self.assertDetail(r, 403, NO_CREDENTIALS)
            return
        data = self.assertJSON(r, 200)
        self.assertIsInstance(data, list, "a plain array, no paging: %r" % r)
        # No paging, whatever is asked.
        self.assertEqual(self.assertJSON(call("GET", res["collection_path"], actor,
                                              query={"_page": "2", "_page_size": "1"}), 200),
                         data)
    return test


def tests_for(collection, res):
    t = {}
    ops = res["operations"]

    def add(fn, *parts):
        name = test_name(collection, *parts)
        assert name not in t, name
        t[name] = fn

    if res["kind"] == "array":
        for who in ("anonymous", "no_permission", "authorised"):
            add(t_array(collection, res, who), "list", who)
        for m in METHODS[1:]:
            add(t_unsupported(collection, res, "", m, "collection"), "collection_" + m.lower(),
                "unsupported")
        return t

    if res["kind"] == "single":
        for who in ("anonymous", "no_permission", "authorised"):
            add(t_single(collection, res, who), "retrieve", who)
        for m in METHODS[1:]:
            add(t_unsupported(collection, res, "", m, "collection"), m.lower(), "unsupported")
        return t

    coll_ops = {"list": "GET", "create": "POST"}
    item_ops = {"retrieve": "GET", "update": "PUT", "partial_update": "PATCH",
                "destroy": "DELETE"}
    for op, m in coll_ops.items():
        if op not in ops:
            add(t_unsupported(collection, res, op, m, "collection"), op, "unsupported")
    for m in ("PUT", "PATCH", "DELETE"):
        add(t_unsupported(collection, res, "", m, "collection"), "collection_" + m.lower(),
            "unsupported")
    if res["item_path"]:
        for op, m in item_ops.items():
            if op not in ops:
                add(t_unsupported(collection, res, op, m, "item"), op, "unsupported")
        add(t_unsupported(collection, res, "", "POST", "item"), "item_post", "unsupported")
    add(t_options(collection, res, "collection"), "options", "collection")
    if res["item_path"] and "retrieve" in ops:
        add(t_options(collection, res, "item"), "options", "item")

    if "list" in ops:
        for who in ("anonymous", "no_permission", "authorised"):
            add(t_list(collection, res, who), "list", who)
        add(t_pagination(collection, res), "list", "pagination")
        if res["search"] or res["search_beyond_fields"]:
            add(t_search(collection, res), "list", "search")
        if res["sort"]:
            add(t_sort(collection, res), "list", "sort")
        for p in list_params(res):
            if "x-openbook-filter" in p:
                add(t_filter(collection, res, p), "filter", p["name"])
    if "retrieve" in ops:
        for who in ("anonymous", "no_permission", "authorised", "not_found"):
            add(t_retrieve(collection, res, who), "retrieve", who)
        add(t_shaping(collection, res), "retrieve", "field_shaping")
        for f in res["expand"]:
            add(t_expand(collection, res, f), "expand", f)
        if len(res["expand"]) > 1:
            add(t_expand_all(collection, res), "expand", "all_at_once")
    if "create" in ops:
        for who in ("anonymous", "no_permission", "authorised"):
            add(t_create(collection, res, who), "create", who)
        add(t_create_invalid(collection, res), "create", "invalid")
        if res["uniques"]:
            add(t_create_unique(collection, res), "create", "unique")
    for op, m in (("update", "PUT"), ("partial_update", "PATCH")):
        if op in ops:
            for who in ("anonymous", "no_permission", "authorised", "not_found"):
                add(t_update(collection, res, who, m), op, who)
    if "update" in ops:
        rp = request_props(res)
        if any(not rp["properties"][n].get("x-openbook-create-only")
               and not rp["properties"][n].get("x-openbook-update-optional")
               for n in rp.get("required", [])):
            add(t_update(collection, res, "invalid", "PUT"), "update", "invalid")
    if "destroy" in ops:
        for who in ("anonymous", "no_permission", "authorised", "not_found"):
            add(t_destroy(collection, res, who), "destroy", who)
    return t


def build_classes(doc):
    classes = []
    for collection, res in doc["x-openbook-resources"].items():
        attrs = {"collection": collection, "res": res, "__module__": __name__}
        attrs.update(tests_for(collection, res))
        name = "Contract_" + re.sub(r"\W", "_", collection)
        classes.append(type(name, (Contract,), attrs))
    return classes


# --------------------------------------------------------------------------
# the document itself

def parse_yaml(text):
    """The subset GET /api/schema/?format=yaml writes: block mappings and
    sequences, scalars as JSON literals, keys plain or JSON-quoted."""
    lines = [ln for ln in text.split("\n") if ln.strip() and not ln.lstrip().startswith("#")]
    pos = [0]
    dec = json.JSONDecoder()

    def indent_of(ln):
        return len(ln) - len(ln.lstrip(" "))

    def value(rest, indent):
        rest = rest.strip()
        if rest:
            return json.loads(rest)
        return block(indent_of(lines[pos[0]]))

    def block(indent):
        first = lines[pos[0]][indent:]
        if first.startswith("-"):
            out = []
            while pos[0] < len(lines) and indent_of(lines[pos[0]]) == indent \
                    and lines[pos[0]][indent:].startswith("-"):
                rest = lines[pos[0]][indent + 1:]
                pos[0] += 1
                out.append(value(rest, indent))
            return out
        out = {}
        while pos[0] < len(lines) and indent_of(lines[pos[0]]) == indent:
            s = lines[pos[0]][indent:]
            if s.startswith('"'):
                k, end = dec.raw_decode(s)
                rest = s[end + 1:]
            else:
                k, _, rest = s.partition(":")
            pos[0] += 1
            out[k] = value(rest, indent)
        return out

    return block(0)


class Document(Contract):
    def test_schema__json(self):
        r = self.get("/api/schema/")
        doc = self.assertJSON(r, 200)
        self.assertTrue(doc["openapi"].startswith("3."))
        self.assertEqual(doc, DOC)
        for collection, res in doc["x-openbook-resources"].items():
            self.assertIn(res["collection_path"], doc["paths"], collection)
            if res["item_path"]:
                self.assertIn(res["item_path"], doc["paths"], collection)
        # Every operation's $refs resolve.
        text = json.dumps(doc)
        for ref in set(re.findall(r'"#/components/schemas/([^"]+)"', text)):
            self.assertIn(ref, doc["components"]["schemas"])
        self.assertEqual(self.get("/api/schema").body, r.body)
        self.assertEqual(self.req("HEAD", "/api/schema/").body, b"")

    def test_schema__yaml(self):
        r = self.get("/api/schema/?format=yaml")
        self.assertEqual(r.status, 200, repr(r))
        self.assertEqual(r.header("Content-Type").split(";")[0], "application/yaml")
        self.assertSecurityHeaders(r)
        self.assertEqual(parse_yaml(r.body.decode("utf-8")), DOC)

    def test_api_root__lists_every_resource(self):
        data = self.assertJSON(self.get("/api/"), 200)
        want = {c: self.url(res["collection_path"])
                for c, res in DOC["x-openbook-resources"].items()}
        self.assertEqual(data, want)


def load_tests(loader, standard_tests, pattern):
    doc = _start()
    suite = unittest.TestSuite()
    suite.addTests(standard_tests)
    for cls in build_classes(doc):
        suite.addTests(loader.loadTestsFromTestCase(cls))
    return suite
