"""The binary started by other process managers, with the listening socket
handed over instead of opened from server.listen:

- spawn-fcgi -n: the socket arrives as fd 0 (also how mod_fcgid and systemd
  StandardInput=socket pass it), with --single and with the pre-fork master;
- spawn-fcgi -F 2: two --single processes sharing one socket;
- systemd-socket-activate: LISTEN_FDS/LISTEN_PID, socket on fd 3.

Requests go straight to the socket with cgi-fcgi (libfcgi-bin).  The stack
here runs only PostgreSQL and Redis (and the migrations).
"""

import os
import shutil
import signal
import socket
import stat
import subprocess
import time
import unittest

import support

STACK = None

HEALTH = {"status": "GOOD"}
LANGS = {"count": 2, "next": None, "previous": None,
         "results": [{"language": "de", "name": "Deutsch"},
                     {"language": "en", "name": "English"}]}


def setUpModule():
    global STACK
    STACK = support.start_stack("launch", with_server=False, with_nginx=False)
    support.StackTestCase.stack = STACK


def tearDownModule():
    support.StackTestCase.stack = None
    support.stop_stack(STACK)


def cgi_fcgi(sock, method, uri, host="127.0.0.1", timeout=30):
    """One request through `cgi-fcgi -bind -connect` (it passes its whole
    environment as the FastCGI params)."""
    env = {k: v for k, v in support.fcgi_params(method, uri, host=host).items() if v != ""}
    r = subprocess.run(["cgi-fcgi", "-bind", "-connect", sock], env=env,
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    if not r.stdout:
        raise AssertionError("cgi-fcgi: no answer (status %d): %s"
                             % (r.returncode, r.stderr.decode(errors="replace")))
    return support.parse_cgi(r.stdout)


def _wait_gone(pid, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not support.pid_alive(pid):
            return True
        time.sleep(0.05)
    return False


class Launchers(support.StackTestCase):
    def setUp(self):
        self.procs = []        # Popen objects we started
        self.loose = []        # pids started through spawn-fcgi (not our children)
        self.sock = os.path.join(self.stack.run_dir, "launch-%s.sock" % self._testMethodName)
        self.log = open(self.stack.log_path("openbook-%s" % self._testMethodName), "ab")
        for p in (self.sock,):
            if os.path.exists(p):
                os.unlink(p)

    def tearDown(self):
        for pid in self.loose:
            if support.pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
        for p in self.procs:
            if p.poll() is None:
                kids = support.stackmod._proc_children(p.pid)
                p.kill()
                p.wait()
                for k in kids:
                    if support.pid_alive(k):
                        os.kill(k, signal.SIGKILL)
        self.log.close()

    def spawn(self, argv):
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
                             env=self.stack.server_env(), cwd=self.stack.root,
                             start_new_session=True,
                             preexec_fn=support.stackmod._set_pdeathsig(signal.SIGTERM))
        self.procs.append(p)
        return p

    def wait_socket(self, proc=None, timeout=10):
        """Until the socket accepts connections (bind() creates the file
        before listen(): existence alone is not enough).  Under
        systemd-socket-activate this first connection starts the binary."""
        def ok():
            if proc is not None and proc.poll() is not None and proc.returncode != 0:
                raise AssertionError("launcher exited with %s:\n%s"
                                     % (proc.returncode, self.log_tail()))
            if not os.path.exists(self.sock):
                return False
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(self.sock)
                return True
            except OSError:
                return False
            finally:
                s.close()
        support.wait_for(ok, timeout, 0.02, what="socket %s" % self.sock)

    def log_tail(self):
        self.log.flush()
        return support.stackmod.tail(self.log.name, 30)

    def assertServes(self, n=4):
        for _ in range(n):
            self.assertJSON(cgi_fcgi(self.sock, "GET", "/api/core/sites/health/"), 200, HEALTH)
            self.assertJSON(cgi_fcgi(self.sock, "GET", "/api/core/languages/"), 200, LANGS)
        # Host checking and URL building work the same.
        self.assertJSON(cgi_fcgi(self.sock, "GET", "/api/core/sites/", host="evil.example"),
                        400, {"detail": "Invalid host header."})

    def assertStopsCleanly(self, proc, workers=()):
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(15)
        except subprocess.TimeoutExpired:
            self.fail("still running 15s after SIGTERM\n%s" % self.log_tail())
        self.assertEqual(rc, 0, "exit status after SIGTERM\n%s" % self.log_tail())
        for w in workers:
            self.assertTrue(_wait_gone(w, 5), "worker %d left behind" % w)

    def assertListenIgnored(self):
        # server.listen names another socket: an inherited one wins.
        self.assertFalse(os.path.exists(self.stack.socket_path),
                         "server.listen socket was created although one was inherited")

    def assertMode0666(self):
        self.assertEqual(stat.S_IMODE(os.stat(self.sock).st_mode), 0o666)

    # ------------------------------------------------------------------

    def test_spawn_fcgi_fd0_single(self):
        p = self.spawn(["spawn-fcgi", "-n", "-s", self.sock, "-M", "0666", "--",
                        self.stack.binary, "serve", "--single", "-c", self.stack.config_path])
        self.wait_socket(p)
        self.assertMode0666()
        self.assertServes()
        self.assertEqual(support.stackmod._proc_children(p.pid), [], "--single forked")
        self.assertListenIgnored()
        self.assertStopsCleanly(p)

    def test_spawn_fcgi_fd0_master(self):
        p = self.spawn(["spawn-fcgi", "-n", "-s", self.sock, "-M", "0666", "--",
                        self.stack.binary, "serve", "-w", "2", "-c", self.stack.config_path])
        self.wait_socket(p)
        self.assertServes()
        workers = support.wait_for(
            lambda: (lambda k: k if len(k) == 2 else None)(support.stackmod._proc_children(p.pid)),
            10, what="2 workers under the fd-0 master")
        self.assertListenIgnored()
        # Reload keeps serving from the inherited socket.
        os.kill(p.pid, signal.SIGHUP)
        support.wait_for(
            lambda: (lambda k: len(k) == 2 and not set(k) & set(workers))(
                support.stackmod._proc_children(p.pid)),
            15, what="workers replaced after SIGHUP")
        self.assertServes(2)
        self.assertStopsCleanly(p, support.stackmod._proc_children(p.pid))

    def test_spawn_fcgi_fork_2(self):
        pidfile = self.sock + ".pid"
        r = subprocess.run(["spawn-fcgi", "-s", self.sock, "-M", "0666", "-F", "2", "-P", pidfile,
                            "--", self.stack.binary, "serve", "--single", "-c",
                            self.stack.config_path],
                           stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
                           env=self.stack.server_env(), cwd=self.stack.root, timeout=30)
        with open(pidfile) as f:
            pids = [int(x) for x in f.read().split()]
        self.loose.extend(pids)
        self.assertEqual(r.returncode, 0, self.log_tail())
        self.assertEqual(len(pids), 2, pids)
        self.wait_socket()
        self.assertMode0666()
        self.assertServes(6)
        for pid in pids:
            self.assertTrue(support.pid_alive(pid), "process %d died\n%s" % (pid, self.log_tail()))
            os.kill(pid, signal.SIGTERM)
        for pid in pids:
            self.assertTrue(_wait_gone(pid, 15), "%d still running after SIGTERM" % pid)

    def test_systemd_socket_activate(self):
        tool = shutil.which("systemd-socket-activate")
        if not tool:
            self.skipTest("systemd-socket-activate not installed")
        argv = [tool, "-l", self.sock]
        for k, v in sorted(self.stack.server_env().items()):
            if k.endswith("SAN_OPTIONS"):
                argv += ["-E", "%s=%s" % (k, v)]
        argv += [self.stack.binary, "serve", "-w", "2", "-c", self.stack.config_path]
        p = self.spawn(argv)
        self.wait_socket(p)
        # The first connection makes systemd-socket-activate exec the binary
        # with LISTEN_FDS=1 (same pid).
        self.assertServes()
        with open("/proc/%d/cmdline" % p.pid, "rb") as f:
            self.assertEqual(f.read().split(b"\0")[0], self.stack.binary.encode())
        workers = support.wait_for(
            lambda: (lambda k: k if len(k) == 2 else None)(support.stackmod._proc_children(p.pid)),
            10, what="2 workers under the socket-activated master")
        self.assertListenIgnored()
        self.assertStopsCleanly(p, workers)


if __name__ == "__main__":
    unittest.main()
