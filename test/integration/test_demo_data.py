"""`openbook load-demo-data` on a fresh stack: run twice, the second run
changes nothing; the rows it creates (library group tree, textbook with a
page tree, course with roles, self-enrolment, material with a page range)
are checked in the database, and the enrolment method is used through the
API, so that the demo data is known to work with the permission engine.
The HTTP content resources are not needed: the checks read the tables.
"""

import hashlib
import json
import secrets
import string
import subprocess
import unittest

import support

STACK = None
BEFORE = None      # library_groups rows before the first run (test stacks have none)
RUNS = []          # CompletedProcess of the first two runs
SNAPSHOTS = []     # the demo tables after each of them

# Every table the command writes, with the columns that identify the order.
TABLES = ["library_groups", "textbooks", "textbook_pages", "courses", "course_materials",
          "course_material_page_ranges", "roles", "role_permissions", "enrollment_methods",
          "allowed_role_permissions", "scope_public_permissions"]


def run(*args):
    st = STACK
    return subprocess.run([st.binary, "load-demo-data", "-c", st.config_path] + list(args),
                          capture_output=True, text=True, cwd=st.root, env=st.server_env(),
                          timeout=120)


def snapshot():
    """Every row (all columns, timestamps included) of the tables the
    command writes, as JSON text per table."""
    out = {}
    for t in TABLES:
        out[t] = STACK.psql("SELECT coalesce(json_agg(x ORDER BY x::text), '[]') FROM %s x" % t)
    return out


def q(sql):
    """Rows of a query as lists of strings (psql -tA, '|' separated)."""
    return [line.split("|") for line in STACK.psql(sql).splitlines() if line]


def setUpModule():
    global STACK, BEFORE
    STACK = support.start_stack("demo-data")
    support.StackTestCase.stack = STACK
    BEFORE = STACK.psql("SELECT count(*) FROM library_groups").strip()
    for _ in range(2):
        RUNS.append(run())
        SNAPSHOTS.append(snapshot())


def tearDownModule():
    support.StackTestCase.stack = None
    support.stop_stack(STACK)


def walk(node):
    yield node
    for child in node.get("children", []):
        yield from walk(child)


class DemoData(support.StackTestCase):

    def test_00_runs_twice_and_the_second_run_changes_nothing(self):
        self.assertEqual(BEFORE, "0", "test stacks must start without demo data")
        for r in RUNS:
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertNotIn("Sanitizer", r.stderr)
        self.assertRegex(RUNS[0].stdout, r"done, [1-9][0-9]* rows created")
        self.assertIn("done, 0 rows created", RUNS[1].stdout)
        for t in TABLES:
            self.assertNotEqual(SNAPSHOTS[0][t].strip(), "[]", t)
            self.assertEqual(SNAPSHOTS[0][t], SNAPSHOTS[1][t], "second run changed %s" % t)

    def test_library_group_tree(self):
        root = q("SELECT id, name FROM library_groups WHERE parent_id IS NULL")
        self.assertEqual(len(root), 1, root)
        kids = q("SELECT slug FROM library_groups WHERE parent_id = '%s' ORDER BY slug" % root[0][0])
        self.assertEqual(kids, [["mathematics"], ["web-development"]])

    def test_textbook_with_a_page_tree_of_dom_like_content(self):
        tb = q("SELECT t.id FROM textbooks t JOIN library_groups g ON g.id = t.group_id"
               " WHERE g.slug = 'web-development' AND t.slug = 'html-basics'")
        self.assertEqual(len(tb), 1)
        pages = q("SELECT id, parent_id, position, content FROM textbook_pages"
                  " WHERE textbook_id = '%s'" % tb[0][0])
        self.assertGreaterEqual(len(pages), 3)
        roots = [p for p in pages if p[1] == ""]
        self.assertGreaterEqual(len(roots), 2)
        self.assertTrue([p for p in pages if p[1] in {r[0] for r in roots}], "no child page")
        kinds = set()
        for p in pages:
            doc = json.loads(p[3])
            self.assertIsInstance(doc.get("children"), list, p[3])
            for node in walk(doc):
                kinds.add(node.get("type"))
                if node.get("type") == "text":
                    self.assertIsInstance(node.get("text"), str)
                if node.get("type") in ("element", "component"):
                    self.assertIsInstance(node.get("tag"), str)
        self.assertLessEqual({"text", "element", "component"}, kinds)

    def test_course_roles_and_their_permissions_are_whitelisted(self):
        roles = q("SELECT r.slug, r.priority, r.is_active FROM roles r"
                  " JOIN courses c ON c.id = r.scope_uuid"
                  " JOIN content_types ct ON ct.id = r.scope_type_id"
                  " WHERE ct.app_label = 'openbook_content' AND ct.model = 'course'"
                  " AND c.slug = 'web-development' ORDER BY r.priority")
        self.assertEqual(roles, [["student", "10", "t"], ["teacher", "50", "t"]])

        def perms(slug):
            return {row[0] for row in q(
                "SELECT ct.app_label || '.' || p.codename FROM roles r"
                " JOIN role_permissions rp ON rp.role_id = r.id"
                " JOIN permissions p ON p.id = rp.permission_id"
                " JOIN content_types ct ON ct.id = p.content_type_id WHERE r.slug = '%s'" % slug)}
        student, teacher = perms("student"), perms("teacher")
        self.assertLessEqual({"openbook_content.view_course",
                              "openbook_content.view_coursematerial"}, student)
        self.assertFalse({p for p in student if ".view_" not in p}, student)
        self.assertLessEqual({"openbook_content.change_course",
                              "openbook_content.change_coursematerial"}, teacher)
        # permissions.md §4: role and public permissions must be whitelisted.
        self.assertEqual(STACK.psql(
            "SELECT count(*) FROM role_permissions rp JOIN roles r ON r.id = rp.role_id"
            " WHERE NOT EXISTS (SELECT 1 FROM allowed_role_permissions a"
            " WHERE a.scope_type_id = r.scope_type_id AND a.permission_id = rp.permission_id)"
            ).strip(), "0")
        self.assertEqual(STACK.psql(
            "SELECT count(*) FROM scope_public_permissions s WHERE NOT EXISTS"
            " (SELECT 1 FROM allowed_role_permissions a WHERE a.scope_type_id = s.scope_type_id"
            " AND a.permission_id = s.permission_id)").strip(), "0")

    def test_material_uses_the_textbook_with_a_page_range(self):
        rows = q("SELECT s.textbook_id = t.id, e.textbook_id = t.id FROM course_materials m"
                 " JOIN courses c ON c.id = m.course_id JOIN textbooks t ON t.id = m.textbook_id"
                 " JOIN course_material_page_ranges pr ON pr.material_id = m.id"
                 " JOIN textbook_pages s ON s.id = pr.start_page_id"
                 " JOIN textbook_pages e ON e.id = pr.end_page_id"
                 " WHERE c.slug = 'web-development' AND t.slug = 'html-basics'")
        self.assertEqual(rows, [["t", "t"]])

    def test_scope_objects_sees_the_scopes(self):
        self.assertEqual(STACK.psql(
            "SELECT count(*) FROM scope_objects o JOIN courses c ON c.id = o.scope_uuid"
            " WHERE c.slug = 'web-development'").strip(), "1")

    def test_self_enrolment_without_passphrase_works_through_the_api(self):
        em = q("SELECT e.id, e.passphrase, e.is_active, r.slug FROM enrollment_methods e"
               " JOIN roles r ON r.id = e.role_id JOIN courses c ON c.id = e.scope_uuid"
               " WHERE c.slug = 'web-development'")
        self.assertEqual(len(em), 1, em)
        self.assertEqual(em[0][1:], ["", "t", "student"])
        # A user with an API token (CSRF-exempt), inserted directly.
        tok = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(64))
        uid = STACK.psql(
            "WITH u AS (INSERT INTO users (username, email, is_active) VALUES"
            " ('demo-student', 'demo-student@example.org', true) RETURNING id)"
            " INSERT INTO auth_tokens (user_id, token_hash, token_prefix, name)"
            " SELECT id, decode('%s', 'hex'), '%s', 'test' FROM u RETURNING user_id"
            % (hashlib.sha256(tok.encode()).hexdigest(), tok[:8])).split()[0]
        r = support.request(STACK.port, "PUT", "/api/auth/enrollment_methods/%s/enroll/" % em[0][0],
                            json_body={}, headers={"Authorization": "Token " + tok})
        self.assertEqual(r.status, 200, repr(r))
        self.assertEqual(q("SELECT r.slug, a.assignment_method FROM role_assignments a"
                           " JOIN roles r ON r.id = a.role_id WHERE a.user_id = %s" % uid),
                         [["student", "self-enrollment"]])

    def test_owner_must_exist_and_a_failed_run_changes_nothing(self):
        before = snapshot()
        r = run("--owner", "no-such-user")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("no-such-user", r.stderr)
        self.assertEqual(snapshot(), before)

    def test_wrong_option_exits_2(self):
        r = run("--no-such-option")
        self.assertEqual(r.returncode, 2)
        self.assertIn("Usage: openbook load-demo-data", r.stderr)


class DemoDataOwner(unittest.TestCase):
    """--owner on a database without demo data: groups and the course get
    the owner (rule R step 1 then grants the owner everything there)."""

    def test_owner_is_set_on_the_scopes(self):
        st = support.start_stack("demo-owner", with_nginx=False, with_server=False,
                                 with_relay=False)
        try:
            st.psql("INSERT INTO users (username, email) VALUES ('Teacher1', 't1@example.org')")
            r = subprocess.run([st.binary, "load-demo-data", "-c", st.config_path,
                                "--owner", "teacher1"], capture_output=True, text=True,
                               cwd=st.root, env=st.server_env(), timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr)
            uid = st.psql("SELECT id FROM users WHERE username = 'Teacher1'").strip()
            self.assertEqual(st.psql(
                "SELECT DISTINCT owner_id FROM (SELECT owner_id FROM library_groups"
                " UNION ALL SELECT owner_id FROM courses) x").strip(), uid)
        finally:
            support.stop_stack(st)


if __name__ == "__main__":
    unittest.main()
