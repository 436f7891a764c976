"""The local stack (deploy/local/stack.py: `make run` and every test stack)
on a shared machine: other local users reach none of its sockets, secrets
or database; the web side (nginx's workers) does not run as root.

Run as root, "another user" is "nobody" (tried for real), and the web user
(www-data) must still reach what it serves.  Run as a normal user, the
modes and owners are checked.
"""

import os
import pwd
import shutil
import socket
import stat
import subprocess
import unittest

import support

STACK = None
OTHER_USER = "nobody"

# Run as OTHER_USER or the web user: what it can open ("ok") or the error.
PROBE = r"""
import json, socket, sys
out = {}
for kind, path in json.loads(sys.argv[1]):
    try:
        if kind == "unix":
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(5)
            s.connect(path)
            s.close()
        else:
            open(path, "rb").close()
        out[path] = "ok"
    except OSError as e:
        out[path] = type(e).__name__
print(json.dumps(out))
"""


def setUpModule():
    global STACK
    STACK = support.start_stack("local")
    support.StackTestCase.stack = STACK


def tearDownModule():
    support.StackTestCase.stack = None
    support.stop_stack(STACK)


def pg_socket(st):
    return os.path.join(st.pg_socket_dir, ".s.PGSQL.%d" % st.pg_port)


def uids(pid):
    """Real, effective, saved and file-system uid of a process."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Uid:"):
                return [int(x) for x in line.split()[1:]]
    raise AssertionError("no Uid line for %d" % pid)


def redis_raw(port, data):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(data)
        return s.recv(256)


class SharedMachine(support.StackTestCase):
    def probe(self, user, targets):
        """What `user` can open of [(kind, path)]: {path: "ok" | error}."""
        import json
        r = subprocess.run(["/usr/bin/python3", "-c", PROBE, json.dumps(targets)],
                           user=user, group=pwd.getpwnam(user).pw_gid, extra_groups=[],
                           capture_output=True, text=True, timeout=30, cwd="/")
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def secret_files(self):
        return [os.path.join(self.stack.root, n) for n in
                ("openbook.yaml", "secret_key", "pg_password", "pgpass", "redis_password",
                 "redis.conf")]

    def test_secrets_are_mode_0600(self):
        for path in self.secret_files():
            st = os.stat(path)
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o600, path)
            self.assertEqual(st.st_uid, os.geteuid(), path)
        with open(self.stack.config_path) as f:
            conf = f.read()
        # The configuration holds the secret key and both passwords.
        for secret in (self.stack.config["security"]["secret_key"], self.stack.pg_password,
                       self.stack.redis_password):
            self.assertGreaterEqual(len(secret), 32)
            self.assertIn(secret, conf)

    def test_sockets_not_world_accessible(self):
        st = self.stack
        socks = [st.socket_path, pg_socket(st)]
        if st.relay_pid:
            socks.append(st.relay_socket_path)
        for path in socks:
            mode = stat.S_IMODE(os.stat(path).st_mode)
            self.assertEqual(mode & 0o007, 0, "%s is mode %o" % (path, mode))
        for d in (st.run_dir, st.pg_socket_dir, st.log_dir):
            mode = stat.S_IMODE(os.stat(d).st_mode)
            self.assertEqual(mode & 0o007, 0, "%s is mode %o" % (d, mode))
        self.assertEqual(st.config["server"]["socket_mode"],
                         "0660" if st.web else "0600")
        if st.web:
            # Shared with the web group only (setgid directories).
            for path in socks + [st.run_dir, st.pg_socket_dir]:
                self.assertEqual(os.stat(path).st_gid, st.web[2], path)
        else:
            self.assertEqual(stat.S_IMODE(os.stat(st.root).st_mode), 0o700)

    def test_other_user_reaches_nothing(self):
        if os.geteuid() != 0:
            self.skipTest("needs root to act as another user (modes checked elsewhere)")
        st = self.stack
        if st.web[0] == OTHER_USER:
            self.skipTest("the web user is %s itself" % OTHER_USER)
        targets = [("unix", st.socket_path), ("unix", pg_socket(st))]
        if st.relay_pid:
            targets.append(("unix", st.relay_socket_path))
        files = [("file", p) for p in self.secret_files()]
        got = self.probe(OTHER_USER, targets + files)
        for _, path in targets + files:
            self.assertEqual(got[path], "PermissionError", path)
        # ... while the web user reaches the sockets (nginx's workers,
        # Apache, and the binary started as www-data by the tests), but
        # not the secrets.
        got = self.probe(st.web[0], targets + files + [("file", st.config_for_web())])
        for _, path in targets:
            self.assertEqual(got[path], "ok", path)
        for _, path in files:
            self.assertEqual(got[path], "PermissionError", path)
        self.assertEqual(got[st.config_for_web()], "ok")

    def test_postgres_password_auth_only(self):
        with open(os.path.join(self.stack.pg_dir, "pg_hba.conf")) as f:
            rules = [l.split("#", 1)[0].split() for l in f]
        rules = [r for r in rules if r]
        self.assertTrue(rules)
        for r in rules:
            self.assertIn(r[-1], ("scram-sha-256", "reject"), r)
            if r[0] == "local":
                self.assertEqual(r[-1], "scram-sha-256", r)
        self.assertEqual(self.stack.psql("SELECT 1").strip(), "1")
        # Without the password (no PGPASSFILE): refused.
        env = self.stack._clean_env()
        r = subprocess.run([os.path.join(self.stack._pg_bin, "psql"), "-X", "-w",
                            "-h", self.stack.pg_socket_dir, "-p", str(self.stack.pg_port),
                            "-U", "postgres", "-d", "openbook", "-c", "SELECT 1"],
                           env=env, capture_output=True, text=True, timeout=30)
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertIn("password", r.stderr)
        # No TCP listener.
        self.assertEqual(self.stack.psql("SHOW listen_addresses").strip(), "")

    def test_redis_requires_password(self):
        port = self.stack.redis_port
        self.assertTrue(redis_raw(port, b"PING\r\n").startswith(b"-NOAUTH"))
        self.assertTrue(redis_raw(port, b"AUTH not-the-password\r\n").startswith(b"-WRONGPASS"))
        with self.stack.redis_connection() as s:
            s.sendall(b"PING\r\n")
            self.assertTrue(s.recv(64).startswith(b"+PONG"))

    def test_nginx_workers_not_root(self):
        master = self.stack.procs["nginx"].pid
        workers = support.stackmod._proc_children(master)
        self.assertTrue(workers, "no nginx worker")
        want = pwd.getpwnam(self.stack.web[0]).pw_uid if self.stack.web else os.geteuid()
        for pid in workers:
            self.assertEqual(uids(pid), [want] * 4, "nginx worker %d" % pid)
            self.assertNotIn(0, uids(pid))

    def test_no_secret_on_a_command_line(self):
        # `ps` shows every process's arguments to every user.
        secrets = [self.stack.config["security"]["secret_key"], self.stack.pg_password,
                   self.stack.redis_password]
        pids = []
        for p in self.stack.procs.values():
            pids.append(p.pid)
            pids += support.stackmod._proc_children(p.pid)
        self.assertGreaterEqual(len(pids), 4)
        for pid in pids:
            try:
                with open("/proc/%d/cmdline" % pid, "rb") as f:
                    cmd = f.read().decode("utf-8", "replace")
            except OSError:
                continue
            for s in secrets:
                self.assertNotIn(s, cmd, "pid %d" % pid)


class OlderCluster(unittest.TestCase):
    """A `var/` of an older stack (trust on the socket, no password) is
    secured on its next start, keeping its data."""

    def test_trust_cluster_gets_password_auth(self):
        root = support.make_tmpdir("local-legacy")
        # (No binary: no migrations, only PostgreSQL and Redis.)
        st = support.Stack(root, None, "/nonexistent/openbook", support.REPO, with_server=False,
                           with_nginx=False, env=support.server_env())
        try:
            st.start()
            st.psql("CREATE TABLE kept (x int); INSERT INTO kept VALUES (42)")
            st.stop()
            hba = os.path.join(st.pg_dir, "pg_hba.conf")
            with open(hba, "w") as f:
                f.write("local all all trust\n")
            for name in ("pg_password", "pgpass"):
                os.unlink(os.path.join(root, name))

            st2 = support.Stack(root, None, "/nonexistent/openbook", support.REPO, with_server=False,
                                with_nginx=False, env=support.server_env())
            try:
                st2.start()
                self.assertEqual(st2.psql("SELECT x FROM kept").strip(), "42")
                with open(hba) as f:
                    self.assertNotIn("trust", f.read())
                self.assertEqual(stat.S_IMODE(os.stat(pg_socket(st2)).st_mode) & 0o007, 0)
                env = st2._clean_env()
                r = subprocess.run([os.path.join(st2._pg_bin, "psql"), "-X", "-w",
                                    "-h", st2.pg_socket_dir, "-p", str(st2.pg_port),
                                    "-U", "postgres", "-d", "openbook", "-c", "SELECT 1"],
                                   env=env, capture_output=True, text=True, timeout=30)
                self.assertNotEqual(r.returncode, 0, r.stdout)
            finally:
                st2.stop()
        finally:
            st.stop()
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
