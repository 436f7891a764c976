#!/usr/bin/env python3
"""OpenBook on loopback: private PostgreSQL, Redis, the FastCGI pool and nginx.

Used by `make run` and by the integration tests (test/integration/).  Python
3 standard library only.

    python3 deploy/local/stack.py run --dir var --port 8080 [--binary build/openbook] [--workers N]
                                      [--media DIR] [--no-demo-data]

runs migrate, load-initial-data and (unless --no-demo-data) load-demo-data
and install-library of the demo component library (test/libraries/ob-demo,
the elements the demo textbook's pages use), starts everything with its
data under var/ (kept between runs) and media.media_root in DIR (`make
run`: the repository's media/), prints the URL and blocks until Ctrl-C or
SIGTERM, then stops everything it started.

As a module:

    from stack import Stack
    s = Stack("/tmp/x", 8080, "build/asan/openbook", repo)
    s.start()
    ...  s.url("/api/"), s.master_pid, s.worker_pids(), s.reload(),
    ...  s.stop_postgres(), s.start_postgres(), s.log_text("openbook")
    s.stop()

Layout under root_dir:

    pg/              PostgreSQL cluster (reused when present)
    pg-run/          PostgreSQL's socket
    run/             openbook.sock, relay.sock; nginx.pid
    log/             postgres.log redis.log migrate.log openbook.log
                     nginx-error.log nginx-access.log
    media/           media.media_root (unless media_dir says otherwise)
    nginx/           nginx.conf (written), openbook.conf (the shipped server
                     block with local paths), fastcgi_params, mime.types, temp/
    openbook.yaml    the configuration the binary gets with -c (mode 0600:
                     it holds the secret key and both passwords)
    secret_key       kept so that signed tickets survive a restart
    pg_password      PostgreSQL's superuser password, made with the cluster
    pgpass           the same for psql (PGPASSFILE=<root_dir>/pgpass psql ...)
    redis_password   Redis's password (requirepass)
    redis.conf       Redis's configuration (it holds the password)

The secrets are generated per stack (CSPRNG), mode 0600.

Safe on a shared machine: other local users reach nothing of it.

- Run as a normal user, everything runs as that user; root_dir is mode
  0700, the sockets 0600 (PostgreSQL's 0700).
- Run as root (as CI and the tests may), the nginx workers run as the web
  user WEB_USER ("www-data"; "nobody" where it does not exist), like the
  Apache of the tests, and tests start the binary as that user too
  (mod_fcgid, spawn-fcgi -u): they reach the sockets through its group.
  run/ and pg-run/ are mode 2750 with that group (setgid: the sockets made
  in them belong to it), the sockets 0660 (PostgreSQL's 0770); log/ is
  0700.  Such processes read config_for_web() (a copy, 0640 to the group)
  instead of openbook.yaml.  root_dir gets o+x, and must be reachable for
  the web user (every directory above it o+x: e.g. below /tmp or /srv, not
  /root); static/ is served from a copy when the checkout is not.
- PostgreSQL listens on its unix socket only (no TCP) and asks for the
  password (scram-sha-256; no "trust").  A cluster made by an older stack
  with trust gets the password and the new pg_hba.conf on its next start.
- Redis listens on 127.0.0.1 and asks for its password (AUTH).  Passwords
  never appear on a command line (`ps`): initdb reads a file, redis-server
  its configuration file, psql PGPASSFILE.

Every child runs in its own session (Ctrl-C reaches only this script, which
then stops them in order) and gets a parent-death signal, so nothing is left
behind when this script is killed.

PostgreSQL refuses to run as root.  When run as root, the cluster runs as
user "postgres" if that user can reach root_dir (every ancestor directory
searchable by others; root_dir/pg and root_dir/pg-run are then chowned to it).
That is `runuser -u postgres` done by subprocess itself (setuid in the
child), so that the pid we signal is PostgreSQL's and not runuser's.
Otherwise it runs inside `unshare --user --map-user=1000 --map-group=1000`,
where it sees a non-root uid but keeps root's access to root-owned files.
The superuser is "postgres" in every mode (password auth, unix socket only).

Stop signals: nginx SIGQUIT (graceful), openbook SIGTERM (graceful, up to
server.graceful_timeout), redis SIGTERM, PostgreSQL SIGINT (fast shutdown:
it disconnects the workers instead of waiting for them); SIGKILL after a
timeout.
"""

import argparse
import ctypes
import glob
import grp
import http.client
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import stat
import string
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

NGINX_CONF = os.path.join("deploy", "nginx", "openbook.conf")

# When the stack runs as root: the user of the nginx workers and of the
# processes tests start as the web server's user; the first that exists.
WEB_USERS = ("www-data", "nobody")


class StackError(RuntimeError):
    pass


# --------------------------------------------------------------------------
# small helpers


def free_port():
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _which(name, extra_dirs=()):
    for d in extra_dirs:
        p = os.path.join(d, name)
        if os.access(p, os.X_OK):
            return p
    p = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin:/usr/local/sbin")
    if not p:
        raise StackError("%s not found (run `make deps`)" % name)
    return p


def pg_bindir():
    """Directory of initdb/postgres: newest /usr/lib/postgresql/*/bin."""
    cands = glob.glob("/usr/lib/postgresql/*/bin")

    def ver(p):
        try:
            return int(p.split("/")[-2])
        except ValueError:
            return 0

    for d in sorted(cands, key=ver, reverse=True):
        if os.access(os.path.join(d, "postgres"), os.X_OK):
            return d
    p = shutil.which("postgres")
    if p:
        return os.path.dirname(p)
    raise StackError("PostgreSQL server binaries not found (run `make deps`)")


_libc = None


def _set_pdeathsig(sig):
    """preexec_fn: the child gets `sig` when this process dies."""
    global _libc
    if _libc is None:
        try:
            _libc = ctypes.CDLL(None, use_errno=True)
        except OSError:
            _libc = False
    sig = int(sig)

    def fn():
        if _libc:
            _libc.prctl(1, sig, 0, 0, 0)  # PR_SET_PDEATHSIG
    return fn


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _proc_children(ppid):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[1]) == ppid:
            out.append(int(d))
    return sorted(out)


def tail(path, lines=40):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return "(no %s)" % path
    text = data.decode("utf-8", "replace").splitlines()
    return "\n".join(text[-lines:])


def _yaml_scalar(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_yaml_scalar(x) for x in v) + "]"
    # A JSON string is a valid YAML double-quoted scalar.
    return json.dumps(str(v))


def _ancestors_searchable(path):
    """True when every directory from / down to path is o+x."""
    p = os.path.realpath(path)
    while True:
        try:
            if not os.stat(p).st_mode & stat.S_IXOTH:
                return False
        except OSError:
            return False
        parent = os.path.dirname(p)
        if parent == p:
            return True
        p = parent


def web_account():
    """(user, group name, gid) the web side runs as when the stack runs as
    root: the first of WEB_USERS that exists, with its primary group."""
    for name in WEB_USERS:
        try:
            pw = pwd.getpwnam(name)
        except KeyError:
            continue
        return name, grp.getgrgid(pw.pw_gid).gr_name, pw.pw_gid
    raise StackError("none of the users %s exists: nginx's workers must not run as root"
                     % ", ".join(WEB_USERS))


def _write_private(path, text, mode=0o600, gid=None):
    """Writes text to path (replacing it atomically) with mode, created so:
    never readable by others, not even for a moment."""
    tmp = path + ".tmp"
    try:
        os.unlink(tmp)
    except FileNotFoundError:
        pass
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        if gid is not None:
            os.fchown(f.fileno(), -1, gid)
        os.fchmod(f.fileno(), mode)
        f.write(text)
    os.replace(tmp, path)


def _chown_tree(path, uid, gid):
    os.chown(path, uid, gid)
    for dirpath, dirnames, filenames in os.walk(path):
        for n in dirnames + filenames:
            try:
                os.lchown(os.path.join(dirpath, n), uid, gid)
            except FileNotFoundError:
                pass


# --------------------------------------------------------------------------


class Stack:
    """The whole system on loopback, under root_dir."""

    # name -> (stop signal, seconds to wait before SIGKILL)
    _STOP = {
        "nginx": (signal.SIGQUIT, 10),       # graceful: finish requests
        "openbook": (signal.SIGTERM, None),  # graceful_timeout + margin
        "relay": (signal.SIGTERM, 10),       # close frames 1001, then exits
        "redis": (signal.SIGTERM, 10),
        "send-mail": (signal.SIGTERM, 10),   # `make run` only: finishes the message in flight
        "postgres": (signal.SIGINT, 20),     # fast shutdown: drops clients
    }

    def __init__(self, root_dir, port=None, binary=None, repo=None, workers=2,
                 config=None, with_server=True, with_nginx=True,
                 health_timeout=30.0, env=None, with_relay=True, demo_data=False,
                 media_dir=None):
        """root_dir: data directory (created).  port: nginx port on
        127.0.0.1 (None: a free one).  binary: the openbook binary
        (default <repo>/build/openbook).  workers: server.workers.
        config: {section: {key: value}} merged over the generated config.
        with_server/with_nginx: False starts only PostgreSQL and Redis (plus
        migrations when the binary exists), for tests that run the binary
        themselves.  env: extra environment for the openbook processes.
        with_relay: start openbook-relay (the binary next to `binary`) when
        the server is started and that binary exists.  demo_data: also run
        `openbook load-demo-data` and install the demo component library
        after the migrations (`make run` does; the test stacks start without
        content).  media_dir: media.media_root (default <root_dir>/media)."""
        self.repo = os.path.abspath(repo or REPO)
        self.root = os.path.abspath(root_dir)
        self._auto_port = not port   # a free port we may change if taken
        self.port = int(port) if port else free_port()
        self.binary = os.path.abspath(binary or os.path.join(self.repo, "build", "openbook"))
        self.workers = int(workers)
        self.overrides = config or {}
        self.with_server = with_server
        self.with_nginx = with_nginx
        self.with_relay = with_relay
        self.relay_binary = os.path.join(os.path.dirname(self.binary), "openbook-relay")
        self.health_timeout = health_timeout
        self.extra_env = dict(env or {})
        self.demo_data = demo_data

        self.pg_dir = os.path.join(self.root, "pg")
        self.pg_socket_dir = os.path.join(self.root, "pg-run")
        self.run_dir = os.path.join(self.root, "run")
        self.log_dir = os.path.join(self.root, "log")
        self.media_dir = os.path.abspath(media_dir or os.path.join(self.root, "media"))
        self.nginx_dir = os.path.join(self.root, "nginx")
        self.config_path = os.path.join(self.root, "openbook.yaml")
        self.socket_path = os.path.join(self.run_dir, "openbook.sock")
        self.relay_socket_path = os.path.join(self.run_dir, "relay.sock")

        self.pg_user = "postgres"
        self.pg_port = None
        self.pg_password = None
        self.redis_port = None
        self.redis_password = None
        # Run as root: the web side's (user, group, gid); None otherwise
        # (then everything is this user's alone).
        self.web = web_account() if os.geteuid() == 0 else None
        self.static_dir = os.path.join(self.repo, "static")
        self.procs = {}      # name -> Popen, in start order
        self._logs = {}      # name -> open file
        self._pg_mode = None
        self._pg_bin = None
        self._last_workers = []
        self.config = None

    # ---------------------------------------------------------------- public

    def start(self):
        self._prepare_dirs()
        try:
            self._start_postgres(first=True)
            self._start_redis()
            self.write_config()
            if self.with_server or os.path.exists(self.binary):
                self._migrate()
            if self.with_server:
                self._start_server()
                if self.with_relay and os.access(self.relay_binary, os.X_OK):
                    self._start_relay()
            if self.with_nginx:
                self._start_nginx()
            if self.with_server and self.with_nginx:
                self.wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        """Stop everything this object started, in reverse start order
        (fixed: a PostgreSQL restarted by a test still goes last)."""
        order = ["send-mail", "nginx", "relay", "openbook", "redis", "postgres"]
        for name in [n for n in order if n in self.procs] + \
                [n for n in reversed(list(self.procs)) if n not in order]:
            self._stop_proc(name)
        for f in self._logs.values():
            try:
                f.close()
            except OSError:
                pass
        self._logs.clear()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def url(self, path="/"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    @property
    def master_pid(self):
        p = self.procs.get("openbook")
        return p.pid if p is not None and p.poll() is None else None

    def worker_pids(self):
        """Pids of the master's live children (its workers), from /proc."""
        pid = self.master_pid
        return _proc_children(pid) if pid else []

    def restart_server(self):
        """Stops `openbook serve`, rewrites the configuration (with
        self.overrides) and starts it again: unlike reload(), no worker of
        the old configuration keeps serving nginx's kept-alive connections."""
        self._stop_proc("openbook")
        self.procs.pop("openbook", None)
        self.write_config()
        self._start_server()
        self.wait_healthy()

    def reload(self):
        """SIGHUP to the master: re-read the configuration, replace workers."""
        os.kill(self.procs["openbook"].pid, signal.SIGHUP)

    def stop_postgres(self):
        self._stop_proc("postgres")

    def start_postgres(self):
        self._start_postgres(first=False)

    @property
    def relay_pid(self):
        p = self.procs.get("relay")
        return p.pid if p is not None and p.poll() is None else None

    def reload_relay(self):
        """SIGHUP to openbook-relay: re-read the configuration."""
        os.kill(self.procs["relay"].pid, signal.SIGHUP)

    def stop_redis(self):
        self._stop_proc("redis")

    def start_redis(self):
        """Starts Redis again on the same port (empty: nothing is saved), so
        the running server and relay find it where the configuration says."""
        self._start_redis(port=self.redis_port)

    def restart_postgres(self):
        self.stop_postgres()
        self.start_postgres()

    def log_path(self, name):
        return os.path.join(self.log_dir, name if name.endswith(".log") else name + ".log")

    def log_text(self, name):
        try:
            with open(self.log_path(name), "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def logs_tail(self, lines=30):
        out = []
        for n in ("migrate", "openbook", "relay", "nginx-error", "postgres", "redis"):
            p = self.log_path(n)
            if os.path.exists(p):
                out.append("---- %s (last %d lines) ----\n%s" % (p, lines, tail(p, lines)))
        return "\n".join(out)

    def psql(self, sql, db="openbook"):
        """Run SQL with psql as the superuser; returns stdout (tuples only)."""
        return self._psql(["-c", sql], db)

    def _psql(self, args, db, stdin_text=None):
        env = self._clean_env()
        env["PGPASSFILE"] = self.pgpass_path
        r = subprocess.run(
            [os.path.join(self._pg_bin or pg_bindir(), "psql"), "-X", "-q", "-tA",
             "-v", "ON_ERROR_STOP=1", "-h", self.pg_socket_dir, "-p", str(self.pg_port),
             "-U", self.pg_user, "-d", db] + args,
            env=env, input=stdin_text, stdin=None if stdin_text is not None else subprocess.DEVNULL,
            capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise StackError("psql failed: %s" % r.stderr.strip())
        return r.stdout

    @property
    def pgpass_path(self):
        return os.path.join(self.root, "pgpass")

    def redis_connection(self, timeout=5):
        """A socket to Redis, authenticated (AUTH answered +OK)."""
        s = socket.create_connection(("127.0.0.1", self.redis_port), timeout=timeout)
        try:
            s.sendall(b"AUTH %s\r\n" % self.redis_password.encode())
            reply = b""
            while not reply.endswith(b"\r\n"):
                d = s.recv(64)
                if not d:
                    break
                reply += d
            if not reply.startswith(b"+OK"):
                raise StackError("redis AUTH failed: %r" % reply)
        except BaseException:
            s.close()
            raise
        return s

    def config_for_web(self):
        """The configuration for processes that run as the web user (tests
        start mod_fcgid's and spawn-fcgi's as www-data when run as root):
        a copy of openbook.yaml readable by its group (0640), rewritten on
        every call.  As a normal user, openbook.yaml itself."""
        if self.web is None:
            return self.config_path
        path = os.path.join(self.root, "openbook-web.yaml")
        with open(self.config_path) as f:
            _write_private(path, f.read(), 0o640, self.web[2])
        return path

    def wait_healthy(self, timeout=None):
        """Until GET /api/core/sites/health/ answers 200 through nginx."""
        deadline = time.monotonic() + (timeout or self.health_timeout)
        last = None
        while time.monotonic() < deadline:
            for name, p in self.procs.items():
                if p.poll() is not None:
                    raise StackError("%s exited with status %s while starting\n%s"
                                     % (name, p.returncode, self.logs_tail()))
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                c.request("GET", "/api/core/sites/health/")
                r = c.getresponse()
                body = r.read()
                c.close()
                if r.status == 200:
                    return
                last = "%d %r" % (r.status, body[:200])
            except OSError as e:
                last = repr(e)
            time.sleep(0.2)
        raise StackError("no healthy answer from %s within %ss (last: %s)\n%s"
                         % (self.url("/api/core/sites/health/"),
                            timeout or self.health_timeout, last, self.logs_tail()))

    def server_env(self):
        """Environment for openbook processes (also for tests that run the
        binary under spawn-fcgi or systemd-socket-activate)."""
        env = self._clean_env()
        env.update(self.extra_env)
        return env

    # -------------------------------------------------------------- internals

    def _prepare_dirs(self):
        """Creates the directories; who may enter them: see the module
        docstring.  (Also fixes those of a stack made by an older version.)"""
        for d in (self.root, self.run_dir, self.log_dir, self.media_dir, self.nginx_dir):
            os.makedirs(d, exist_ok=True)
        os.chmod(self.log_dir, 0o700)
        if self.web is None:
            os.chmod(self.root, 0o700)
            os.chmod(self.run_dir, 0o700)
            return
        user = self.web[0]
        # The web user and PostgreSQL's pass through root_dir (no listing);
        # what is private in it has its own mode.
        os.chmod(self.root, stat.S_IMODE(os.stat(self.root).st_mode) | 0o711)
        if self.with_nginx and not _ancestors_searchable(self.root):
            raise StackError(
                "running as root, nginx's workers run as %s, which cannot reach %s (a "
                "directory on the way is not o+x): use a data directory below /tmp or /srv, "
                "or run as a normal user" % (user, self.root))
        if self.with_nginx and not _ancestors_searchable(self.media_dir):
            fallback = os.path.join(self.root, "media")
            sys.stderr.write("stack: %s cannot reach %s: media.media_root is %s instead\n"
                             % (user, self.media_dir, fallback))
            self.media_dir = fallback
            os.makedirs(fallback, exist_ok=True)
        os.chown(self.run_dir, 0, self.web[2])
        os.chmod(self.run_dir, 0o2750)
        for d in (self.media_dir, self.nginx_dir):
            os.chmod(d, 0o755)
        if self.with_nginx and not _ancestors_searchable(self.static_dir):
            copy = os.path.join(self.root, "static-copy")
            sys.stderr.write("stack: %s cannot reach %s: serving a copy, %s (edits in the "
                             "checkout show after a restart)\n" % (user, self.static_dir, copy))
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(os.path.join(self.repo, "static"), copy)
            self.static_dir = copy

    def _secret_file(self, name, length=48):
        """The secret kept in root_dir/name (mode 0600), made on first use."""
        path = os.path.join(self.root, name)
        try:
            with open(path) as f:
                s = f.read().strip()
            if len(s) >= length:
                os.chmod(path, 0o600)
                return s
        except OSError:
            pass
        alphabet = string.ascii_letters + string.digits
        s = "".join(secrets.choice(alphabet) for _ in range(length))
        _write_private(path, s + "\n")
        return s

    def _clean_env(self):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("OPENBOOK_", "PG", "LISTEN_"))}
        env.setdefault("LANG", "C.UTF-8")
        return env

    def _log(self, name):
        f = self._logs.get(name)
        if f is None or f.closed:
            f = open(self.log_path(name), "ab", buffering=0)
            self._logs[name] = f
        return f

    def _spawn(self, name, argv, stop_sig, user=None, group=None, cwd=None, env=None):
        log = self._log(name)
        log.write(("\n==== %s: %s\n" % (time.strftime("%Y-%m-%d %H:%M:%S"),
                                        " ".join(argv))).encode())
        kw = {}
        if user is not None:
            kw.update(user=user, group=group, extra_groups=[])
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                             cwd=cwd or self.root, env=env or self._clean_env(),
                             start_new_session=True,
                             preexec_fn=_set_pdeathsig(stop_sig), **kw)
        self.procs[name] = p
        return p

    def _stop_proc(self, name):
        p = self.procs.get(name)
        if p is None:
            return
        sig, wait = self._STOP[name]
        if name == "openbook":
            wait = int(self.config["server"].get("graceful_timeout", 30)) + 10 if self.config else 40
            self._last_workers = _proc_children(p.pid) if p.poll() is None else []
        if p.poll() is None:
            try:
                p.send_signal(sig)
                p.wait(wait)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            except ProcessLookupError:
                pass
        if name == "openbook":
            # Workers orphaned by a killed master.
            for w in self._last_workers:
                if _pid_alive(w):
                    try:
                        os.kill(w, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
        del self.procs[name]

    # ---- PostgreSQL

    def _pg_prepare_mode(self):
        if os.geteuid() != 0:
            return "direct"
        if _ancestors_searchable(self.root):
            return "runuser"
        return "unshare"

    def _pg_run_user(self):
        """(argv prefix, Popen user, group) to run initdb/postgres."""
        if self._pg_mode == "runuser":
            return [], "postgres", "postgres"
        if self._pg_mode == "unshare":
            uid = 1000
            try:
                pwd.getpwuid(uid)
            except KeyError:
                uid = pwd.getpwnam("nobody").pw_uid
            return (["unshare", "--user", "--map-user=%d" % uid, "--map-group=%d" % uid, "--"],
                    None, None)
        return [], None, None

    def _pg_fix_ownership(self):
        """The cluster and the socket directory belong to PostgreSQL's user;
        the socket directory's group is the web group when run as root
        (setgid: the socket gets it too), else PostgreSQL's own."""
        os.makedirs(self.pg_socket_dir, exist_ok=True)
        if self._pg_mode == "runuser":
            pw = pwd.getpwnam("postgres")
            uid, gid = pw.pw_uid, pw.pw_gid
        elif self._pg_mode == "unshare":
            uid, gid = 0, 0
        else:
            uid, gid = os.getuid(), os.getgid()
        if os.path.exists(self.pg_dir) and os.stat(self.pg_dir).st_uid != uid:
            _chown_tree(self.pg_dir, uid, gid)
        if self.web is not None:
            os.chown(self.pg_socket_dir, uid, self.web[2])
            os.chmod(self.pg_socket_dir, 0o2750)
        else:
            os.chmod(self.pg_socket_dir, 0o700)

    def _pg_socket_permissions(self):
        """unix_socket_permissions: owner and (as root) the web group."""
        return "0770" if self.web is not None else "0700"

    def _pg_hba_trusts(self):
        """True for a cluster made by an older stack (local trust auth)."""
        try:
            with open(os.path.join(self.pg_dir, "pg_hba.conf")) as f:
                lines = [l.split("#", 1)[0].split() for l in f]
        except OSError:
            return False
        return any(w and w[-1] == "trust" for w in lines)

    def _pg_secure_legacy(self):
        """A cluster of an older stack: give the superuser its password, then
        allow only password logins.  Its socket is private meanwhile (the
        caller started PostgreSQL with mode 0700)."""
        self._psql(["-f", "-"], "postgres",
                   stdin_text="ALTER ROLE %s PASSWORD '%s';\n" % (self.pg_user, self.pg_password))
        hba = os.path.join(self.pg_dir, "pg_hba.conf")
        st = os.stat(hba)
        with open(hba, "w") as f:
            f.write("# Written by deploy/local/stack.py: password logins (SCRAM) over the\n"
                    "# unix socket only.\n"
                    "local   all   all   scram-sha-256\n")
        os.chown(hba, st.st_uid, st.st_gid)

    def _pg_clear_stale(self):
        pidfile = os.path.join(self.pg_dir, "postmaster.pid")
        if not os.path.exists(pidfile):
            return
        try:
            with open(pidfile) as f:
                pid = int(f.readline().strip() or 0)
        except (OSError, ValueError):
            pid = 0
        if pid > 0 and _pid_alive(pid):
            try:
                cwd = os.path.realpath("/proc/%d/cwd" % pid)
                with open("/proc/%d/cmdline" % pid, "rb") as f:
                    cmd = f.read().split(b"\0")[0]
            except OSError:
                cwd, cmd = "", b""
            if os.path.basename(cmd) in (b"postgres", b"postmaster") and \
                    cwd == os.path.realpath(self.pg_dir):
                raise StackError(
                    "PostgreSQL (pid %d) is already running on %s: is another stack "
                    "using this directory?  Stop it first (kill -INT %d)."
                    % (pid, self.pg_dir, pid))
        # Nobody holds it: a leftover of a crash.
        os.unlink(pidfile)
        for f in glob.glob(os.path.join(self.pg_socket_dir, ".s.PGSQL.*")):
            try:
                os.unlink(f)
            except OSError:
                pass

    def _start_postgres(self, first):
        self._pg_bin = self._pg_bin or pg_bindir()
        if first:
            self._pg_mode = self._pg_prepare_mode()
            self.pg_port = self.pg_port or free_port()
            self.pg_password = self._secret_file("pg_password")
            _write_private(self.pgpass_path, "*:*:*:%s:%s\n" % (self.pg_user, self.pg_password))
        prefix, user, group = self._pg_run_user()
        self._pg_fix_ownership()
        env = self._clean_env()
        if not os.path.exists(os.path.join(self.pg_dir, "PG_VERSION")):
            if os.path.exists(self.pg_dir):
                shutil.rmtree(self.pg_dir)   # a half-made cluster
            os.makedirs(self.pg_dir, mode=0o700)
            self._pg_fix_ownership()
            # The password reaches initdb in a file of PostgreSQL's user,
            # in its private socket directory, removed at once.
            pwfile = os.path.join(self.pg_socket_dir, ".initdb-pw")
            _write_private(pwfile, self.pg_password + "\n")
            st = os.stat(self.pg_socket_dir)
            os.chown(pwfile, st.st_uid, -1)
            log = self._log("postgres")
            argv = prefix + [os.path.join(self._pg_bin, "initdb"), "-D", self.pg_dir,
                             "-U", self.pg_user, "-E", "UTF8", "--locale=C.UTF-8",
                             "--pwfile=" + pwfile,
                             "--auth-local=scram-sha-256", "--auth-host=reject", "--no-sync"]
            log.write(("\n==== initdb: %s\n" % " ".join(argv)).encode())
            kw = {}
            if user:
                kw.update(user=user, group=group, extra_groups=[])
            try:
                r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                   cwd=self.root, env=env, timeout=120, **kw)
            finally:
                os.unlink(pwfile)
            if r.returncode != 0:
                raise StackError("initdb failed (%d)\n%s"
                                 % (r.returncode, tail(self.log_path("postgres"))))
        legacy = self._pg_hba_trusts()
        self._run_postgres(prefix, user, group, env, "0700" if legacy else None)
        if legacy:
            self._pg_secure_legacy()
            self._stop_proc("postgres")
            self._run_postgres(prefix, user, group, env, None)
        if first and self.psql("SELECT 1 FROM pg_database WHERE datname = 'openbook'",
                               db="postgres").strip() != "1":
            self.psql("CREATE DATABASE openbook ENCODING 'UTF8' TEMPLATE template0",
                      db="postgres")

    def _run_postgres(self, prefix, user, group, env, socket_permissions):
        """Starts the cluster and waits until it accepts connections."""
        self._pg_clear_stale()
        argv = prefix + [os.path.join(self._pg_bin, "postgres"), "-D", self.pg_dir,
                         "-k", self.pg_socket_dir, "-p", str(self.pg_port),
                         "-c", "listen_addresses=",
                         "-c", "unix_socket_permissions=%s"
                               % (socket_permissions or self._pg_socket_permissions()),
                         # A throw-away local cluster: speed over durability.
                         "-c", "fsync=off", "-c", "synchronous_commit=off",
                         "-c", "full_page_writes=off",
                         # Data on SSD or in cache: the planner's default
                         # random_page_cost (4, for spinning disks) makes
                         # it scan whole tables where index lookups win.
                         # The README recommends the same for production.
                         "-c", "random_page_cost=1.1",
                         "-c", "max_connections=200"]
        p = self._spawn("postgres", argv, signal.SIGINT, user=user, group=group, env=env)
        isready = os.path.join(self._pg_bin, "pg_isready")
        deadline = time.monotonic() + 60
        while True:
            if p.poll() is not None:
                del self.procs["postgres"]
                raise StackError("postgres exited with status %s\n%s"
                                 % (p.returncode, tail(self.log_path("postgres"))))
            r = subprocess.run([isready, "-q", "-h", self.pg_socket_dir, "-p", str(self.pg_port),
                                "-U", self.pg_user, "-d", "postgres"], env=env)
            if r.returncode == 0:
                break
            if time.monotonic() > deadline:
                raise StackError("postgres not ready after 60s\n%s"
                                 % tail(self.log_path("postgres")))
            time.sleep(0.1)

    # ---- Redis

    def _start_redis(self, attempt=1, port=None):
        self.redis_port = port or free_port()
        self.redis_password = self._secret_file("redis_password")
        # The password in a file, not on the command line (`ps` shows that
        # to every user).
        conf = os.path.join(self.root, "redis.conf")
        _write_private(conf, "\n".join([
            "# Written by deploy/local/stack.py; rewritten on every start.",
            "bind 127.0.0.1",
            "port %d" % self.redis_port,
            "protected-mode yes",
            "requirepass %s" % self.redis_password,
            'save ""',
            "appendonly no",
            "daemonize no",
            "dir %s" % self.run_dir,
            'logfile ""',
        ]) + "\n")
        argv = [_which("redis-server"), conf]
        mark = os.path.getsize(self.log_path("redis")) if os.path.exists(self.log_path("redis")) else 0
        p = self._spawn("redis", argv, signal.SIGTERM)
        deadline = time.monotonic() + 20
        while True:
            if p.poll() is not None:
                del self.procs["redis"]
                if attempt < 3 and "in use" in self._log_since("redis", mark):
                    return self._start_redis(attempt + 1, port)   # lost a race for the port
                raise StackError("redis-server exited with status %s\n%s"
                                 % (p.returncode, tail(self.log_path("redis"))))
            try:
                with self.redis_connection(timeout=2):
                    return
            except (OSError, StackError):
                pass
            if time.monotonic() > deadline:
                raise StackError("redis not ready after 20s\n%s" % tail(self.log_path("redis")))
            time.sleep(0.05)

    # ---- configuration

    def write_config(self):
        """(Re)writes openbook.yaml from the generated values and
        self.overrides; reload() then makes the server read it."""
        cfg = {
            "server": {
                "listen": "unix:" + self.socket_path,
                # The front server's workers run as this user, or (as
                # root) in the web group: see the module docstring.
                "socket_mode": "0660" if self.web is not None else "0600",
                "workers": self.workers,
                "development": True,
            },
            "http": {
                "allowed_hosts": ["127.0.0.1", "localhost"],
            },
            "security": {
                "secret_key": self._secret_file("secret_key"),
                "cookie_secure": False,
            },
            "database": {
                "url": "host=%s port=%d dbname=openbook user=%s password=%s"
                       % (self.pg_socket_dir, self.pg_port, self.pg_user, self.pg_password),
            },
            "redis": {
                "address": "127.0.0.1:%d" % self.redis_port,
                "password": self.redis_password,
            },
            "media": {
                "media_root": self.media_dir,
            },
            "auth": {
                "common_passwords": os.path.join(self.repo, "conf",
                                                 "common-passwords.txt.gz"),
            },
            "relay": {
                "listen": "unix:" + self.relay_socket_path,
            },
            # Mail is queued in the database; `send-mail` (started by `make
            # run`) writes it as .eml files here.
            "mail": {
                "backend": "file",
                "file_dir": os.path.join(self.root, "mail"),
            },
        }
        for section, values in self.overrides.items():
            cfg.setdefault(section, {}).update(values)
        self.config = cfg
        lines = ["# Written by deploy/local/stack.py; rewritten on every start."]
        for section, values in cfg.items():
            lines.append("%s:" % section)
            for k, v in values.items():
                lines.append("  %s: %s" % (k, _yaml_scalar(v)))
        # 0600: the secret key and both passwords are in it.
        _write_private(self.config_path, "\n".join(lines) + "\n")

    _write_config = write_config   # (old name)

    # ---- openbook

    def _check_binary(self):
        if not os.access(self.binary, os.X_OK):
            raise StackError("%s not found or not executable (build it: make / make asan)"
                             % self.binary)

    def _migrate(self):
        self._check_binary()
        log = self._log("migrate")
        cmds = ["migrate", "load-initial-data"] + (["load-demo-data"] if self.demo_data else [])
        for cmd in cmds:
            argv = [self.binary, cmd, "-c", self.config_path]
            log.write(("\n==== %s\n" % " ".join(argv)).encode())
            try:
                r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                   cwd=self.root, env=self.server_env(), timeout=180)
            except subprocess.TimeoutExpired:
                raise StackError("`openbook %s` timed out\n%s"
                                 % (cmd, tail(self.log_path("migrate"))))
            if r.returncode != 0:
                raise StackError("`openbook %s` failed with status %d\n%s"
                                 % (cmd, r.returncode, tail(self.log_path("migrate"))))
        if self.demo_data:
            self._install_demo_library(log)

    def _install_demo_library(self, log):
        """The demo component library (test/libraries/ob-demo), archived by
        the tests' zip_factory and installed like any archive; replaced on
        every start, so edits of its source show after a restart."""
        sys.path.insert(0, os.path.join(self.repo, "test", "integration"))
        try:
            import zip_factory
        finally:
            sys.path.pop(0)
        archive = os.path.join(self.root, "ob-demo.zip")
        with open(archive, "wb") as f:
            f.write(zip_factory.library_zip(os.path.join(self.repo, "test", "libraries",
                                                         "ob-demo")))
        argv = [self.binary, "install-library", "-c", self.config_path, archive]
        log.write(("\n==== %s\n" % " ".join(argv)).encode())
        r = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                           cwd=self.root, env=self.server_env(), timeout=180)
        if r.returncode != 0:
            raise StackError("`openbook install-library` failed with status %d\n%s"
                             % (r.returncode, tail(self.log_path("migrate"))))

    def _start_server(self):
        self._check_binary()
        self._spawn("openbook", [self.binary, "serve", "-c", self.config_path],
                    signal.SIGTERM, env=self.server_env())

    def _start_relay(self):
        """openbook-relay on relay.listen (nginx proxies /ws/ to it)."""
        p = self._spawn("relay", [self.relay_binary, "-c", self.config_path],
                        signal.SIGTERM, env=self.server_env())
        deadline = time.monotonic() + 20
        while True:
            if p.poll() is not None:
                del self.procs["relay"]
                raise StackError("openbook-relay exited with status %s\n%s"
                                 % (p.returncode, tail(self.log_path("relay"))))
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                    s.connect(self.relay_socket_path)
                return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise StackError("openbook-relay not listening on %s\n%s"
                                 % (self.relay_socket_path, tail(self.log_path("relay"))))
            time.sleep(0.05)

    # ---- nginx

    def nginx_substitutions(self):
        """Literal string -> local value, applied to the shipped server block."""
        workers = self.workers or os.cpu_count() or 1
        # Rule from the conf: keepalive x nginx worker_processes (1) < workers.
        keep = "keepalive %d;" % (workers - 1) if workers > 1 else \
            "# keepalive: none with a single pool worker;"
        return [
            ("listen 80;", "listen 127.0.0.1:%d;" % self.port),
            ("keepalive 8;", keep),
            ("unix:/run/openbook/openbook.sock", "unix:" + self.socket_path),
            ("unix:/run/openbook/relay.sock", "unix:" + self.relay_socket_path),
            ("/usr/share/openbook/static/", self.static_dir + "/"),
            ("/var/lib/openbook/media/", self.media_dir + "/"),
        ]

    def write_nginx_conf(self):
        """Writes nginx/nginx.conf and nginx/openbook.conf; returns the former."""
        src = os.path.join(self.repo, NGINX_CONF)
        with open(src) as f:
            block = f.read()
        for old, new in self.nginx_substitutions():
            if old not in block:
                raise StackError("%s no longer contains %r, which the local stack "
                                 "replaces; update deploy/local/stack.py" % (src, old))
            block = block.replace(old, new)
        with open(os.path.join(self.nginx_dir, "openbook.conf"), "w") as f:
            f.write("# Generated from %s by deploy/local/stack.py\n" % src + block)
        for name in ("fastcgi_params", "mime.types"):
            shutil.copyfile(os.path.join("/etc/nginx", name), os.path.join(self.nginx_dir, name))
        temp = os.path.join(self.nginx_dir, "temp")
        for sub in ("body", "fastcgi", "proxy", "scgi", "uwsgi"):
            os.makedirs(os.path.join(temp, sub), exist_ok=True)
        main = [
            "# Generated by deploy/local/stack.py",
            # As root: workers as the web user, never root.  (As a normal
            # user nginx cannot switch: its workers run as that user.)
            "user %s %s;" % self.web[:2] if self.web is not None else "",
            "daemon off;",
            "master_process on;",
            "worker_processes 1;",
            "pid %s;" % os.path.join(self.run_dir, "nginx.pid"),
            "error_log %s warn;" % self.log_path("nginx-error"),
            "events {",
            "    worker_connections 1024;",
            "}",
            "http {",
            "    include mime.types;",
            "    default_type application/octet-stream;",
            "    client_body_temp_path %s;" % os.path.join(temp, "body"),
            "    fastcgi_temp_path %s;" % os.path.join(temp, "fastcgi"),
            "    proxy_temp_path %s;" % os.path.join(temp, "proxy"),
            "    scgi_temp_path %s;" % os.path.join(temp, "scgi"),
            "    uwsgi_temp_path %s;" % os.path.join(temp, "uwsgi"),
            "    include openbook.conf;",
            # After the include, which defines the format (with the
            # request id that the application logs too).
            "    access_log %s openbook;" % self.log_path("nginx-access"),
            "}",
        ]
        path = os.path.join(self.nginx_dir, "nginx.conf")
        with open(path, "w") as f:
            f.write("\n".join(l for l in main if l) + "\n")
        return path

    def _nginx_argv(self, conf):
        return [_which("nginx"), "-p", self.nginx_dir + "/", "-c", conf,
                "-e", self.log_path("nginx-error")]

    def _log_since(self, name, offset):
        try:
            with open(self.log_path(name), "rb") as f:
                f.seek(offset)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def _start_nginx(self, attempt=1):
        conf = self.write_nginx_conf()
        elog = self.log_path("nginx-error")
        mark = os.path.getsize(elog) if os.path.exists(elog) else 0
        argv = self._nginx_argv(conf)
        r = subprocess.run(argv + ["-t", "-q"], capture_output=True, text=True,
                           env=self._clean_env())
        if r.returncode != 0:
            raise StackError("nginx -t failed:\n%s%s" % (r.stdout, r.stderr))
        p = self._spawn("nginx", argv, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while True:
            if p.poll() is not None:
                del self.procs["nginx"]
                if self._auto_port and attempt < 3 and \
                        "Address already in use" in self._log_since("nginx-error", mark):
                    self.port = free_port()   # lost a race for the port
                    return self._start_nginx(attempt + 1)
                raise StackError("nginx exited with status %s\n%s"
                                 % (p.returncode, tail(self.log_path("nginx-error"))))
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                time.sleep(0.05)
                if p.poll() is None:   # (not someone else on that port)
                    return
                continue
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise StackError("nginx not listening on %d\n%s"
                                 % (self.port, tail(self.log_path("nginx-error"))))
            time.sleep(0.05)


# --------------------------------------------------------------------------
# CLI


def _cmd_run(args):
    root = os.path.abspath(args.dir)
    binary = args.binary or os.path.join(REPO, "build", "openbook")
    if not os.path.isabs(binary):
        binary = os.path.abspath(binary)
    env = {}
    for kv in args.set:
        key, sep, value = kv.partition("=")
        section, dot, name = key.partition(".")
        if not sep or not dot or not section or not name:
            raise SystemExit("stack: --set takes SECTION.KEY=VALUE, not %r" % kv)
        env["OPENBOOK_%s_%s" % (section.upper(), name.upper())] = value
    stack = Stack(root, args.port, binary, REPO, workers=args.workers,
                  demo_data=not args.no_demo_data, media_dir=args.media, env=env)

    stopping = []

    def on_signal(signum, frame):
        stopping.append(signum)

    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)
    try:
        stack.start()
    except StackError as e:
        print("stack: %s" % e, file=sys.stderr)
        return 1
    # Delivers queued mail as .eml files into <dir>/mail (api-auth.md §9).
    stack._spawn("send-mail", [binary, "send-mail", "-c", stack.config_path], signal.SIGTERM,
                 env=stack.server_env())
    print("OpenBook is running at %s  (Ctrl-C stops it)" % stack.url("/"))
    print("  API:      %s" % stack.url("/api/"))
    print("  data:     %s  (logs in %s)" % (root, stack.log_dir))
    print("  psql:     PGPASSFILE=%s psql -h %s -p %d -U %s openbook"
          % (stack.pgpass_path, stack.pg_socket_dir, stack.pg_port, stack.pg_user))
    print("  redis:    REDISCLI_AUTH=\"$(cat %s)\" redis-cli -p %d"
          % (os.path.join(root, "redis_password"), stack.redis_port))
    print("  mail:     %s  (one .eml per message)" % stack.config["mail"]["file_dir"])
    print("  media:    %s" % stack.media_dir)
    print("  reload:   kill -HUP %d" % stack.master_pid)
    if stack.relay_pid:
        print("  relay:    %s  (kill -HUP %d reloads it)" % (stack.relay_socket_path, stack.relay_pid))
    sys.stdout.flush()
    rc = 0
    while not stopping:
        for name, p in list(stack.procs.items()):
            if p.poll() is not None:
                print("stack: %s exited unexpectedly with status %s; see %s"
                      % (name, p.returncode, stack.log_path(name if name != "nginx" else "nginx-error")),
                      file=sys.stderr)
                print(tail(stack.log_path(name if name != "nginx" else "nginx-error"), 20),
                      file=sys.stderr)
                stopping.append(None)
                rc = 1
                break
        time.sleep(0.3)
    print("stack: stopping ...", file=sys.stderr)
    stack.stop()
    return rc


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="start everything and block until Ctrl-C")
    r.add_argument("--dir", default="var", help="data directory (default: var)")
    r.add_argument("--port", type=int, default=8080, help="nginx port on 127.0.0.1")
    r.add_argument("--binary", help="openbook binary (default: <repo>/build/openbook)")
    r.add_argument("--workers", type=int, default=2, help="FastCGI pool workers (default 2)")
    r.add_argument("--media", help="media.media_root (default: <dir>/media; make run: the "
                                   "repository's media/)")
    r.add_argument("--no-demo-data", action="store_true",
                   help="do not run `openbook load-demo-data` (it keeps existing rows, so "
                        "running it on every start is harmless)")
    r.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="a setting for the openbook processes, over the generated "
                        "configuration (as OPENBOOK_<SECTION>_<KEY>); repeatable")
    args = ap.parse_args(argv)
    if args.cmd == "run":
        return _cmd_run(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
