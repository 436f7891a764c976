"""`openbook backup` and `openbook restore`: the round trip and what is
refused.

A stack with users (made by the CLI and as imported), sessions, the demo
content (load-demo-data) and media files (library files, an upload, an
empty folder, a staged upload that must stay out) is backed up; a second,
fresh stack gets it restored.  Then, for every resource GET /api/ lists,
the list and one item answer the same JSON on both (anonymously and as a
superuser whose session came along in the backup); the media files come
through nginx byte for byte with the same type; logins work.

Also: the manifest (versions, schema migration, SHA-256 of every file;
private file modes), restore refusing a database or media root that is not
empty, a damaged file, a backup newer than the binary; an older backup
brought forward by `openbook migrate`; retention with --in/--keep.
"""

import glob
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import unittest

import support

# The newest schema this tree knows: the number of its last migration.
LATEST = int(os.path.basename(sorted(glob.glob(os.path.join(
    support.REPO, "src/db/migrations/*.sql")))[-1])[:4])
from auth_support import COMMON_PASSWORDS, GOOD_PASSWORD, Client, create_user

SRC = DST = None
BACKUP = None
ADMIN_SESSION = None

MEDIA = {
    "lib/demo/widgets/1.0.0/library.js": b"export const answer = 42;\n",
    "lib/demo/widgets/1.0.0/library.css": b".w { color: red }\n",
    "lib/@demo_widgets_1.0.0.zip": b"PK\x05\x06" + b"\0" * 18,
    "uploads/pictures/face one.png": bytes(range(256)) * 40,
}
EMPTY_DIR = "uploads/empty"


def run_cli(st, args, stdin="", env=None):
    e = st.server_env()
    e.update(env or {})
    return subprocess.run([st.binary] + args + ["-c", st.config_path], input=stdin,
                          capture_output=True, text=True, env=e, timeout=300)


def must(r, what):
    if r.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s%s" % (what, r.returncode, r.stdout, r.stderr))
    return r


def setUpModule():
    global SRC, DST, BACKUP, ADMIN_SESSION
    cfg = {"auth": {"common_passwords": COMMON_PASSWORDS}}
    SRC = support.start_stack("backup-src", demo_data=True, config=cfg)
    try:
        DST = support.start_stack("backup-dst", config=cfg)
    except BaseException:
        support.stop_stack(SRC)
        raise
    # Users: an administrator made by the command line, one as imported
    # from the original (pbkdf2 hash), one with a picture.
    must(run_cli(SRC, ["user", "create", "bk_admin", "--email", "admin@example.org",
                       "--superuser", "--password-stdin"], GOOD_PASSWORD + "\n"), "user create")
    create_user(SRC, "bk_reader")
    uid = create_user(SRC, "bk_painter")
    SRC.psql("UPDATE users SET picture = 'uploads/pictures/face one.png' WHERE id = %d" % uid)
    c = Client(SRC).prime()
    assert c.login("bk_admin").status == 200, c.last
    ADMIN_SESSION = c.cookies["sessionid"]
    for rel, data in MEDIA.items():
        p = os.path.join(SRC.media_dir, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
    os.makedirs(os.path.join(SRC.media_dir, EMPTY_DIR))
    os.makedirs(os.path.join(SRC.media_dir, ".staging"), exist_ok=True)  # serve makes it at start-up
    with open(os.path.join(SRC.media_dir, ".staging", "half.part"), "wb") as f:
        f.write(b"an upload in progress")
    BACKUP = os.path.join(support.make_tmpdir("backup"), "nightly")
    must(run_cli(SRC, ["backup", BACKUP]), "backup")


def tearDownModule():
    for st in (DST, SRC):
        support.stop_stack(st)
    if BACKUP:
        support.cleanup_dir(os.path.dirname(BACKUP))


def manifest(path=None):
    with open(os.path.join(path or BACKUP, "manifest.json")) as f:
        return json.load(f)


def copy_backup(tag):
    d = os.path.join(support.make_tmpdir(tag), "copy")
    shutil.copytree(BACKUP, d)
    return d


def drop_database(st, name="openbook"):
    st.psql("DROP DATABASE IF EXISTS %s WITH (FORCE)" % name, db="postgres")
    st.psql("CREATE DATABASE %s ENCODING 'UTF8' TEMPLATE template0" % name, db="postgres")


def database_url(st, name):
    return re.sub(r"dbname=\S+", "dbname=" + name, st.config["database"]["url"])


class Backup(unittest.TestCase):
    def test_manifest(self):
        m = manifest()
        self.assertEqual((m["format"], m["schema_version"], m["openbook_version"]),
                         (1, LATEST, "0.1.0"))
        self.assertRegex(m["postgresql_version"], r"^\d+")
        self.assertRegex(m["created_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        files = {f["path"]: f for f in m["files"]}
        want = {"database.dump"} | {"media/" + rel for rel in MEDIA}
        # Beside the test's files, what the stack itself put in the media
        # root (the demo library under lib/); never .staging.
        for top, dirs, names in os.walk(os.path.join(SRC.media_dir, "lib")):
            want |= {"media/" + os.path.relpath(os.path.join(top, n), SRC.media_dir)
                     for n in names}
        self.assertEqual(set(files), want)
        self.assertFalse(any(p.startswith("media/.staging") for p in files))
        self.assertIn("media/" + EMPTY_DIR, m["dirs"])
        self.assertNotIn("media/.staging", m["dirs"])
        for path, f in files.items():
            with open(os.path.join(BACKUP, path), "rb") as fh:
                data = fh.read()
            self.assertEqual((f["size"], f["sha256"]), (len(data), hashlib.sha256(data).hexdigest()),
                             path)
        with open(os.path.join(BACKUP, "database.dump"), "rb") as fh:
            self.assertEqual(fh.read(5), b"PGDMP")   # pg_dump's custom format
        # Private: the dump holds password hashes.
        for p in [BACKUP] + glob.glob(BACKUP + "/**", recursive=True):
            mode = stat.S_IMODE(os.lstat(p).st_mode)
            self.assertEqual(mode & 0o077, 0, "%s is %o" % (p, mode))

    def test_target_must_be_new_or_empty(self):
        r = run_cli(SRC, ["backup", BACKUP])
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("not an empty folder", r.stderr)

    def test_never_inside_the_media_root(self):
        inside = os.path.join(SRC.media_dir, "backups")
        r = run_cli(SRC, ["backup", inside])
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("inside the media root", r.stderr)
        self.assertFalse(os.path.exists(inside))

    def test_password_never_on_the_command_line(self):
        """pg_dump gets the password in a private pgpass file, removed
        afterwards; not in argv, not as PGPASSWORD; no OPENBOOK_* secrets."""
        tools = support.make_tmpdir("fake-tools")
        self.addCleanup(support.cleanup_dir, tools)
        record = os.path.join(tools, "record")
        with open(os.path.join(tools, "pg_dump"), "w") as f:
            f.write('#!/bin/sh\n{ printf "%%s\\n" "$@"; echo ---; env; echo ---; '
                    'cat "$PGPASSFILE"; stat -c %%a "$PGPASSFILE"; echo "$PGPASSFILE"; } > %s\n'
                    'exit 3\n' % record)
        os.chmod(os.path.join(tools, "pg_dump"), 0o755)
        d = os.path.join(tools, "b")
        r = run_cli(SRC, ["backup", d], env={"OPENBOOK_DATABASE_TOOLS_DIR": tools,
                                             "PGPASSWORD": "not-this-one"})
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("pg_dump failed (exit 3)", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(d, "manifest.json")))
        with open(record) as f:
            argv, env, pgpass = f.read().split("---\n")
        password = SRC.pg_password
        self.assertNotIn(password, argv)
        self.assertIn("--snapshot=", argv)
        self.assertRegex(argv, r"--dbname=.*dbname='openbook'")
        self.assertNotIn("PGPASSWORD", env)
        self.assertNotIn("OPENBOOK_", env)
        line, mode, path = pgpass.strip().split("\n")
        self.assertEqual((line, mode), ("*:*:*:*:" + password, "600"))
        self.assertFalse(os.path.exists(path))

    def test_retention(self):
        parent = support.make_tmpdir("backup-keep")
        self.addCleanup(support.cleanup_dir, parent)
        for name, whole in (("openbook-20000101T000000Z", True),
                            ("openbook-20000102T000000Z", True),
                            ("openbook-20000103T000000Z", False), ("notes", True)):
            os.makedirs(os.path.join(parent, name))
            if whole:
                with open(os.path.join(parent, name, "manifest.json"), "w") as f:
                    f.write("{}")
        r = must(run_cli(SRC, ["backup", "--in", parent, "--keep", "2", "--json"]), "backup --in")
        out = json.loads(r.stdout)
        new = os.path.basename(out["dir"])
        self.assertRegex(new, r"^openbook-\d{8}T\d{6}Z$")
        self.assertEqual(sorted(os.listdir(parent)),
                         sorted([".lock", "notes", "openbook-20000102T000000Z", new]))
        self.assertEqual(sorted(os.path.basename(p) for p in out["removed"]),
                         ["openbook-20000101T000000Z", "openbook-20000103T000000Z"])
        m = must(run_cli(SRC, ["restore", "--check", out["dir"]]), "restore --check")
        self.assertIn("Verified", m.stdout)


class RestoreRefuses(unittest.TestCase):
    def test_damaged_file(self):
        d = copy_backup("damaged")
        self.addCleanup(support.cleanup_dir, os.path.dirname(d))
        p = os.path.join(d, "media", "lib", "demo", "widgets", "1.0.0", "library.js")
        with open(p, "r+b") as f:
            f.write(b"X")
        r = run_cli(DST, ["restore", "--check", d])
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("library.js", r.stderr)
        self.assertIn("SHA-256", r.stderr)
        os.unlink(p)
        r = run_cli(DST, ["restore", "--check", d])
        self.assertEqual(r.returncode, 1, r.stdout)

    def test_newer_than_the_binary(self):
        d = copy_backup("newer")
        self.addCleanup(support.cleanup_dir, os.path.dirname(d))
        m = manifest(d)
        m["schema_version"] = 9999
        with open(os.path.join(d, "manifest.json"), "w") as f:
            json.dump(m, f)
        r = run_cli(DST, ["restore", d])
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("newer than this binary", r.stderr)

    def test_manifest_escaping_the_target(self):
        d = copy_backup("escape")
        self.addCleanup(support.cleanup_dir, os.path.dirname(d))
        m = manifest(d)
        m["files"].append({"path": "media/../../etc/x", "size": 0,
                           "sha256": hashlib.sha256(b"").hexdigest()})
        with open(os.path.join(d, "manifest.json"), "w") as f:
            json.dump(m, f)
        r = run_cli(DST, ["restore", "--check", d])
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("no valid path", r.stderr)

    def test_not_a_backup(self):
        d = support.make_tmpdir("not-a-backup")
        self.addCleanup(support.cleanup_dir, d)
        r = run_cli(DST, ["restore", d])
        self.assertEqual(r.returncode, 1)
        self.assertIn("manifest.json", r.stderr)

    def test_older_backup_is_brought_forward_by_migrate(self):
        """A backup one schema behind restores into a new database;
        `openbook migrate` then applies the newest migration."""
        st = SRC
        drop_database(st, "bk_old")
        drop_database(st, "bk_fresh")
        self.addCleanup(st.psql, "DROP DATABASE IF EXISTS bk_old WITH (FORCE)", "postgres")
        self.addCleanup(st.psql, "DROP DATABASE IF EXISTS bk_fresh WITH (FORCE)", "postgres")
        st.psql("CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())", db="bk_old")
        migrations = sorted(glob.glob(os.path.join(support.REPO, "src/db/migrations/*.sql")))
        self.assertEqual(int(os.path.basename(migrations[-1])[:4]), LATEST)
        for path in migrations[:-1]:
            st._psql(["-f", path], "bk_old")
            n = os.path.basename(path)
            st.psql("INSERT INTO schema_migrations VALUES (%d, '%s')" % (int(n[:4]), n[:-4]),
                    db="bk_old")
        d = os.path.join(support.make_tmpdir("old-backup"), "b")
        media = support.make_tmpdir("old-media")
        self.addCleanup(support.cleanup_dir, os.path.dirname(d))
        self.addCleanup(support.cleanup_dir, media)
        env = {"OPENBOOK_DATABASE_URL": database_url(st, "bk_old"),
               "OPENBOOK_MEDIA_MEDIA_ROOT": media}
        must(run_cli(st, ["backup", d], env=env), "backup of an older schema")
        self.assertEqual(manifest(d)["schema_version"], LATEST - 1)
        env = {"OPENBOOK_DATABASE_URL": database_url(st, "bk_fresh"),
               "OPENBOOK_MEDIA_MEDIA_ROOT": os.path.join(media, "restored")}
        r = must(run_cli(st, ["restore", "--json", d], env=env), "restore of an older schema")
        out = json.loads(r.stdout)
        self.assertEqual((out["schema_version"], out["migrate_needed"]), (LATEST - 1, True))
        self.assertEqual(st.psql("SELECT max(version) FROM schema_migrations", db="bk_fresh")
                         .strip(), str(LATEST - 1))
        must(run_cli(st, ["migrate"], env=env), "migrate")
        self.assertEqual(st.psql("SELECT max(version) FROM schema_migrations", db="bk_fresh")
                         .strip(), str(LATEST))


class RoundTrip(unittest.TestCase):
    """The restore into DST, then DST answers as SRC does."""

    @classmethod
    def setUpClass(cls):
        # Not into a migrated database, nor a media root that holds files.
        r = run_cli(DST, ["restore", BACKUP])
        assert r.returncode == 1 and "database is not empty" in r.stderr, r
        drop_database(DST)
        stray = os.path.join(DST.media_dir, "stray.txt")
        with open(stray, "w") as f:
            f.write("x")
        r = run_cli(DST, ["restore", BACKUP])
        assert r.returncode == 1 and "not empty" in r.stderr and "media root" in r.stderr, r
        os.unlink(stray)
        r = must(run_cli(DST, ["restore", "--json", BACKUP]), "restore")
        cls.result = json.loads(r.stdout)
        must(run_cli(DST, ["migrate"]), "migrate")
        DST.restart_server()

    def test_result(self):
        self.assertEqual((self.result["schema_version"], self.result["migrate_needed"],
                          self.result["restored"]), (LATEST, False, True))

    def answer(self, st, path, session=None):
        headers = {"Cookie": "sessionid=%s" % session} if session else {}
        r = support.request(st.port, "GET", path, headers=headers)
        body = r.body.decode("utf-8").replace("127.0.0.1:%d" % st.port, "HOST")
        return r.status, (json.loads(body) if body else None)

    def test_every_resource_answers_the_same(self):
        status, root = self.answer(SRC, "/api/")
        self.assertEqual(status, 200)
        self.assertEqual(self.answer(DST, "/api/"), (status, root))
        self.assertGreater(len(root), 15)
        items = 0
        for name, url in sorted(root.items()):
            path = url.replace("http://HOST", "")
            for session in (None, ADMIN_SESSION):
                with self.subTest(resource=name, admin=bool(session)):
                    src = self.answer(SRC, path, session)
                    self.assertEqual(self.answer(DST, path, session), src)
                    results = src[1].get("results") if isinstance(src[1], dict) else src[1]
                    if not session or not isinstance(results, list) or not results:
                        continue
                    key = next((results[0][k] for k in ("username", "id", "uuid", "language")
                                if isinstance(results[0], dict) and k in results[0]), None)
                    if key is None:
                        continue
                    item = "%s%s/" % (path, key)
                    got = self.answer(SRC, item, session)
                    self.assertEqual(got[0], 200, item)
                    self.assertEqual(self.answer(DST, item, session), got)
                    items += 1
        self.assertGreater(items, 10)
        # The demo content is there (not two empty databases agreeing).
        status, courses = self.answer(DST, "/api/content/courses/")
        self.assertIn("Web Development", json.dumps(courses))

    def test_media_files_are_served_the_same(self):
        for rel, data in MEDIA.items():
            path = "/media/" + rel.replace(" ", "%20")
            a = support.request(SRC.port, "GET", path)
            b = support.request(DST.port, "GET", path)
            self.assertEqual((b.status, b.body), (200, data), rel)
            self.assertEqual(b.header("Content-Type"), a.header("Content-Type"), rel)
        self.assertTrue(os.path.isdir(os.path.join(DST.media_dir, EMPTY_DIR)))
        self.assertFalse(os.path.exists(os.path.join(DST.media_dir, ".staging")))
        mode = stat.S_IMODE(os.stat(os.path.join(DST.media_dir, "uploads/pictures/face one.png"))
                            .st_mode)
        self.assertEqual(mode, 0o644)

    def test_logins_and_sessions_work(self):
        self.assertEqual(self.answer(DST, "/api/auth/current_user/", ADMIN_SESSION)[1]
                         .get("username"), "bk_admin")
        for name in ("bk_admin", "bk_reader"):
            c = Client(DST).prime()
            self.assertEqual(c.login(name).status, 200, c.last)
        self.assertNotEqual(Client(DST).prime().login("bk_reader", "wrong-Password-1").status,
                            200)


if __name__ == "__main__":
    unittest.main()
