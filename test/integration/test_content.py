"""The learning content of api-resources.md §3 beyond what the generated
contract suite derives: tree rules (library groups, textbook pages), the
rules over several fields (links, materials, page ranges), unique rules,
deletes that take dependents along, the content JSON limits, rule R on
the scope a content item hangs off (permissions.md §5 extension), moving
between scopes, owners, and the live events of websocket.md §9 through
the relay.
"""

import gzip
import http.client
import json

import auth_support as au
import perm_support as ps
from test_relay_client import WSClient, make_ticket, stack_ticket_key, start_relay, stop_relay

STACK = None
RELAY = None
W = None
SU = None

GROUPS = "/api/content/library_groups/"
LINKS = "/api/content/library_links/"
TEXTBOOKS = "/api/content/textbooks/"
PAGES = "/api/content/textbook_pages/"
COURSES = "/api/content/courses/"
MATERIALS = "/api/content/course_materials/"
RANGES = "/api/content/course_material_page_ranges/"

CONTENT = ["openbook_content.%s_%s" % (a, m)
           for m in ("librarygroup", "textbook", "textbookpage", "course", "coursematerial",
                     "librarylink")
           for a in ("view", "add", "change", "delete")]


def setUpModule():
    global STACK, RELAY, W, SU
    STACK = au.start_auth_stack("content")

    def setup():
        global W, SU
        W = ps.World(STACK)
        W.whitelist(ps.GROUP, CONTENT)
        W.whitelist(ps.COURSE, CONTENT)
        SU = W.user("su", superuser=True)
    RELAY = start_relay(STACK, setup)


def tearDownModule():
    stop_relay(STACK, RELAY)


def count(sql):
    return int(W.psql(sql).split()[0])


class Content(ps.Base):
    def make(self, path, body, user=None):
        return self.ok((user or SU).call("POST", path, body), 201)

    def group(self, parent=None, slug=None, **kw):
        b = {"slug": slug or W.unique("g"), "name": W.unique("Group "), "parent": parent}
        b.update(kw)
        return self.make(GROUPS, b)

    def textbook(self, group, **kw):
        b = {"slug": W.unique("tb"), "name": W.unique("Book "), "group": group["id"]}
        b.update(kw)
        return self.make(TEXTBOOKS, b)

    def page(self, tb, parent=None, position=0, **kw):
        b = {"textbook": tb["id"], "parent": parent and parent["id"], "position": position,
             "name": W.unique("Page ")}
        b.update(kw)
        return self.make(PAGES, b)

    def course(self, group, **kw):
        b = {"slug": W.unique("c"), "name": W.unique("Course "), "group": group["id"]}
        b.update(kw)
        return self.make(COURSES, b)

    def material(self, course, tb, position=0):
        return self.make(MATERIALS, {"course": course["id"], "textbook": tb["id"],
                                     "position": position})

    def prange(self, m, start, end, position=0):
        return self.make(RANGES, {"material": m["id"], "start_page": start["id"],
                                  "end_page": end["id"], "position": position})

    def patch(self, path, item, body, user=None):
        return (user or SU).call("PATCH", "%s%s/" % (path, item["id"]), body)

    def gone(self, path, item):
        self.assertEqual(SU.call("GET", "%s%s/" % (path, item["id"])).status, 404, item)


class Trees(Content):
    def test_group_slug_unique_among_siblings_and_roots(self):
        msg = {"non_field_errors": ["Library Group with this Parent Group and Slug already exists."]}
        slug = W.unique("same")
        root = self.group(slug=slug)
        self.errors(SU.call("POST", GROUPS, {"slug": slug, "name": "x"}), msg)
        a = self.group(root["id"], slug=slug)          # under another parent: fine
        self.group(a["id"], slug=slug)
        self.errors(SU.call("POST", GROUPS, {"slug": slug, "name": "x", "parent": a["id"]}), msg)
        b = self.group(root["id"])
        self.errors(self.patch(GROUPS, b, {"slug": slug}), msg)

    def test_group_cannot_be_own_ancestor(self):
        msg = {"parent": ["A group cannot be its own ancestor."]}
        root = self.group()
        child = self.group(root["id"])
        grandchild = self.group(child["id"])
        self.errors(self.patch(GROUPS, root, {"parent": root["id"]}), msg)
        self.errors(self.patch(GROUPS, root, {"parent": grandchild["id"]}), msg)
        self.assertIsNone(self.ok(SU.call("GET", GROUPS + root["id"] + "/"))["parent"])
        # Moving a subtree elsewhere is fine; the lists follow.
        other = self.group()
        self.ok(self.patch(GROUPS, child, {"parent": other["id"]}))
        self.assertEqual(self.ok(SU.call("GET", GROUPS + other["id"] + "/"))["children"],
                         [child["id"]])
        self.assertEqual(self.ok(SU.call("GET", GROUPS + root["id"] + "/"))["children"], [])
        self.ok(self.patch(GROUPS, child, {"parent": None}))

    def test_group_delete_takes_subtree_or_409(self):
        root = self.group()
        child = self.group(root["id"])
        leaf = self.group(child["id"])
        tb = self.textbook(leaf)
        elsewhere = self.group()
        link = self.make(LINKS, {"group": child["id"], "textbook": self.textbook(elsewhere)["id"]})
        W.role(child["id"], "member", 10, ["openbook_content.view_textbook"], scope_type=ps.GROUP)
        W.public(ps.GROUP, leaf["id"], "openbook_content.view_textbook")
        r = SU.call("DELETE", GROUPS + root["id"] + "/")
        self.assertJSON(r, 409, {"detail": "Cannot delete this library group because textbooks"
                                           " or courses still belong to it."})
        self.ok(SU.call("GET", GROUPS + leaf["id"] + "/"))   # nothing was deleted
        self.assertEqual(SU.call("DELETE", TEXTBOOKS + tb["id"] + "/").status, 204)
        self.assertEqual(SU.call("DELETE", GROUPS + root["id"] + "/").status, 204)
        for g in (root, child, leaf):
            self.gone(GROUPS, g)
        self.gone(LINKS, link)
        ids = "'{%s,%s,%s}'::uuid[]" % (root["id"], child["id"], leaf["id"])
        self.assertEqual(count("SELECT count(*) FROM roles WHERE scope_uuid = ANY(%s)" % ids), 0)
        self.assertEqual(count("SELECT count(*) FROM scope_public_permissions"
                               " WHERE scope_uuid = ANY(%s)" % ids), 0)
        self.ok(SU.call("GET", GROUPS + elsewhere["id"] + "/"))

    def test_page_tree_rules(self):
        g = self.group()
        tb, other = self.textbook(g), self.textbook(g)
        top = self.page(tb)
        sub = self.page(tb, top)
        leaf = self.page(tb, sub)
        foreign = self.page(other)
        self.errors(SU.call("POST", PAGES, {"textbook": tb["id"], "parent": foreign["id"],
                                            "name": "x", "position": 5}),
                    {"parent": ["Parent page must belong to the same textbook."]})
        msg = {"parent": ["A page cannot be its own ancestor."]}
        self.errors(self.patch(PAGES, top, {"parent": top["id"]}), msg)
        self.errors(self.patch(PAGES, top, {"parent": leaf["id"]}), msg)
        self.errors(self.patch(PAGES, sub, {"textbook": other["id"], "parent": None}),
                    {"textbook": ["A page with child pages cannot be moved to another textbook."]})
        moved = self.ok(self.patch(PAGES, leaf, {"textbook": other["id"], "parent": None,
                                                 "position": 7}))
        self.assertEqual((moved["textbook"], moved["parent"]), (other["id"], None))
        self.assertEqual(self.ok(SU.call("GET", TEXTBOOKS + other["id"] + "/"))["pages"],
                         sorted([foreign["id"], leaf["id"]]))
        self.assertEqual(self.ok(SU.call("GET", PAGES + sub["id"] + "/"))["children"], [])

    def test_page_position_unique_among_siblings_roots_included(self):
        msg = {"non_field_errors": ["Textbook Page with this Textbook, Parent Page and Position"
                                    " already exists."]}
        tb = self.textbook(self.group())
        a = self.page(tb, position=1)
        self.errors(SU.call("POST", PAGES, {"textbook": tb["id"], "name": "x", "position": 1}),
                    msg)
        self.page(tb, a, position=1)                     # another parent: fine
        self.errors(SU.call("POST", PAGES, {"textbook": tb["id"], "parent": a["id"], "name": "x",
                                            "position": 1}), msg)
        self.page(tb, position=2)

    def test_page_delete_takes_subtree_and_ranges(self):
        g = self.group()
        tb = self.textbook(g)
        top = self.page(tb)
        sub = self.page(tb, top)
        keep = self.page(tb, position=1)
        m = self.material(self.course(g), tb)
        r1 = self.prange(m, keep, sub)
        r2 = self.prange(m, keep, keep, position=1)
        self.assertEqual(SU.call("DELETE", PAGES + top["id"] + "/").status, 204)
        self.gone(PAGES, sub)
        self.gone(RANGES, r1)
        self.assertEqual(self.ok(SU.call("GET", MATERIALS + m["id"] + "/"))["page_ranges"],
                         [r2["id"]])

    def test_content_verbatim_default_and_limits(self):
        tb = self.textbook(self.group())
        self.assertEqual(self.page(tb)["content"], {})
        tree = {"type": "div", "zeta": 1, "alpha": [{"text": "Hello ✓"},
                                                    {"component": "quiz", "props": {"b": 2, "a": 1}}]}
        p = self.page(tb, position=1, content=tree)
        r = SU.call("GET", PAGES + p["id"] + "/")
        self.assertEqual(r.status, 200)
        # Key order as sent (json, not jsonb).
        self.assertIn(b'"content":{"type":"div","zeta":1,"alpha":', r.body.replace(b" ", b""))
        self.assertEqual(r.json()["content"], tree)
        deep = {}
        for _ in range(50):
            deep = {"c": deep}
        self.errors(SU.call("POST", PAGES, {"textbook": tb["id"], "name": "x", "position": 2,
                                            "content": deep}),
                    {"content": ["Ensure this value is nested no more than 48 levels deep."]})
        big = {"text": "x" * (1024 * 1024)}
        self.errors(SU.call("POST", PAGES, {"textbook": tb["id"], "name": "x", "position": 2,
                                            "content": big}),
                    {"content": ["Ensure this value has no more than 1048576 bytes as JSON."]})
        self.assertEqual(len(self.ok(SU.call("GET", TEXTBOOKS + tb["id"] + "/"))["pages"]), 2)

    def test_big_answers_arrive_whole(self):
        """Answers above 16 KiB leave the worker as 64 KiB FastCGI records
        written directly (worker.c, put_body): several of them, in order,
        on a kept-alive connection, with the head before them."""
        tb = self.textbook(self.group())
        rows = [{"n": i, "text": "row %d " % i + "✓" * (i % 50)} for i in range(5000)]
        p = self.page(tb, content={"rows": rows})
        path = PAGES + p["id"] + "/"
        conn = http.client.HTTPConnection("127.0.0.1", STACK.port, timeout=30)
        try:
            sizes = set()
            for method in ("GET", "HEAD", "GET", "GET"):
                conn.request(method, path, headers={"Authorization": "Token " + SU.token})
                r = conn.getresponse()
                body = r.read()
                self.assertEqual(r.status, 200)
                length = int(r.getheader("Content-Length"))
                self.assertGreater(length, 3 * 65536)
                sizes.add(length)
                if method == "HEAD":
                    self.assertEqual(body, b"")
                else:
                    self.assertEqual(len(body), length)
                    self.assertEqual(json.loads(body)["content"]["rows"], rows)
            self.assertEqual(len(sizes), 1)
        finally:
            conn.close()


class Compression(Content):
    """http.gzip_min_bytes: answers of 1 KiB or more go out gzip-compressed
    to clients whose Accept-Encoding allows it, through nginx, whether they
    come from the response cache or are built afresh; other clients get
    the bytes the original server sent."""

    BROWSER = "gzip, deflate, br"

    def fetch(self, conn, method, path, **headers):
        headers["Authorization"] = "Token " + SU.token
        conn.request(method, path, headers=headers)
        r = conn.getresponse()
        return r, r.read()

    def test_gzip_when_asked(self):
        tb = self.textbook(self.group())
        rows = [{"n": i, "text": "row %d of the compressed page" % i} for i in range(3000)]
        path = PAGES + self.page(tb, content={"rows": rows})["id"] + "/"
        conn = http.client.HTTPConnection("127.0.0.1", STACK.port, timeout=30)
        try:
            r, plain = self.fetch(conn, "GET", path)
            self.assertEqual(r.status, 200)
            self.assertIsNone(r.getheader("Content-Encoding"))
            self.assertEqual(json.loads(plain)["content"]["rows"], rows)
            seen = set()
            # Built afresh, then from the cache (twice), all the same bytes.
            for extra in ({"Cache-Control": "no-cache"}, {}, {}):
                r, body = self.fetch(conn, "GET", path, **{"Accept-Encoding": self.BROWSER},
                                     **extra)
                self.assertEqual(r.status, 200)
                self.assertEqual(r.getheader("Content-Encoding"), "gzip")
                self.assertEqual(int(r.getheader("Content-Length")), len(body))
                self.assertLess(len(body), len(plain) // 4)
                self.assertEqual(gzip.decompress(body), plain)
                # The spec's headers are unchanged.
                self.assertEqual(r.getheader("Content-Type"), "application/json")
                self.assertEqual(r.getheader("Vary"), "Accept, Cookie, Accept-Language")
                seen.add(body)
            self.assertEqual(len(seen), 1)
            # HEAD announces what GET would send.
            r, body = self.fetch(conn, "HEAD", path, **{"Accept-Encoding": "gzip"})
            self.assertEqual((r.getheader("Content-Encoding"), body), ("gzip", b""))
            self.assertEqual(int(r.getheader("Content-Length")), len(seen.pop()))
            # A plain client after gzip ones still gets plain JSON (the
            # cache keeps the two apart).
            r, again = self.fetch(conn, "GET", path)
            self.assertIsNone(r.getheader("Content-Encoding"))
            self.assertEqual(again, plain)
        finally:
            conn.close()

    def test_no_gzip_unless_asked_and_worth_it(self):
        g = self.group()
        for i in range(12):
            self.textbook(g)
        path = TEXTBOOKS + "?group=" + g["id"]
        conn = http.client.HTTPConnection("127.0.0.1", STACK.port, timeout=30)
        try:
            r, plain = self.fetch(conn, "GET", path)
            self.assertGreater(len(plain), 2048)
            self.assertEqual(len(json.loads(plain)["results"]), 12)
            for ae in ("identity", "gzip;q=0, deflate", "br, zstd", "*;q=0", "gzip deflate"):
                r, body = self.fetch(conn, "GET", path, **{"Accept-Encoding": ae})
                self.assertIsNone(r.getheader("Content-Encoding"), ae)
                self.assertEqual(body, plain, ae)
            for ae in ("GZIP", "x-gzip", "br;q=1, gzip;q=0.5", "*"):
                r, body = self.fetch(conn, "GET", path, **{"Accept-Encoding": ae})
                self.assertEqual(r.getheader("Content-Encoding"), "gzip", ae)
                self.assertEqual(gzip.decompress(body), plain, ae)
            # Small answers (under 1 KiB) and errors stay plain.
            for small in ("/api/core/sites/health/", TEXTBOOKS + "nope/"):
                r, body = self.fetch(conn, "GET", small, **{"Accept-Encoding": self.BROWSER})
                self.assertIsNone(r.getheader("Content-Encoding"), small)
                self.assertTrue(body.startswith(b"{"), small)
        finally:
            conn.close()


class Rules(Content):
    def test_link_exactly_one_target_in_another_group(self):
        g, h = self.group(), self.group()
        own_tb, other_tb = self.textbook(g), self.textbook(h)
        own_c, other_c = self.course(g), self.course(h)
        one = {"non_field_errors": ["Exactly one of course and textbook must be set."]}
        self.errors(SU.call("POST", LINKS, {"group": g["id"]}), one)
        self.errors(SU.call("POST", LINKS, {"group": g["id"], "course": other_c["id"],
                                            "textbook": other_tb["id"]}), one)
        self.errors(SU.call("POST", LINKS, {"group": g["id"], "textbook": own_tb["id"]}),
                    {"textbook": ["Links should only target textbooks from another group."]})
        self.errors(SU.call("POST", LINKS, {"group": g["id"], "course": own_c["id"]}),
                    {"course": ["Links should only target courses from another group."]})
        link = self.make(LINKS, {"group": g["id"], "course": other_c["id"]})
        self.errors(SU.call("POST", LINKS, {"group": g["id"], "course": other_c["id"]}),
                    {"non_field_errors": ["Library Link with this Library Group and Course"
                                          " already exists."]})
        self.make(LINKS, {"group": g["id"], "textbook": other_tb["id"]})
        self.errors(SU.call("POST", LINKS, {"group": g["id"], "textbook": other_tb["id"]}),
                    {"non_field_errors": ["Library Link with this Library Group and Textbook"
                                          " already exists."]})
        # PATCH looks at the stored values too.
        self.errors(self.patch(LINKS, link, {"textbook": other_tb["id"]}), one)
        self.ok(self.patch(LINKS, link, {"course": None, "textbook": self.textbook(h)["id"]}))
        self.assertEqual(self.ok(SU.call("GET", GROUPS + g["id"] + "/"))["links"],
                         sorted([link["id"], self.rows(SU.call(
                             "GET", LINKS + "?group=%s&textbook=%s" % (g["id"], other_tb["id"])))[0]["id"]]))

    def test_material_rules(self):
        g = self.group()
        c, tb, tb2 = self.course(g), self.textbook(g), self.textbook(g)
        self.errors(SU.call("POST", MATERIALS, {"course": c["id"], "textbook": None}),
                    {"textbook": ["A material entry must reference a textbook."]})
        m = self.material(c, tb)
        self.errors(SU.call("POST", MATERIALS, {"course": c["id"], "textbook": tb["id"],
                                                "position": 1}),
                    {"non_field_errors": ["Course Material with this Course and Textbook"
                                          " already exists."]})
        self.errors(SU.call("POST", MATERIALS, {"course": c["id"], "textbook": tb2["id"]}),
                    {"non_field_errors": ["Course Material with this Course and Position"
                                          " already exists."]})
        p = self.page(tb)
        self.prange(m, p, p)
        self.errors(self.patch(MATERIALS, m, {"textbook": tb2["id"]}),
                    {"textbook": ["The textbook cannot be changed while page ranges exist."]})
        self.errors(self.patch(MATERIALS, m, {"textbook": None}),
                    {"textbook": ["A material entry must reference a textbook."]})
        self.assertEqual(self.ok(SU.call("GET", TEXTBOOKS + tb["id"] + "/"))["used_in_courses"],
                         [m["id"]])

    def test_page_range_rules(self):
        g = self.group()
        tb, other = self.textbook(g), self.textbook(g)
        m = self.material(self.course(g), tb)
        p, q, x = self.page(tb), self.page(tb, position=1), self.page(other)
        self.errors(SU.call("POST", RANGES, {"material": m["id"], "start_page": x["id"],
                                             "end_page": x["id"]}),
                    {"start_page": ["Start page must belong to the same textbook as the material."],
                     "end_page": ["End page must belong to the same textbook as the material."]})
        r = self.prange(m, p, q)
        self.errors(SU.call("POST", RANGES, {"material": m["id"], "start_page": p["id"],
                                             "end_page": q["id"], "position": 1}),
                    {"non_field_errors": ["Course Material Page Range with this Course Material,"
                                          " Start Page and End Page already exists."]})
        self.errors(SU.call("POST", RANGES, {"material": m["id"], "start_page": q["id"],
                                             "end_page": q["id"]}),
                    {"non_field_errors": ["Course Material Page Range with this Course Material"
                                          " and Position already exists."]})
        self.errors(self.patch(RANGES, r, {"end_page": x["id"]}),
                    {"end_page": ["End page must belong to the same textbook as the material."]})

    def test_course_delete_takes_dependents(self):
        g, h = self.group(), self.group()
        c, tb = self.course(g), self.textbook(g)
        m = self.material(c, tb)
        pr = self.prange(m, self.page(tb), self.page(tb, position=1))
        link = self.make(LINKS, {"group": h["id"], "course": c["id"]})
        role = W.role(c["id"], "student", 10, ["openbook_content.view_course"])
        W.assign(c["id"], role, W.user("stud"))
        W.public(ps.COURSE, c["id"], "openbook_content.view_course")
        self.assertEqual(SU.call("DELETE", COURSES + c["id"] + "/").status, 204)
        for path, item in ((COURSES, c), (MATERIALS, m), (RANGES, pr), (LINKS, link)):
            self.gone(path, item)
        for table in ("roles", "role_assignments", "scope_public_permissions"):
            self.assertEqual(count("SELECT count(*) FROM %s WHERE scope_uuid = '%s'"
                                   % (table, c["id"])), 0, table)
        self.ok(SU.call("GET", TEXTBOOKS + tb["id"] + "/"))

    def test_textbook_delete_takes_pages_materials_links(self):
        g, h = self.group(), self.group()
        tb = self.textbook(g)
        p = self.page(tb)
        m = self.material(self.course(h), tb)
        pr = self.prange(m, p, p)
        link = self.make(LINKS, {"group": h["id"], "textbook": tb["id"]})
        self.assertEqual(SU.call("DELETE", TEXTBOOKS + tb["id"] + "/").status, 204)
        for path, item in ((PAGES, p), (MATERIALS, m), (RANGES, pr), (LINKS, link)):
            self.gone(path, item)


class Permissions(Content):
    """Rule R on the scope a content item hangs off (permissions.md §5)."""

    def member(self, group, perms, priority=10):
        user = W.user("member")
        role = W.role(group["id"], W.unique("r"), priority, perms, scope_type=ps.GROUP)
        W.assign(group["id"], role, user, scope_type=ps.GROUP)
        return user

    def test_role_in_group_shows_its_textbooks_and_pages_only(self):
        g, h = self.group(), self.group()
        mine, theirs = self.textbook(g), self.textbook(h)
        page, other_page = self.page(mine), self.page(theirs)
        child = self.group(g["id"])
        inherited = self.textbook(child)
        u = self.member(g, ["openbook_content.view_textbook"])

        def listed(user, path, *items):
            # Other tests may make items public: look at this test's own.
            keys = set(x["id"] for x in self.rows(user.call("GET", path + "?_page_size=1000")))
            return [x["id"] in keys for x in items]

        self.assertEqual(listed(u, TEXTBOOKS, mine, theirs, inherited), [True, False, False])
        self.assertEqual(u.call("GET", TEXTBOOKS + theirs["id"] + "/").status, 404)
        # Pages need their own permission in the same scope.
        self.assertEqual(listed(u, PAGES, page, other_page), [False, False])
        v = self.member(g, ["openbook_content.view_textbookpage",
                            "openbook_content.view_textbook"])
        self.assertEqual(listed(v, PAGES, page, other_page), [True, False])
        self.assertEqual(v.call("GET", PAGES + other_page["id"] + "/").status, 404)
        # The id lists of a textbook show only what the requester may view.
        self.assertEqual(self.ok(u.call("GET", TEXTBOOKS + mine["id"] + "/"))["pages"], [])
        self.assertEqual(self.ok(v.call("GET", TEXTBOOKS + mine["id"] + "/"))["pages"],
                         [page["id"]])

    def test_change_implies_view_and_add_in_scope(self):
        g, h = self.group(), self.group()
        u = self.member(g, ["openbook_content.change_textbook", "openbook_content.add_textbook"])
        tb = self.make(TEXTBOOKS, {"slug": "mine", "name": "Mine", "group": g["id"]}, user=u)
        self.assertEqual(self.ids(u.call("GET", TEXTBOOKS + "?group=" + g["id"])), [tb["id"]])
        self.ok(self.patch(TEXTBOOKS, tb, {"name": "Renamed"}, user=u))
        # Not in another group: invisible there, so 404.
        r = u.call("POST", TEXTBOOKS, {"slug": "x", "name": "x", "group": h["id"]})
        self.assertJSON(r, 404, {"detail": "No Textbook matches the given query."})
        self.assertEqual(u.call("DELETE", TEXTBOOKS + tb["id"] + "/").status, 403)

    def test_moving_needs_add_in_the_target(self):
        g, h = self.group(), self.group()
        tb = self.textbook(g)
        u = W.user("mover")
        for grp, perms in ((g, ["openbook_content.change_textbook"]),
                           (h, ["openbook_content.view_textbook"])):
            role = W.role(grp["id"], W.unique("r"), 10, perms, scope_type=ps.GROUP)
            W.assign(grp["id"], role, u, scope_type=ps.GROUP)
        self.assertJSON(self.patch(TEXTBOOKS, tb, {"group": h["id"]}, user=u), 403, ps.FORBIDDEN)
        role = W.role(h["id"], W.unique("r"), 10, ["openbook_content.add_textbook"],
                      scope_type=ps.GROUP)
        W.assign(h["id"], role, u, scope_type=ps.GROUP)
        self.assertEqual(self.ok(self.patch(TEXTBOOKS, tb, {"group": h["id"]}, user=u))["group"],
                         h["id"])

    def test_public_permissions_for_anonymous(self):
        g, h = self.group(), self.group()
        shown, hidden = self.textbook(g), self.textbook(h)
        W.public(ps.GROUP, g["id"], "openbook_content.view_textbook")
        r = ps.anon(W, "GET", TEXTBOOKS + "?_page_size=1000")
        keys = [x["id"] for x in self.rows(r)]
        self.assertIn(shown["id"], keys)
        self.assertNotIn(hidden["id"], keys)
        self.assertEqual(ps.anon(W, "GET", TEXTBOOKS + hidden["id"] + "/").status, 404)
        r = ps.anon(W, "PATCH", TEXTBOOKS + shown["id"] + "/", {"name": "x"})
        self.assertEqual(r.status, 403)

    def test_course_owner(self):
        g = self.group()
        teacher = W.user("teacher", groups=["teacher"])     # global add_course
        c = self.make(COURSES, {"slug": "c", "name": "Mine", "group": g["id"],
                                "owner": SU.name}, user=teacher)
        self.assertEqual(c["owner"], teacher.name)            # not theirs to choose
        self.assertEqual(self.ids(teacher.call("GET", COURSES + "?owner=" + teacher.name)),
                         [c["id"]])
        self.ok(self.patch(COURSES, c, {"description": "Owned"}, user=teacher))
        other = W.user("other")
        self.assertEqual(other.call("GET", COURSES + c["id"] + "/").status, 404)
        moved = self.ok(self.patch(COURSES, c, {"owner": other.name}))   # a superuser may
        self.assertEqual(moved["owner"], other.name)
        self.ok(other.call("GET", COURSES + c["id"] + "/"))
        self.assertEqual(teacher.call("GET", COURSES + c["id"] + "/").status, 404)

    def test_public_permissions_are_whitelisted(self):
        g = self.group()
        r = SU.call("PATCH", GROUPS + g["id"] + "/",
                    {"public_permissions": ["openbook_auth.add_user"]})
        self.assertEqual(r.status, 400, repr(r))
        self.assertIn("public_permissions", r.json())
        got = self.ok(SU.call("PATCH", GROUPS + g["id"] + "/",
                              {"public_permissions": ["openbook_content.view_textbook"]}))
        self.assertEqual(got["public_permissions"], ["openbook_content.view_textbook"])


class Events(Content):
    def setUp(self):
        self.open = []

    def tearDown(self):
        for ws in self.open:
            ws.shutdown()

    def subscribe(self, channels):
        ticket = make_ticket(stack_ticket_key(STACK), channels, uid=SU.id)
        ws = WSClient.connect(("127.0.0.1", self.port), "/ws/events?ticket=%s" % ticket,
                              host="127.0.0.1:%d" % self.port,
                              origin="http://127.0.0.1:%d" % self.port,
                              protocols=("openbook.v1",))
        self.open.append(ws)
        self.assertEqual(ws.recv_action("subscribed"), {"channels": channels})
        return ws

    def event(self, ws):
        m = ws.recv_action("event")
        self.assertEqual(m["version"], 1, m)
        return m["channel"], m["type"], m["payload"]

    def test_ticket_for_content_channels_follows_view(self):
        g = self.group()
        c, tb = self.course(g), self.textbook(g)
        u = W.user("viewer")
        body = {"channels": ["course:" + c["id"], "textbook:" + tb["id"]]}
        r = u.call("POST", "/api/ws/ticket/", body)
        self.assertJSON(r, 403, ps.FORBIDDEN)
        role = W.role(c["id"], "student", 10, ["openbook_content.view_course"])
        W.assign(c["id"], role, u)
        data = self.ok(u.call("POST", "/api/ws/ticket/", body))
        self.assertEqual((data["channels"], data["denied"]),
                         (["course:" + c["id"]], ["textbook:" + tb["id"]]))
        data = self.ok(SU.call("POST", "/api/ws/ticket/", body))
        self.assertEqual(data["channels"], body["channels"])

    def test_page_material_and_delete_events(self):
        g = self.group()
        c, tb = self.course(g), self.textbook(g)
        ws = self.subscribe(["textbook:" + tb["id"], "course:" + c["id"]])
        tch, cch = "textbook:" + tb["id"], "course:" + c["id"]
        p = self.page(tb)
        self.assertEqual(self.event(ws), (tch, "textbook.page.updated",
                                          {"textbook": tb["id"], "page": p["id"], "op": "created"}))
        self.ok(self.patch(PAGES, p, {"content": {"text": "new"}}))
        self.assertEqual(self.event(ws)[2]["op"], "updated")
        m = self.material(c, tb)
        self.assertEqual(self.event(ws), (cch, "course.material.changed",
                                          {"course": c["id"], "material": m["id"], "op": "created"}))
        self.prange(m, p, p)
        self.assertEqual(self.event(ws), (cch, "course.material.changed",
                                          {"course": c["id"], "material": m["id"], "op": "updated"}))
        self.ok(self.patch(COURSES, c, {"name": "Renamed"}))
        self.assertEqual(self.event(ws), (cch, "course.updated", {"course": c["id"], "op": "updated"}))
        # Deleting a page: one event per page of its subtree, and the
        # materials whose ranges went with it.
        child = self.page(tb, p)
        self.event(ws)
        self.assertEqual(SU.call("DELETE", PAGES + p["id"] + "/").status, 204)
        got = [self.event(ws) for _ in range(3)]
        self.assertEqual(sorted(e[2]["page"] for e in got[:2]), sorted([p["id"], child["id"]]))
        self.assertEqual({e[2]["op"] for e in got[:2]}, {"deleted"})
        self.assertEqual(got[2], (cch, "course.material.changed",
                                  {"course": c["id"], "material": m["id"], "op": "updated"}))
        # A refused change publishes nothing; the next events are the delete's.
        self.assertEqual(self.patch(TEXTBOOKS, tb, {"slug": "not a slug!"}).status, 400)
        self.assertEqual(SU.call("DELETE", TEXTBOOKS + tb["id"] + "/").status, 204)
        self.assertEqual(self.event(ws), (tch, "textbook.updated",
                                          {"textbook": tb["id"], "op": "deleted"}))
        self.assertEqual(self.event(ws), (cch, "course.material.changed",
                                          {"course": c["id"], "material": m["id"], "op": "deleted"}))
