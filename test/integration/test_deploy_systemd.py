"""The shipped systemd units (deploy/systemd/):

- `systemd-analyze verify` on every unit (with /usr/bin/openbook replaced by
  the binary under test, and commands that do not exist yet by /bin/true);
  any warning fails, not only a non-zero status;
- `systemd-analyze security --offline` keeps the long-running services'
  exposure low;
- the settings the deployment relies on (notify, reload by SIGHUP, socket
  path and mode, runtime and state directories, hardening);
- the service's own ExecStartPre/ExecStart lines, run as systemd would run
  them for openbook.socket (systemd-socket-activate: LISTEN_FDS) with a
  NOTIFY_SOCKET, so that Type=notify is checked: READY=1 after start,
  RELOADING=1/READY=1 around SIGHUP (ExecReload), STOPPING=1 on SIGTERM.

(test_launchers.py covers systemd-socket-activate with a hand-written
command line; this module is about the unit files.)
"""

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import unittest

import support

SYSTEMD_DIR = os.path.join(support.REPO, "deploy", "systemd")
ANALYZE = shutil.which("systemd-analyze")
SOCKET_ACTIVATE = shutil.which("systemd-socket-activate")
UNITS = ["openbook.socket", "openbook.service", "openbook-relay.service",
         "openbook-cleanup.service", "openbook-cleanup.timer", "openbook-sendmail.service",
         "openbook-backup.service", "openbook-backup.timer"]

STACK = None


def setUpModule():
    global STACK
    STACK = support.start_stack("systemd", with_server=False, with_nginx=False)
    support.StackTestCase.stack = STACK


def tearDownModule():
    support.StackTestCase.stack = None
    support.stop_stack(STACK)


def read_unit(name):
    with open(os.path.join(SYSTEMD_DIR, name)) as f:
        return f.read()


def parse_unit(name):
    """{section: {key: [values...]}}; repeated keys keep every value."""
    out, section = {}, None
    for line in read_unit(name).splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = out.setdefault(line.strip("[]"), {})
            continue
        k, _, v = line.partition("=")
        section.setdefault(k.strip(), []).append(v.strip())
    return out


def one(unit, section, key):
    vals = parse_unit(unit).get(section, {}).get(key)
    if not vals:
        raise AssertionError("%s: no %s= in [%s]" % (unit, key, section))
    return vals[-1]


def substituted_units(dest, binary):
    """Copies of the units whose commands exist on this machine."""
    relay = os.path.join(os.path.dirname(binary), "openbook-relay")
    if not os.access(relay, os.X_OK):
        relay = "/bin/true"   # openbook-relay is not written yet
    paths = []
    for name in UNITS:
        text = read_unit(name)
        text = text.replace("/usr/bin/openbook-relay", relay)
        text = text.replace("/usr/bin/openbook", binary)
        p = os.path.join(dest, name)
        with open(p, "w") as f:
            f.write(text)
        paths.append(p)
    return paths


def analyze_usable():
    """None if systemd-analyze can verify a unit here, else why not."""
    if not ANALYZE:
        return "systemd-analyze not installed (package systemd)"
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "probe.service")
        with open(p, "w") as f:
            f.write("[Unit]\nDescription=probe\n[Service]\nExecStart=/bin/true\n")
        r = subprocess.run([ANALYZE, "verify", "--man=no", p], capture_output=True, text=True,
                           timeout=60)
        if r.returncode != 0 or r.stderr.strip():
            return "systemd-analyze verify does not work here: %s" % (r.stderr.strip()[:300])
    return None


class UnitFiles(unittest.TestCase):
    def test_verify(self):
        why = analyze_usable()
        if why:
            self.skipTest(why)
        with tempfile.TemporaryDirectory() as d:
            paths = substituted_units(d, support.binary())
            r = subprocess.run([ANALYZE, "verify", "--man=no"] + paths, capture_output=True,
                               text=True, timeout=60, cwd=d)
        # verify exits 0 on unknown keys and bad values: any output is a finding.
        self.assertEqual((r.returncode, r.stdout.strip(), r.stderr.strip()), (0, "", ""),
                         "systemd-analyze verify:\n%s%s" % (r.stdout, r.stderr))

    def test_security_exposure(self):
        why = analyze_usable()
        if why:
            self.skipTest(why)
        with tempfile.TemporaryDirectory() as d:
            substituted_units(d, support.binary())
            for name, limit in (("openbook.service", 2.0), ("openbook-relay.service", 2.0),
                                ("openbook-cleanup.service", 2.5),
                                ("openbook-backup.service", 2.5)):
                r = subprocess.run([ANALYZE, "security", "--offline=true", "--no-pager",
                                    os.path.join(d, name)],
                                   capture_output=True, text=True, timeout=60, cwd=d)
                m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", r.stdout)
                if not m:
                    self.skipTest("systemd-analyze security --offline unavailable: %s"
                                  % (r.stderr.strip()[:200]))
                self.assertLessEqual(float(m.group(1)), limit, "%s:\n%s" % (name, r.stdout))

    def test_pool_service(self):
        s = parse_unit("openbook.service")["Service"]
        self.assertEqual(s["Type"], ["notify"])
        self.assertEqual(s["ExecStart"], ["/usr/bin/openbook serve -c /etc/openbook/openbook.yaml"])
        self.assertEqual(s["ExecStartPre"],
                         ["/usr/bin/openbook migrate -c /etc/openbook/openbook.yaml"])
        self.assertEqual(s["ExecReload"], ["/bin/kill -HUP $MAINPID"])
        self.assertEqual(s["Restart"], ["on-failure"])
        self.assertEqual(s["KillMode"], ["mixed"])
        self.assertEqual(s["User"], ["openbook"])
        self.assertEqual(s["RuntimeDirectory"], ["openbook"])
        self.assertEqual(s["RuntimeDirectoryPreserve"], ["yes"])
        self.assertIn("openbook", s["StateDirectory"][0].split())
        for k, v in (("ProtectSystem", "strict"), ("ProtectHome", "yes"), ("PrivateTmp", "yes"),
                     ("NoNewPrivileges", "yes"), ("ReadWritePaths", "/var/lib/openbook")):
            self.assertEqual(s.get(k), [v], k)
        # Stop timeout above server.graceful_timeout (30 s in conf/openbook.yaml).
        self.assertGreater(int(s["TimeoutStopSec"][0]), 30)
        self.assertIn("openbook.socket", parse_unit("openbook.service")["Unit"]["Requires"][0])

    def test_socket_matches_config_and_front_servers(self):
        s = parse_unit("openbook.socket")["Socket"]
        self.assertEqual(s["ListenStream"], ["/run/openbook/openbook.sock"])
        self.assertEqual(s["SocketMode"], ["0660"])
        self.assertEqual(s["SocketUser"], ["openbook"])
        self.assertEqual(s["SocketGroup"], ["www-data"])
        with open(os.path.join(support.REPO, "conf", "openbook.yaml")) as f:
            conf = f.read()
        self.assertIn('listen: "unix:/run/openbook/openbook.sock"', conf)
        self.assertIn('listen: "unix:/run/openbook/relay.sock"', conf)
        self.assertIn('socket_mode: "0660"', conf)
        for front in (("nginx", "openbook.conf"), ("apache", "openbook-proxy-fcgi.conf")):
            with open(os.path.join(support.REPO, "deploy", *front)) as f:
                self.assertIn("unix:/run/openbook/openbook.sock", f.read(), front)

    def test_relay_cleanup_sendmail(self):
        self.assertEqual(one("openbook-relay.service", "Service", "ExecStart"),
                         "/usr/bin/openbook-relay -c /etc/openbook/openbook.yaml")
        self.assertEqual(one("openbook-relay.service", "Service", "RuntimeDirectoryPreserve"),
                         "yes")
        self.assertEqual(one("openbook-cleanup.service", "Service", "Type"), "oneshot")
        self.assertEqual(one("openbook-cleanup.service", "Service", "ExecStart"),
                         "/usr/bin/openbook cleanup -c /etc/openbook/openbook.yaml")
        self.assertEqual(one("openbook-cleanup.timer", "Timer", "OnCalendar"), "daily")
        self.assertEqual(one("openbook-cleanup.timer", "Timer", "Unit"), "openbook-cleanup.service")
        self.assertEqual(one("openbook-sendmail.service", "Service", "ExecStart"),
                         "/usr/bin/openbook send-mail -c /etc/openbook/openbook.yaml")
        self.assertEqual(one("openbook-backup.service", "Service", "Type"), "oneshot")
        self.assertEqual(one("openbook-backup.service", "Service", "ExecStart"),
                         "/usr/bin/openbook backup -c /etc/openbook/openbook.yaml "
                         "--in /var/backups/openbook --keep 7")
        self.assertEqual(one("openbook-backup.service", "Service", "ReadWritePaths"),
                         "/var/backups/openbook")
        self.assertEqual(one("openbook-backup.timer", "Timer", "Unit"), "openbook-backup.service")
        self.assertEqual(one("openbook-backup.timer", "Timer", "Persistent"), "true")
        # (test_deploy_commands.py runs every command line against the binary.)
        # A command the binary does not have yet is marked as such.
        r = subprocess.run([support.binary(), "--help"], capture_output=True, text=True)
        for name, cmd in (("openbook-cleanup.service", "cleanup"),
                          ("openbook-cleanup.timer", "cleanup"),
                          ("openbook-sendmail.service", "send-mail")):
            if not re.search(r"(?m)^  %s " % re.escape(cmd), r.stdout):
                self.assertRegex(read_unit(name), r"NOTE: `openbook %s` arrives with" % cmd, name)


class NotifyListener:
    """A NOTIFY_SOCKET: the datagrams a Type=notify service sends."""

    def __init__(self, path):
        self.path = path
        if os.path.exists(path):
            os.unlink(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.messages = []

    def wait_for(self, text, timeout=15):
        self.sock.settimeout(0.2)

        def got():
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except socket.timeout:
                pass
            return any(text in m.split("\n") for m in self.messages)
        support.wait_for(got, timeout, 0, "%s on NOTIFY_SOCKET (got %r)" % (text, self.messages))
        # Consumed: a later wait_for() for the same text needs a new datagram.
        self.messages = []

    def close(self):
        self.sock.close()
        os.unlink(self.path)


class SocketActivatedService(support.StackTestCase):
    """openbook.service's command lines, started the way openbook.socket
    starts them."""

    def unit_command(self, key):
        cmd = one("openbook.service", "Service", key)
        cmd = cmd.replace("/usr/bin/openbook", self.stack.binary)
        cmd = cmd.replace("/etc/openbook/openbook.yaml", self.stack.config_path)
        return shlex.split(cmd)

    def test_notify_reload_stop(self):
        if not SOCKET_ACTIVATE:
            self.skipTest("systemd-socket-activate not installed (package systemd)")
        sock = os.path.join(self.stack.run_dir, "unit.sock")
        notify = NotifyListener(os.path.join(self.stack.run_dir, "notify.sock"))
        self.addCleanup(notify.close)
        log = open(self.stack.log_path("openbook-unit"), "ab")
        self.addCleanup(log.close)
        env = self.stack.server_env()

        # ExecStartPre=: migrate (a no-op now, but it must run as written).
        r = subprocess.run(self.unit_command("ExecStartPre"), stdin=subprocess.DEVNULL,
                           stdout=log, stderr=log, env=env, timeout=60)
        self.assertEqual(r.returncode, 0, support.stackmod.tail(log.name))

        argv = [SOCKET_ACTIVATE, "-l", sock, "-E", "NOTIFY_SOCKET=" + notify.path]
        for k, v in sorted(env.items()):
            if k.endswith("SAN_OPTIONS"):
                argv += ["-E", "%s=%s" % (k, v)]
        argv += self.unit_command("ExecStart") + ["-w", "2"]
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
                             start_new_session=True,
                             preexec_fn=support.stackmod._set_pdeathsig(signal.SIGTERM))

        def cleanup():
            if p.poll() is None:
                kids = support.stackmod._proc_children(p.pid)
                p.kill()
                p.wait()
                for k in kids:
                    if support.pid_alive(k):
                        os.kill(k, signal.SIGKILL)
        self.addCleanup(cleanup)
        support.wait_for(lambda: os.path.exists(sock), 10, what="socket %s" % sock)

        def health():
            return support.fcgi_request(sock, support.fcgi_params("GET", "/api/core/sites/health/"))
        # The first connection starts the binary (LISTEN_FDS=1).
        self.assertJSON(health(), 200, {"status": "GOOD"})
        notify.wait_for("READY=1")
        self.assertIn("from systemd", support.stackmod.tail(log.name, 50))

        # ExecReload=/bin/kill -HUP $MAINPID
        reload = one("openbook.service", "Service", "ExecReload").replace("$MAINPID", str(p.pid))
        subprocess.run(shlex.split(reload), check=True, timeout=10)
        notify.wait_for("RELOADING=1")
        notify.wait_for("READY=1")
        self.assertJSON(health(), 200, {"status": "GOOD"})

        # systemctl stop: KillSignal=SIGTERM to the master (KillMode=mixed).
        p.send_signal(getattr(signal, one("openbook.service", "Service", "KillSignal")))
        notify.wait_for("STOPPING=1")
        timeout = int(one("openbook.service", "Service", "TimeoutStopSec"))
        self.assertEqual(p.wait(timeout), 0, support.stackmod.tail(log.name))


if __name__ == "__main__":
    unittest.main()
