"""deploy/docker/: what can be checked without a Docker engine.

- docker-compose.yml parses as YAML (PyYAML, Debian package python3-yaml)
  and has the expected services, wired as the rest of the kit expects;
- every file the compose file and the Dockerfile reference exists;
- the Dockerfile builds with the commands CI uses (make, make install) and
  installs the same -dev packages as deploy/local/deps.sh, and its runtime
  stage the libraries those packages depend on;
- `make install PREFIX=/usr DESTDIR=...` (the Dockerfile's step, run here
  with the binary under test) lays out what the image and the compose file
  use, and the compose file's environment plus openbook.env.example is a
  configuration the binary accepts (after the placeholder secret, which it
  must refuse, is replaced).
"""

import os
import re
import shlex
import shutil
import subprocess
import tempfile
import unittest

import support

DOCKER = os.path.join(support.REPO, "deploy", "docker")
COMPOSE = os.path.join(DOCKER, "docker-compose.yml")
DOCKERFILE = os.path.join(DOCKER, "Dockerfile")
ENV_EXAMPLE = os.path.join(DOCKER, "openbook.env.example")
PLACEHOLDER = "change-me-to-a-long-random-secret-of-at-least-32-bytes"

try:
    import yaml
except ImportError:   # python3-yaml
    yaml = None


def load_compose():
    if yaml is None:
        raise unittest.SkipTest("PyYAML missing (Debian package python3-yaml)")
    with open(COMPOSE) as f:
        return yaml.safe_load(f)


def dockerfile_instructions():
    """[(INSTRUCTION, argument text)] with continuation lines joined."""
    with open(DOCKERFILE) as f:
        text = f.read()
    out, cur = [], ""
    for line in text.splitlines():
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        if s.endswith("\\"):
            cur += s[:-1] + " "
            continue
        cur += s
        word, _, rest = cur.partition(" ")
        out.append((word.upper(), rest.strip()))
        cur = ""
    return out


def stages():
    """[(FROM argument, [(INSTRUCTION, argument)])] per build stage."""
    out = []
    for ins, arg in dockerfile_instructions():
        if ins == "FROM":
            out.append((arg, []))
        else:
            out[-1][1].append((ins, arg))
    return out


def apt_packages(run_arg):
    m = re.search(r"apt-get install ([^&]*)", run_arg)
    return {w for w in (m.group(1).split() if m else []) if not w.startswith("-")}


def deps_packages():
    with open(os.path.join(support.REPO, "deploy", "local", "deps.sh")) as f:
        m = re.search(r'PKGS="([^"]*)"', f.read())
    return set(m.group(1).split())


def env_files(svc):
    """The env_file entries of a compose service, as a list."""
    ef = svc.get("env_file") or []
    return [ef] if isinstance(ef, str) else list(ef)


def service_env(svc):
    """What a service's environment holds: its env files (their shipped
    .example), then its environment: section."""
    env = {}
    for e in env_files(svc):
        env.update(env_file(os.path.join(DOCKER, e + ".example")))
    env.update({k: str(v) for k, v in (svc.get("environment") or {}).items()})
    return env


def env_file(path):
    out = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                k, _, v = line.partition("=")
                out[k] = v
    return out


class Compose(unittest.TestCase):
    def test_services(self):
        c = load_compose()
        self.assertEqual(set(c["services"]),
                         {"postgres", "redis", "openbook", "relay", "sendmail", "webserver"})
        ob = c["services"]["openbook"]
        cmd = " ".join(ob["command"]) if isinstance(ob["command"], list) else ob["command"]
        self.assertRegex(cmd, r"openbook migrate && openbook load-initial-data && exec openbook serve")
        env = ob["environment"]
        self.assertEqual(env["OPENBOOK_SERVER_LISTEN"], "unix:/run/openbook/openbook.sock")
        self.assertEqual(env["OPENBOOK_REDIS_ADDRESS"], "redis:6379")
        # Secrets come from the env files, never from the compose file.
        self.assertNotIn("OPENBOOK_SECURITY_SECRET_KEY", env)
        self.assertIn("openbook.env", env_files(ob))
        self.assertIn("OPENBOOK_SECURITY_SECRET_KEY", env_file(ENV_EXAMPLE))
        self.assertIn("OPENBOOK_DATABASE_URL", service_env(ob))
        self.assertEqual(ob["depends_on"]["postgres"]["condition"], "service_healthy")

    def test_webserver_uses_the_shipped_server_block(self):
        c = load_compose()
        ws = c["services"]["webserver"]
        self.assertTrue(ws["image"].startswith("nginx:"))
        mounts = {v.split(":")[1]: v.split(":")[0] for v in ws["volumes"]}
        self.assertEqual(os.path.normpath(os.path.join(DOCKER, mounts["/etc/nginx/conf.d/openbook.conf"])),
                         os.path.join(support.REPO, "deploy", "nginx", "openbook.conf"))
        # The paths in that server block are the ones the volumes provide.
        with open(os.path.join(support.REPO, "deploy", "nginx", "openbook.conf")) as f:
            block = f.read()
        for path in ("/usr/share/openbook/static", "/var/lib/openbook/media", "/run/openbook"):
            self.assertIn(path, mounts, path)
            self.assertIn(path, block, path)
        for svc in ("openbook", "relay"):
            self.assertIn("run:/run/openbook", c["services"][svc]["volumes"], svc)
        self.assertIn("media:/var/lib/openbook/media", c["services"]["openbook"]["volumes"])

    def test_sockets_only_for_nginx(self):
        # Not world-writable (a raw FastCGI client could claim any
        # REMOTE_ADDR or HTTPS=on): 0660, made with the group of nginx's
        # workers (the group "nginx", gid 101, of the nginx image).
        c = load_compose()
        for svc in ("openbook", "relay"):
            s = c["services"][svc]
            self.assertEqual(s["environment"]["OPENBOOK_SERVER_SOCKET_MODE"], "0660", svc)
            self.assertEqual(s["user"], "openbook:101", svc)
        with open(os.path.join(DOCKER, "nginx.conf")) as f:
            self.assertRegex(f.read(), r"(?m)^user nginx nginx;$")
        for name in c["services"]:
            mode = (c["services"][name].get("environment") or {}).get(
                "OPENBOOK_SERVER_SOCKET_MODE", "0660")
            self.assertEqual(int(mode, 8) & 0o007, 0, name)

    def test_each_service_gets_only_its_secrets(self):
        c = load_compose()
        env = {name: service_env(svc) for name, svc in c["services"].items()}
        secrets = {
            "POSTGRES_PASSWORD": {"postgres"},
            "OPENBOOK_DATABASE_URL": {"openbook", "sendmail"},
            "OPENBOOK_MAIL_SMTP_PASSWORD": {"sendmail"},
            # (send-mail signs nothing, but every command checks the key.)
            "OPENBOOK_SECURITY_SECRET_KEY": {"openbook", "relay", "sendmail"},
        }
        for key, holders in secrets.items():
            self.assertEqual({n for n, e in env.items() if key in e}, holders, key)
        # PostgreSQL gets its own settings and nothing of OpenBook's.
        self.assertEqual([k for k in env["postgres"] if not k.startswith("POSTGRES_")], [])
        # Every env file a service names is shipped as an example.
        for name in c["services"]:
            for e in env_files(c["services"][name]):
                self.assertTrue(os.path.exists(os.path.join(DOCKER, e + ".example")), e)
        self.assertEqual(env_files(c["services"]["webserver"]), [])

    def test_database_and_redis_on_the_internal_network_only(self):
        c = load_compose()
        self.assertIs(c["networks"]["backend"].get("internal"), True)
        for name in ("postgres", "redis"):
            self.assertEqual(c["services"][name]["networks"], ["backend"], name)
        for name in ("openbook", "relay", "sendmail"):
            self.assertIn("backend", c["services"][name]["networks"], name)
        self.assertNotIn("backend", c["services"]["webserver"]["networks"])

    def test_keepalive_rule(self):
        # keepalive x nginx worker_processes < server.workers (see the nginx conf).
        c = load_compose()
        with open(os.path.join(DOCKER, "nginx.conf")) as f:
            nprocs = int(re.search(r"^worker_processes (\d+);", f.read(), re.M).group(1))
        with open(os.path.join(support.REPO, "deploy", "nginx", "openbook.conf")) as f:
            keep = int(re.search(r"^\s*keepalive (\d+);", f.read(), re.M).group(1))
        workers = int(c["services"]["openbook"]["environment"]["OPENBOOK_SERVER_WORKERS"])
        self.assertLess(keep * nprocs, workers)

    def test_referenced_paths_exist(self):
        c = load_compose()
        for name, svc in c["services"].items():
            b = svc.get("build")
            if b:
                ctx = os.path.normpath(os.path.join(DOCKER, b["context"]))
                self.assertEqual(ctx, support.REPO, name)
                self.assertEqual(os.path.normpath(os.path.join(ctx, b["dockerfile"])), DOCKERFILE)
            ef = svc.get("env_file")
            for e in ([ef] if isinstance(ef, str) else ef or []):
                # Copied from the example by the administrator (it holds secrets).
                p = os.path.join(DOCKER, e)
                self.assertTrue(os.path.exists(p) or os.path.exists(p + ".example"),
                                "%s: env_file %s (nor %s.example) missing" % (name, e, e))
            for v in svc.get("volumes", []):
                src = v.split(":")[0]
                if src.startswith((".", "/")):
                    p = os.path.normpath(os.path.join(DOCKER, src))
                    self.assertTrue(os.path.exists(p), "%s: %s -> %s missing" % (name, v, p))
                else:
                    self.assertIn(src, c.get("volumes", {}), "%s: volume %s not declared" % (name, src))


class Dockerfile(unittest.TestCase):
    def test_stages(self):
        st = stages()
        self.assertEqual(len(st), 2, st)
        self.assertEqual(st[0][0], "debian:12 AS build")
        self.assertEqual(st[1][0], "debian:12-slim")
        runtime = dict((i, a) for i, a in st[1][1] if i in ("USER", "CMD"))
        self.assertEqual(runtime.get("USER"), "openbook")
        self.assertIn(("COPY", "--from=build /out/ /"), st[1][1])

    def test_build_commands_are_the_ci_ones(self):
        runs = [a for i, a in stages()[0][1] if i == "RUN"]
        build = [r for r in runs if "make" in r.split()]
        self.assertEqual(len(build), 1, runs)
        cmds = [shlex.split(c) for c in build[0].split("&&")]
        self.assertEqual(cmds, [["make", "PREFIX=/usr"],
                                ["make", "install", "PREFIX=/usr", "DESTDIR=/out"]])
        ci = os.path.join(support.REPO, ".ci", "run")
        if os.path.exists(ci):
            with open(ci) as f:
                self.assertRegex(f.read(), r"(^|\s)make(\s|$)", ".ci/run does not run make")

    def test_build_packages_are_deps_sh(self):
        runs = [a for i, a in stages()[0][1] if i == "RUN" and "apt-get install" in a]
        pkgs = apt_packages(runs[0])
        want = {p for p in deps_packages() if p.endswith("-dev") and not p.startswith("libclang")}
        # The build stage also builds the browser app (make -> static/app).
        want |= {"build-essential", "pkg-config", "nodejs", "npm"}
        self.assertEqual(pkgs, want)

    def test_runtime_libraries_match_dev_packages(self):
        runs = [a for i, a in stages()[1][1] if i == "RUN" and "apt-get install" in a]
        runtime = apt_packages(runs[0])
        dev = apt_packages([a for i, a in stages()[0][1] if i == "RUN" and "apt-get install" in a][0])
        if not shutil.which("dpkg-query"):
            self.skipTest("dpkg-query missing")
        for d in sorted(p for p in dev if p.endswith("-dev")):
            r = subprocess.run(["dpkg-query", "-W", "-f=${Depends}", d], capture_output=True,
                               text=True)
            if r.returncode != 0:
                self.skipTest("%s not installed here: cannot read its dependencies" % d)
            deps = {x.strip().split()[0] for x in re.split(r"[,|]", r.stdout) if x.strip()}
            self.assertTrue(deps & runtime, "%s: none of its dependencies %s in the runtime stage"
                            % (d, sorted(deps)))

    def test_copied_sources_exist(self):
        for _, body in stages():
            for ins, arg in body:
                if ins in ("COPY", "ADD") and not arg.startswith("--from"):
                    for src in shlex.split(arg)[:-1]:
                        if not src.startswith("--"):
                            self.assertTrue(os.path.exists(os.path.join(support.REPO, src)), src)

    def test_dockerignore_keeps_build_out(self):
        with open(DOCKERFILE + ".dockerignore") as f:
            lines = {l.strip() for l in f if l.strip() and not l.startswith("#")}
        for p in ("build", ".git", "var", "deploy/docker/*.env"):
            self.assertIn(p, lines)


class InstallLayout(unittest.TestCase):
    """The Dockerfile's `make install PREFIX=/usr DESTDIR=/out`, with the
    binary under test in place of a fresh release build."""

    @classmethod
    def setUpClass(cls):
        cls.dest = tempfile.mkdtemp(prefix="openbook-it-install-")
        r = subprocess.run(["make", "-s", "-n", "install", "PREFIX=/usr", "DESTDIR=" + cls.dest],
                           cwd=support.REPO, capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise AssertionError("make -n install failed:\n%s" % r.stderr)
        joined = r.stdout.replace("\\\n", " ")
        lines = [l for l in joined.splitlines() if l.startswith(("install ", "cp "))]
        if not lines:
            raise AssertionError("make -n install printed no install commands:\n" + r.stdout)
        built = {"openbook": support.binary(),
                 "openbook-relay": os.path.join(os.path.dirname(support.binary()), "openbook-relay")}
        for l in lines:
            argv = shlex.split(l)
            for i, a in enumerate(argv):
                name = os.path.basename(a)
                if name in built and not a.startswith(cls.dest):
                    if not os.path.exists(built[name]):
                        raise unittest.SkipTest("%s not built" % built[name])
                    argv[i] = built[name]
            subprocess.run(argv, cwd=support.REPO, check=True, timeout=60)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dest, ignore_errors=True)

    def p(self, path):
        return os.path.join(self.dest, path.lstrip("/"))

    def test_layout(self):
        for path in ("/usr/bin/openbook", "/usr/bin/openbook-relay", "/etc/openbook/openbook.yaml",
                     "/etc/openbook/local.yaml.example", "/usr/share/openbook/static",
                     "/usr/share/openbook/deploy/docker/docker-compose.yml",
                     "/usr/share/openbook/deploy/systemd/openbook.service",
                     "/usr/share/openbook/deploy/apache/openbook.conf",
                     "/var/lib/openbook/media"):
            self.assertTrue(os.path.exists(self.p(path)), path)
        # ENV OPENBOOK_CONFIG of the runtime stage.
        env = [a for i, a in stages()[1][1] if i == "ENV"]
        m = re.search(r"OPENBOOK_CONFIG=(\S+)", " ".join(env))
        self.assertTrue(m and os.path.exists(self.p(m.group(1))), env)

    def check_config(self, env):
        full = {k: v for k, v in os.environ.items() if not k.startswith("OPENBOOK_")}
        full.update(env)
        return subprocess.run([self.p("/usr/bin/openbook"), "check-config",
                               "-c", self.p("/etc/openbook/openbook.yaml")],
                              capture_output=True, text=True, env=full, timeout=30, cwd="/")

    def compose_env(self, service):
        return service_env(load_compose()["services"][service])

    def test_compose_environment_is_a_valid_configuration(self):
        env = self.compose_env("openbook")
        # The example's placeholder secret is refused...
        self.assertEqual(env["OPENBOOK_SECURITY_SECRET_KEY"], PLACEHOLDER)
        r = self.check_config(env)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("secret_key", r.stderr)
        # ... and with a real one every variable is a known key.
        env["OPENBOOK_SECURITY_SECRET_KEY"] = "k" * 16 + "0123456789abcdefghijKLMNOP"
        r = self.check_config(env)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn('listen: "unix:/run/openbook/openbook.sock"', r.stdout)
        self.assertIn('address: "redis:6379"', r.stdout)
        self.assertIn("workers: 17", r.stdout)
        self.assertIn('allowed_hosts: ["localhost", "openbook.example.org"]', r.stdout)

    def test_every_openbook_service_environment_is_valid(self):
        c = load_compose()
        names = [n for n, svc in c["services"].items()
                 if svc.get("image", "").startswith("openbook:")]
        self.assertEqual(sorted(names), ["openbook", "relay", "sendmail"])
        for name in names:
            env = self.compose_env(name)
            env["OPENBOOK_SECURITY_SECRET_KEY"] = "k" * 16 + "0123456789abcdefghijKLMNOP"
            r = self.check_config(env)
            self.assertEqual(r.returncode, 0, "%s: %s%s" % (name, r.stdout, r.stderr))
            self.assertIn('listen: "unix:/run/openbook/relay.sock"', r.stdout)


if __name__ == "__main__":
    unittest.main()
