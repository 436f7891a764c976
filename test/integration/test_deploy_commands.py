"""Every command line of the deployment kit (deploy/) names a command and
options the binary accepts.

The shipped openbook-cleanup.timer ran `openbook cleanup` for months before
that command existed, failing every night, and no test noticed.  This
module collects the command lines from where they are run:

- systemd units: ExecStart=, ExecStartPre=, ExecStartPost=, ExecReload=,
  ExecStop=, ExecStopPost=;
- the spawn-fcgi script: the program after `--`;
- the Dockerfile: CMD and ENTRYPOINT; docker-compose.yml: command:,
  entrypoint: and healthcheck test: (`sh -c` strings split at && ; ||);
- Apache: FcgidWrapper;

and from where they are shown to an administrator: `openbook ...` in
backticks, and lines (code blocks, comment lines) that start with the
command, in every file of deploy/ (the local test stack aside).

Each openbook or openbook-relay command line is run with --help appended
(what parses the options stops there, before any configuration is read):
it must exit 0.  An unknown command or option exits 2.  Other programs
(kill, spawn-fcgi, sh) must be absolute paths that exist, or be found on
PATH where the test runs them (sh).
"""

import os
import re
import shlex
import subprocess
import unittest

import support

DEPLOY = os.path.join(support.REPO, "deploy")
EXEC_KEYS = ("ExecStart", "ExecStartPre", "ExecStartPost", "ExecReload", "ExecStop",
             "ExecStopPost")
OPENBOOK = ("openbook", "/usr/bin/openbook")
RELAY = ("openbook-relay", "/usr/bin/openbook-relay")

try:
    import yaml
except ImportError:   # python3-yaml
    yaml = None


def deploy_files():
    """(relative path, text) of every text file under deploy/ but local/."""
    out = []
    for dirpath, dirnames, filenames in os.walk(DEPLOY):
        dirnames[:] = sorted(d for d in dirnames if d != "local")
        for n in sorted(filenames):
            p = os.path.join(dirpath, n)
            try:
                with open(p, encoding="utf-8") as f:
                    out.append((os.path.relpath(p, DEPLOY), f.read()))
            except UnicodeDecodeError:
                continue
    return out


def shell_commands(text):
    """The simple commands of a shell string (split at && || ; |), with a
    leading `exec` dropped."""
    out = []
    for part in re.split(r"&&|\|\||;|\|", text):
        words = shlex.split(part)
        if words and words[0] == "exec":
            words = words[1:]
        if words:
            out.append(words)
    return out


def argv_commands(argv):
    """A command given as an argv list: itself, or the commands of `sh -c`."""
    if len(argv) >= 3 and os.path.basename(argv[0]) in ("sh", "bash") and argv[1] == "-c":
        return shell_commands(argv[2])
    return [list(argv)]


# ---- where commands are run


def systemd_commands():
    out = []
    for rel, text in deploy_files():
        if not rel.startswith("systemd" + os.sep) or not rel.endswith(".service"):
            continue
        for line in text.splitlines():
            key, sep, value = line.partition("=")
            if sep and key.strip() in EXEC_KEYS:
                # systemd prefixes: - @ : + ! change how, not what, is run.
                value = value.strip().lstrip("-@:+!")
                out.append(("%s %s" % (rel, key.strip()), shlex.split(value)))
    return out


def spawn_fcgi_commands():
    out = []
    rel = os.path.join("spawn-fcgi", "openbook-spawn-fcgi.sh")
    with open(os.path.join(DEPLOY, rel)) as f:
        for line in f:
            line = line.strip()
            if line.startswith("#") or "spawn-fcgi " not in line or " -- " not in line:
                continue
            out.append((rel, shlex.split(line.split(" -- ", 1)[1])))
    return out


def docker_commands():
    out = []
    with open(os.path.join(DEPLOY, "docker", "Dockerfile")) as f:
        for line in f:
            m = re.match(r"\s*(CMD|ENTRYPOINT)\s+(.*)", line)
            if m:
                arg = m.group(2).strip()
                argv = __import__("json").loads(arg) if arg.startswith("[") else ["sh", "-c", arg]
                out += [("Dockerfile " + m.group(1), c) for c in argv_commands(argv)]
    if yaml is None:
        raise unittest.SkipTest("PyYAML missing (Debian package python3-yaml)")
    with open(os.path.join(DEPLOY, "docker", "docker-compose.yml")) as f:
        compose = yaml.safe_load(f)
    for name, svc in compose["services"].items():
        for key in ("command", "entrypoint"):
            v = svc.get(key)
            if v is not None:
                argv = v if isinstance(v, list) else ["sh", "-c", v]
                out += [("compose %s %s" % (name, key), c) for c in argv_commands(argv)]
        test = (svc.get("healthcheck") or {}).get("test")
        if isinstance(test, list) and test and test[0] in ("CMD", "CMD-SHELL"):
            argv = test[1:] if test[0] == "CMD" else ["sh", "-c", test[1]]
            out += [("compose %s healthcheck" % name, c) for c in argv_commands(argv)]
    return out


def apache_commands():
    out = []
    for rel, text in deploy_files():
        if rel.startswith("apache" + os.sep):
            for m in re.finditer(r'(?m)^\s*FcgidWrapper\s+"([^"]+)"', text):
                out.append((rel + " FcgidWrapper", shlex.split(m.group(1))))
    return out


# ---- where commands are shown


def documented_commands():
    """`openbook ...` in backticks; lines starting with the command in the
    code blocks of the READMEs (indented) and in comments laid out as
    examples ("#   openbook migrate -c ..."); `docker compose exec SERVICE
    openbook ...` wherever it appears."""
    out = []
    start = r"(?:/usr/bin/)?openbook(?:-relay)?(?: (?! )|$)"
    for rel, text in deploy_files():
        doc = rel.endswith((".md", "README"))
        for m in re.finditer(r"`(%s[^`]*)`" % start, text):
            out.append(("%s `...`" % rel, m.group(1)))
        for line in text.splitlines():
            m = re.search(r"compose exec \S+ (openbook .*)", line)
            if m:
                out.append((rel, m.group(1)))
                continue
            m = re.match(r"(?: {4,}|\t)(.*)" if doc else r"\s*#+ {2,}(.*)", line)
            if m and re.match(start, m.group(1)):
                out.append((rel, m.group(1)))
    cmds = []
    for where, s in out:
        for c in shell_commands(s):
            if c[0] in OPENBOOK + RELAY:
                cmds.append((where, c))
    return cmds


class DeployCommands(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.binary = support.binary()
        cls.relay = os.path.join(os.path.dirname(cls.binary), "openbook-relay")
        cls.env = dict(os.environ, **support.server_env())

    def accepted(self, where, argv):
        """Fails unless argv (an openbook or openbook-relay command line)
        parses: run with --help appended, it exits 0."""
        if argv[0] in OPENBOOK:
            prog = self.binary
        elif argv[0] in RELAY:
            if not os.access(self.relay, os.X_OK):
                self.skipTest("openbook-relay not built next to %s" % self.binary)
            prog = self.relay
        else:
            raise AssertionError("%s: %r is not an openbook command" % (where, argv))
        r = subprocess.run([prog] + argv[1:] + ["--help"], capture_output=True, text=True,
                           env=self.env, timeout=30)
        self.assertEqual(r.returncode, 0, "%s: `%s` is not accepted by the binary:\n%s%s"
                         % (where, " ".join(argv), r.stdout, r.stderr))
        self.assertIn("Usage", r.stdout, "%s: %s" % (where, " ".join(argv)))

    def check_all(self, commands, expect):
        """Every openbook command is accepted, every other program exists;
        the commands in `expect` (tuples of leading words) were found."""
        found = set()
        for where, argv in commands:
            with self.subTest(where=where, command=" ".join(argv)):
                if argv[0] in OPENBOOK + RELAY:
                    found.add(tuple(argv[:2]))
                    self.accepted(where, argv)
                elif os.path.isabs(argv[0]):
                    self.assertTrue(os.access(argv[0], os.X_OK), "%s: %s" % (where, argv[0]))
        for e in expect:
            self.assertIn(e, found, "no %r found: did the extraction break?" % (e,))

    def test_systemd_units(self):
        self.check_all(systemd_commands(), [
            ("/usr/bin/openbook", "serve"), ("/usr/bin/openbook", "migrate"),
            ("/usr/bin/openbook", "cleanup"), ("/usr/bin/openbook", "send-mail"),
            ("/usr/bin/openbook", "backup"), ("/usr/bin/openbook-relay", "-c")])

    def test_spawn_fcgi_script(self):
        self.check_all(spawn_fcgi_commands(), [("/usr/bin/openbook", "serve")])

    def test_docker(self):
        self.check_all(docker_commands(), [
            ("openbook", "serve"), ("openbook", "migrate"), ("openbook", "load-initial-data"),
            ("openbook", "send-mail"), ("openbook-relay", "-c")])

    def test_apache(self):
        self.check_all(apache_commands(), [("/usr/bin/openbook", "serve")])

    def test_documentation(self):
        self.check_all(documented_commands(), [
            ("openbook", "createsuperuser"), ("openbook", "load-initial-data"),
            ("openbook", "cleanup")])

    def test_a_wrong_command_is_caught(self):
        """The check itself: what the binary refuses fails it."""
        for argv in (["/usr/bin/openbook", "no-such-command"],
                     ["/usr/bin/openbook", "serve", "--no-such-option"],
                     ["/usr/bin/openbook", "cleanup", "--batch", "many"]):
            with self.assertRaises(AssertionError, msg=argv):
                self.accepted("test", argv)


if __name__ == "__main__":
    unittest.main()
