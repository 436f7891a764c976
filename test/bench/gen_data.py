#!/usr/bin/env python3
"""Bench data for `make bench`: content at a realistic size, and a bench user
whose access to textbooks is role-based.

    python3 test/bench/gen_data.py --config var/openbook.yaml   # a `make run` stack
    (bench.py calls load() on the stack it starts)

Creates, in one transaction, with set-based SQL (INSERT ... SELECT over
generate_series, no round trip per row):

- a root library group `bench` with 100 child groups g000..g099, each
  publicly viewable (public permission view_librarygroup); the textbooks of
  g000..g019 are public too (view_textbook, view_textbookpage);
- 10,000 textbooks (tb0..tb9999, textbook i in group i % 100), two pages
  each (20,000 pages);
- 50 courses (course j in group 2j), c0..c24 public (view_course), each with
  one course material;
- per group a role `reader` (priority 10: view_librarygroup, view_textbook,
  view_textbookpage), per course a role `student` (10: view_course,
  view_coursematerial), all whitelisted in allowed_role_permissions;
- 500 users bench-u001..bench-u500 with 1,000 role assignments: user k is
  reader in group k % 100 and student in course k % 50;
- the bench user `bench-reader` (not staff, not superuser; password: a copy
  of the hash of the user named by password_from, if any; a verified
  address; an API token): reader in g020..g029 and student in c25..c29.  So
  of the 10,000 textbooks the anonymous user sees 2,000 (public groups) and
  the bench user 3,000 (also the 1,000 of the 10 groups where rule R step 3,
  an effective assignment whose role holds view_textbook, grants them).

Then VACUUM ANALYZE: statistics for the planner, and the visibility map
that index-only scans need, as autovacuum would leave a database that has
been running for a while (a bulk load has neither yet).
Python 3 standard library only.
"""

import argparse
import hashlib
import json
import os
import re
import secrets
import string
import subprocess
import sys

GROUPS = 100
TEXTBOOKS = 10000
PAGES_PER_TEXTBOOK = 2
COURSES = 50
USERS = 500                 # x 2 assignments each = 1,000 role assignments
PUBLIC_TEXTBOOK_GROUPS = 20  # g000..g019: textbooks visible to everybody
READER_GROUPS = range(20, 30)   # the bench user's role-based groups
PUBLIC_COURSES = 25          # c0..c24
READER_COURSES = range(25, 30)
READER = "bench-reader"


def lit(v):
    if v is None:
        return "NULL"
    return "'" + str(v).replace("'", "''") + "'"


def _perms(pairs):
    """VALUES list of (scope model, perm string)."""
    return ", ".join("(%s, %s)" % (lit(m), lit(p)) for m, p in pairs)


GROUP_ROLE = ["openbook_content.view_librarygroup", "openbook_content.view_textbook",
              "openbook_content.view_textbookpage"]
COURSE_ROLE = ["openbook_content.view_course", "openbook_content.view_coursematerial"]


def sql(token_hash_hex, token_prefix, password_from):
    """The whole load: one multi-statement string, run by one psql call
    (one implicit transaction)."""
    root = "(SELECT id FROM library_groups WHERE parent_id IS NULL AND slug = 'bench')"
    gct = ("(SELECT id FROM content_types WHERE app_label = 'openbook_content'"
           " AND model = 'librarygroup')")
    cct = ("(SELECT id FROM content_types WHERE app_label = 'openbook_content'"
           " AND model = 'course')")
    perm = ("SELECT p.id FROM permissions p JOIN content_types pc ON pc.id = p.content_type_id"
            " WHERE pc.app_label || '.' || p.codename")
    # Bench groups with their number (g007 -> 7), and bench courses.
    bgroups = ("(SELECT g.id, substr(g.slug, 2)::int AS n FROM library_groups g"
               " WHERE g.parent_id = %s)" % root)
    bcourses = ("(SELECT c.id, substr(c.slug, 2)::int AS n FROM courses c"
                " JOIN library_groups g ON g.id = c.group_id WHERE g.parent_id = %s)" % root)
    rd_groups = "ARRAY[%s]" % ",".join(str(i) for i in READER_GROUPS)
    rd_courses = "ARRAY[%s]" % ",".join(str(i) for i in READER_COURSES)
    tb_perms = "('view_textbook', 'change_textbook')"
    public_tb = ("EXISTS (SELECT 1 FROM scope_public_permissions sp JOIN permissions p"
                 " ON p.id = sp.permission_id WHERE sp.scope_type_id = %s"
                 " AND sp.scope_uuid = t.group_id AND p.codename IN %s)" % (gct, tb_perms))
    by_role = ("EXISTS (SELECT 1 FROM role_assignments a JOIN users u ON u.id = a.user_id"
               " JOIN roles r ON r.id = a.role_id JOIN role_permissions rp ON rp.role_id = r.id"
               " JOIN permissions p ON p.id = rp.permission_id WHERE u.username = %s"
               " AND a.scope_type_id = %s AND a.scope_uuid = t.group_id AND a.is_active"
               " AND r.is_active AND (a.start_date IS NULL OR a.start_date <= now())"
               " AND (a.end_date IS NULL OR a.end_date > now()) AND p.codename IN %s)"
               % (lit(READER), gct, tb_perms))
    stmts = [
        # permissions.md §4: roles and public permissions only hold
        # whitelisted permissions.
        "INSERT INTO allowed_role_permissions (scope_type_id, permission_id)"
        " SELECT st.id, p.id FROM content_types st, permissions p"
        " JOIN content_types pc ON pc.id = p.content_type_id,"
        " (VALUES %s) w(model, perm)"
        " WHERE st.app_label = 'openbook_content' AND st.model = w.model"
        " AND pc.app_label || '.' || p.codename = w.perm ON CONFLICT DO NOTHING"
        % _perms([("librarygroup", p) for p in GROUP_ROLE] + [("course", p) for p in COURSE_ROLE]),
        "INSERT INTO library_groups (slug, name, description)"
        " VALUES ('bench', 'Bench', 'Generated by test/bench/gen_data.py')",
        "INSERT INTO library_groups (parent_id, slug, name)"
        " SELECT %s, 'g' || lpad(i::text, 3, '0'), 'Bench group ' || lpad(i::text, 3, '0')"
        " FROM generate_series(0, %d) i" % (root, GROUPS - 1),
        "INSERT INTO textbooks (group_id, slug, name, description)"
        " SELECT g.id, 'tb' || i, 'Textbook ' || lpad(i::text, 5, '0'),"
        " 'Bench textbook number ' || i FROM generate_series(0, %d) i"
        " JOIN %s g ON g.n = i %% %d" % (TEXTBOOKS - 1, bgroups, GROUPS),
        "INSERT INTO textbook_pages (textbook_id, position, name, content)"
        " SELECT t.id, p, 'Page ' || (p + 1), json_build_object('type', 'root', 'children',"
        " json_build_array(json_build_object('type', 'element', 'tag', 'p', 'attributes',"
        " '{}'::json, 'children', json_build_array(json_build_object('type', 'text', 'text',"
        " 'Page ' || (p + 1) || ' of ' || t.name)))))"
        " FROM textbooks t JOIN %s g ON g.id = t.group_id, generate_series(0, %d) p"
        % (bgroups, PAGES_PER_TEXTBOOK - 1),
        "INSERT INTO courses (group_id, slug, name, description)"
        " SELECT g.id, 'c' || j, 'Course ' || lpad(j::text, 2, '0'), 'Bench course ' || j"
        " FROM generate_series(0, %d) j JOIN %s g ON g.n = 2 * j" % (COURSES - 1, bgroups),
        # Course j uses textbook 2j, which lives in the course's group.
        "INSERT INTO course_materials (course_id, textbook_id, position)"
        " SELECT c.id, t.id, 0 FROM %s c JOIN textbooks t ON t.slug = 'tb' || (2 * c.n)"
        " JOIN %s g ON g.id = t.group_id" % (bcourses, bgroups),
        # Public permissions.
        "INSERT INTO scope_public_permissions (scope_type_id, scope_uuid, permission_id)"
        " SELECT %s, g.id, p.id FROM %s g, (%s = 'openbook_content.view_librarygroup') p"
        % (gct, bgroups, perm),
        "INSERT INTO scope_public_permissions (scope_type_id, scope_uuid, permission_id)"
        " SELECT %s, g.id, p.id FROM %s g, (%s IN ('openbook_content.view_textbook',"
        " 'openbook_content.view_textbookpage')) p WHERE g.n < %d"
        % (gct, bgroups, perm, PUBLIC_TEXTBOOK_GROUPS),
        "INSERT INTO scope_public_permissions (scope_type_id, scope_uuid, permission_id)"
        " SELECT %s, c.id, p.id FROM %s c, (%s = 'openbook_content.view_course') p"
        " WHERE c.n < %d" % (cct, bcourses, perm, PUBLIC_COURSES),
        # Roles with their permissions.
        "INSERT INTO roles (scope_type_id, scope_uuid, slug, name, priority)"
        " SELECT %s, g.id, 'reader', 'Reader', 10 FROM %s g" % (gct, bgroups),
        "INSERT INTO roles (scope_type_id, scope_uuid, slug, name, priority)"
        " SELECT %s, c.id, 'student', 'Student', 10 FROM %s c" % (cct, bcourses),
        "INSERT INTO role_permissions (role_id, permission_id)"
        " SELECT r.id, p.id FROM roles r JOIN %s g ON g.id = r.scope_uuid,"
        " (%s = ANY(ARRAY[%s])) p WHERE r.slug = 'reader'"
        % (bgroups, perm, ", ".join(lit(p) for p in GROUP_ROLE)),
        "INSERT INTO role_permissions (role_id, permission_id)"
        " SELECT r.id, p.id FROM roles r JOIN %s c ON c.id = r.scope_uuid,"
        " (%s = ANY(ARRAY[%s])) p WHERE r.slug = 'student'"
        % (bcourses, perm, ", ".join(lit(p) for p in COURSE_ROLE)),
        # Many users, two assignments each.
        "INSERT INTO users (username, email)"
        " SELECT 'bench-u' || lpad(k::text, 3, '0'), 'bench-u' || k || '@example.org'"
        " FROM generate_series(1, %d) k" % USERS,
        "INSERT INTO role_assignments (scope_type_id, scope_uuid, role_id, user_id)"
        " SELECT r.scope_type_id, r.scope_uuid, r.id, u.id FROM users u"
        " JOIN %s g ON g.n = substr(u.username, 8)::int %% %d"
        " JOIN roles r ON r.scope_uuid = g.id AND r.slug = 'reader'"
        " WHERE u.username LIKE 'bench-u%%'" % (bgroups, GROUPS),
        "INSERT INTO role_assignments (scope_type_id, scope_uuid, role_id, user_id)"
        " SELECT r.scope_type_id, r.scope_uuid, r.id, u.id FROM users u"
        " JOIN %s c ON c.n = substr(u.username, 8)::int %% %d"
        " JOIN roles r ON r.scope_uuid = c.id AND r.slug = 'student'"
        " WHERE u.username LIKE 'bench-u%%'" % (bcourses, COURSES),
        # The bench user.
        "INSERT INTO users (username, email, password) SELECT %s, %s,"
        " coalesce((SELECT password FROM users WHERE username = %s), '!')"
        % (lit(READER), lit(READER + "@example.org"), lit(password_from)),
        "INSERT INTO email_addresses (user_id, email, verified, is_primary)"
        " SELECT id, email, true, true FROM users WHERE username = %s" % lit(READER),
        "INSERT INTO auth_tokens (user_id, token_hash, token_prefix, name)"
        " SELECT id, decode(%s, 'hex'), %s, 'bench' FROM users WHERE username = %s"
        % (lit(token_hash_hex), lit(token_prefix), lit(READER)),
        "INSERT INTO role_assignments (scope_type_id, scope_uuid, role_id, user_id)"
        " SELECT r.scope_type_id, r.scope_uuid, r.id, u.id FROM users u,"
        " %s g JOIN roles r ON r.scope_uuid = g.id AND r.slug = 'reader'"
        " WHERE u.username = %s AND g.n = ANY(%s)" % (bgroups, lit(READER), rd_groups),
        "INSERT INTO role_assignments (scope_type_id, scope_uuid, role_id, user_id)"
        " SELECT r.scope_type_id, r.scope_uuid, r.id, u.id FROM users u,"
        " %s c JOIN roles r ON r.scope_uuid = c.id AND r.slug = 'student'"
        " WHERE u.username = %s AND c.n = ANY(%s)" % (bcourses, lit(READER), rd_courses),
        # What was made, and a textbook everybody may see (for the retrieve).
        "SELECT json_build_object("
        "'library_groups', (SELECT count(*) FROM library_groups),"
        "'textbooks', (SELECT count(*) FROM textbooks),"
        "'textbook_pages', (SELECT count(*) FROM textbook_pages),"
        "'courses', (SELECT count(*) FROM courses),"
        "'role_assignments', (SELECT count(*) FROM role_assignments),"
        "'users', (SELECT count(*) FROM users),"
        "'reader_assignments', (SELECT count(*) FROM role_assignments a JOIN users u"
        " ON u.id = a.user_id WHERE u.username = %s),"
        # Rule R for view_textbook (or change_textbook) on the bench
        # textbooks, straight from the tables: what the textbook list must
        # count anonymously and for the bench user.
        "'visible_textbooks_anonymous', (SELECT count(*) FROM textbooks t WHERE %s),"
        "'visible_textbooks_reader', (SELECT count(*) FROM textbooks t WHERE %s OR %s),"
        "'public_textbook', (SELECT t.id FROM textbooks t JOIN %s g ON g.id = t.group_id"
        " WHERE g.n = 0 ORDER BY t.name LIMIT 1),"
        "'role_textbook', (SELECT t.id FROM textbooks t JOIN %s g ON g.id = t.group_id"
        " WHERE g.n = %d ORDER BY t.name LIMIT 1))"
        % (lit(READER), public_tb, public_tb, by_role, bgroups, bgroups, READER_GROUPS[0]),
    ]
    return ";\n".join(stmts) + ";\n"


def load(psql, password_from=None):
    """Loads the bench data through psql(sql) -> stdout (tuples only).
    Returns a dict: row counts, "reader" (username), "reader_token" (the
    bench user's API token), "public_textbook" and "role_textbook" (ids of
    a textbook everybody sees and of one only the bench user sees), and
    "visible_textbooks_anonymous" / "visible_textbooks_reader" (how many
    textbooks rule R shows them, computed from the tables)."""
    if psql("SELECT count(*) FROM library_groups WHERE parent_id IS NULL AND slug = 'bench'"
            ).strip() != "0":
        raise RuntimeError("bench data is already loaded (library group 'bench' exists)")
    alphabet = string.ascii_letters + string.digits
    token = "".join(secrets.choice(alphabet) for _ in range(64))
    out = psql(sql(hashlib.sha256(token.encode()).hexdigest(), token[:8], password_from))
    info = json.loads(out.strip().splitlines()[-1])
    psql("VACUUM ANALYZE")
    info.update(reader=READER, reader_token=token)
    return info


def _psql_from_config(path):
    """psql(sql) for the database.url of an openbook.yaml (as written by
    deploy/local/stack.py: a libpq key=value string)."""
    with open(path) as f:
        m = re.search(r"^\s*url:\s*\"?([^\"\n]+)\"?\s*$", f.read(), re.M)
    if not m:
        raise SystemExit("no database url in %s" % path)
    conninfo = m.group(1)
    # The password goes to psql in its environment, not on its command
    # line (`ps` shows that to every user).
    password = re.search(r"(?:^|\s)password=(\S+)", conninfo)
    conninfo = re.sub(r"(?:^|\s)password=\S+", "", conninfo).strip()

    def psql(text):
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        if password:
            env["PGPASSWORD"] = password.group(1)
        r = subprocess.run(["psql", "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-d", conninfo,
                            "-c", text], capture_output=True, text=True, env=env, timeout=600)
        if r.returncode != 0:
            raise RuntimeError("psql failed: %s" % r.stderr.strip())
        return r.stdout
    return psql


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", default="var/openbook.yaml",
                    help="the stack's openbook.yaml (default var/openbook.yaml, `make run`)")
    ap.add_argument("--password-from", default=None,
                    help="give bench-reader a copy of this user's password hash")
    args = ap.parse_args()
    info = load(_psql_from_config(args.config), args.password_from)
    print(json.dumps(info, indent=1))


if __name__ == "__main__":
    sys.exit(main())
