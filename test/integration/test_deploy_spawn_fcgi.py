"""deploy/spawn-fcgi/openbook-spawn-fcgi.sh, run as shipped (literal paths
and users replaced), in both documented modes:

(a) `pool`: spawn-fcgi -n execs the master on the socket (fd 0); the master
    pre-forks and replaces a worker that dies;
(b) `single N`: spawn-fcgi -F N starts N `serve --single` processes; one
    that dies is not replaced (the README's reason to prefer (a)).

The README's command lines must be the script's, character for character.
(test_launchers.py covers hand-written spawn-fcgi lines; this module is
about the shipped files.)
"""

import grp
import os
import pwd
import re
import shutil
import signal
import stat
import subprocess
import unittest

import support

KIT = os.path.join(support.REPO, "deploy", "spawn-fcgi")
SCRIPT = os.path.join(KIT, "openbook-spawn-fcgi.sh")
USERS = "-u openbook -g openbook -U openbook -G www-data"
HEALTH = {"status": "GOOD"}

STACK = None


def setUpModule():
    global STACK
    if not shutil.which("spawn-fcgi"):
        raise unittest.SkipTest("spawn-fcgi not installed (make deps)")
    STACK = support.start_stack("spawnfcgi", with_server=False, with_nginx=False)
    support.StackTestCase.stack = STACK


def tearDownModule():
    support.StackTestCase.stack = None
    support.stop_stack(STACK)


def spawn_lines(text):
    return [l.strip() for l in text.splitlines()
            if re.match(r"\s*(exec )?spawn-fcgi -", l)]


class Docs(unittest.TestCase):
    def test_readme_lines_are_the_scripts(self):
        with open(SCRIPT) as f:
            script = [l[len("exec "):] for l in spawn_lines(f.read())]
        with open(os.path.join(KIT, "README")) as f:
            readme = spawn_lines(f.read())
        self.assertEqual(len(script), 2, script)
        # The README shows -F 4, the script's default.
        self.assertEqual([l.replace('-F "$n"', "-F 4") for l in script], readme)
        self.assertIn(" -n ", script[0])
        self.assertIn("serve -c ", script[0])
        self.assertIn("serve --single -c ", script[1])
        for l in script:
            self.assertIn(USERS, l)
            self.assertIn("-M 0660", l)

    def test_script_syntax(self):
        r = subprocess.run(["sh", "-n", SCRIPT], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)


class Script(support.StackTestCase):
    def setUp(self):
        st = self.stack
        self.run_dir = os.path.join(st.root, "sf-%s" % self._testMethodName)
        shutil.rmtree(self.run_dir, ignore_errors=True)
        self.sock = os.path.join(self.run_dir, "openbook.sock")
        self.pidfile = os.path.join(self.run_dir, "openbook-spawn-fcgi.pid")
        self.binary = st.binary
        if os.geteuid() == 0:
            # The script's user "openbook" does not exist here.
            self.user = "www-data"
            users = "-u www-data -g www-data -U www-data -G www-data"
            if not support.stackmod._ancestors_searchable(st.binary):
                # A checkout www-data cannot reach (e.g. below /root).
                self.binary = os.path.join(st.root, "bin", "openbook")
                if not os.path.exists(self.binary):
                    os.makedirs(os.path.dirname(self.binary), exist_ok=True)
                    shutil.copy2(st.binary, self.binary)
                    os.chmod(self.binary, 0o755)
        else:
            self.user = None
            users = ""
        with open(SCRIPT) as f:
            text = f.read()
        for old, new in (("/run/openbook", self.run_dir), (USERS, users),
                         ("/usr/bin/openbook", self.binary),
                         ("/etc/openbook/openbook.yaml", st.config_for_web())):
            self.assertIn(old, text)
            text = text.replace(old, new)
        self.script = os.path.join(st.root, "spawn-%s.sh" % self._testMethodName)
        with open(self.script, "w") as f:
            f.write(text)
        self.log = open(st.log_path("openbook-%s" % self._testMethodName), "ab")
        self.addCleanup(self.log.close)
        self.procs, self.loose = [], []
        self.addCleanup(self.kill_all)

    def kill_all(self):
        for p in self.procs:
            if p.poll() is None:
                kids = support.stackmod._proc_children(p.pid)
                p.kill()
                p.wait()
                self.loose.extend(kids)
        for pid in self.loose:
            if support.pid_alive(pid):
                os.kill(pid, signal.SIGKILL)

    def run_script(self, *args, background=False):
        argv = ["sh", self.script] + list(args)
        kw = dict(stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
                  env=self.stack.server_env(), cwd="/")
        if background:
            p = subprocess.Popen(argv, start_new_session=True,
                                 preexec_fn=support.stackmod._set_pdeathsig(signal.SIGTERM), **kw)
            self.procs.append(p)
            return p
        return subprocess.run(argv, timeout=30, **kw)

    def log_tail(self):
        self.log.flush()
        return support.stackmod.tail(self.log.name, 30)

    def health(self):
        return support.fcgi_request(self.sock, support.fcgi_params("GET", "/api/core/sites/health/"))

    def assertSocket(self):
        st = os.stat(self.sock)
        self.assertTrue(stat.S_ISSOCK(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o660)
        if self.user:
            self.assertEqual(pwd.getpwuid(st.st_uid).pw_name, self.user)
            self.assertEqual(grp.getgrgid(st.st_gid).gr_name, "www-data")

    def assertRunsAsUser(self, pid):
        if self.user:
            self.assertEqual(pwd.getpwuid(os.stat("/proc/%d" % pid).st_uid).pw_name, self.user)

    def test_a_pool_under_master(self):
        p = self.run_script("pool", background=True)
        support.wait_for(lambda: os.path.exists(self.sock) or p.poll() is not None, 10,
                         what="socket")
        self.assertIsNone(p.poll(), self.log_tail())
        self.assertSocket()
        for _ in range(3):
            self.assertJSON(self.health(), 200, HEALTH)
        # -n: the script's process became the master (sh exec spawn-fcgi exec openbook).
        with open("/proc/%d/cmdline" % p.pid, "rb") as f:
            self.assertEqual(f.read().split(b"\0")[:2], [self.binary.encode(), b"serve"])
        self.assertRunsAsUser(p.pid)
        self.assertIn("inherited on fd 0", self.log_tail())
        workers = support.wait_for(
            lambda: (lambda k: k if len(k) == 2 else None)(support.stackmod._proc_children(p.pid)),
            10, what="2 workers")
        # A crashed worker is replaced by the master.
        os.kill(workers[0], signal.SIGKILL)
        support.wait_for(
            lambda: (lambda k: len(k) == 2 and workers[0] not in k)(
                support.stackmod._proc_children(p.pid)),
            10, what="the killed worker replaced")
        self.assertJSON(self.health(), 200, HEALTH)
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(20), 0, self.log_tail())

    def test_b_single_processes(self):
        r = self.run_script("single", "2")
        self.assertEqual(r.returncode, 0, self.log_tail())
        with open(self.pidfile) as f:
            pids = [int(x) for x in f.read().split()]
        self.loose.extend(pids)
        self.assertEqual(len(pids), 2, pids)
        self.assertSocket()
        for pid in pids:
            self.assertRunsAsUser(pid)
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                self.assertIn(b"--single", f.read().split(b"\0"))
        for _ in range(4):
            self.assertJSON(self.health(), 200, HEALTH)
        # A crashed process is not replaced: the other one still serves...
        os.kill(pids[0], signal.SIGKILL)
        support.wait_for(lambda: not support.pid_alive(pids[0]), 5, what="process gone")
        self.assertJSON(self.health(), 200, HEALTH)
        # ... and stays alone.
        self.assertEqual([p for p in pids if support.pid_alive(p)], [pids[1]])
        r = self.run_script("stop")
        self.assertEqual(r.returncode, 0, self.log_tail())
        support.wait_for(lambda: not support.pid_alive(pids[1]), 15, what="stopped by `stop`")
        self.assertFalse(os.path.exists(self.pidfile))


if __name__ == "__main__":
    unittest.main()
