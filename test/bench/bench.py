#!/usr/bin/env python3
"""OpenBook benchmark harness (`make bench`), next to a same-run ceiling.

    python3 test/bench/bench.py [--url URL] [--duration S] [--connections 1,32,128]
                                [--workers N] [--quick] [--keep] [--out FILE]

Starts the whole stack (deploy/local/stack.py: private PostgreSQL, Redis,
the release binary build/openbook under its master, nginx with the shipped
server block) in a temporary directory, or measures a running one (--url).
In the same run it starts two ceilings behind a second nginx:

    libfcgi ceiling   nginx -> test/bench/ceiling.c (pre-forked libfcgi
                      responder, fixed {"status":"GOOD"} with our headers)
    nginx return      nginx `return 200 '{"status":"GOOD"}'`

and measures with wrk (test/bench/report.lua) the health endpoint, every
collection listed by GET /api/ (anonymous, _page_size=20) and both
ceilings at each connection count, and GET /api/auth/current_user/ logged
in (a browser session cookie and an API token; logged_in_variants()).  On
the bench data of gen_data.py (10,000 textbooks in 100 library groups, 50
courses, 1,000 role assignments) also the content lists
/api/content/textbooks/ and /api/content/courses/ as the bench user, whose
textbooks are visible by role (reader_variants()), and one textbook with
?_expand=group,pages (skipped with a note where GET /api/ does not list
them); after the wrk points, the statements PostgreSQL runs per list
request at two page sizes (count_queries()).  Also
a memory-growth check, the RSS of the master and each worker, and a login
section (sequential logins through the app API: argon2id and rate limits
bound login, so wrk does not drive it).  Prints a summary table and writes
build/bench/result.json.  See test/bench/README.md for how to read it.

Environment: BENCH_QUICK=1 (3 s per point, fewer points, 2k/20k memory
check), BENCH_DURATION=S, BENCH_WORKERS=N, BENCH_CONNECTIONS=1,32,128.

Exit status: 0 whatever the numbers are; 1 when the harness itself fails
(stack does not start, wrk missing, ceiling does not build, ...).
Python 3 standard library only.
"""

import argparse
import datetime
import http.client
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "deploy", "local"))

from stack import Stack, StackError, free_port  # noqa: E402  (deploy/local/stack.py)
import gen_data  # noqa: E402  (test/bench/gen_data.py)

BUILD_DIR = os.path.join(REPO, "build", "bench")
DEFAULT_OUT = os.path.join(BUILD_DIR, "result.json")
CEILING_SRC = os.path.join(HERE, "ceiling.c")
CEILING_BIN = os.path.join(BUILD_DIR, "ceiling")
LUA = os.path.join(HERE, "report.lua")

HEALTH = "/api/core/sites/health/"
PAGE_SIZE = 20
BODY = '{"status":"GOOD"}'
# Answers at least this big are also compared with SIZED_CEILING, the
# libfcgi ceiling answering a body as big as the biggest of them.
SIZED_CEILING_MIN = 32 * 1024
SIZED_CEILING = "libfcgi ceiling, big body"

# Goals (issue 3), checked and printed, never turned into an exit status.
GOAL_HEALTH_RATIO = 0.8      # health >= 0.8 x libfcgi ceiling
GOAL_LIST_RATIO = 0.4        # DB-backed anonymous lists >= 0.4 x ceiling
GOAL_P99_MS = 10.0           # p99 < 10 ms at 32 connections
GOAL_P99_CONNS = 32
GOAL_RSS_KIB = 16 * 1024     # worker RSS < 16 MiB after the long memory run
# Goals (issue 5): the textbook list of the bench user (visible by role).
GOAL_READER_LIST = "content/textbooks"
GOAL_READER_RATIO = 0.3      # >= 0.3 x libfcgi ceiling
GOAL_READER_P99_MS = 20.0    # p99 < 20 ms at 32 connections
# The content lists and retrieve are measured a second time with the
# response cache off (variant "<variant>, no cache"): what a request costs
# when it has to ask PostgreSQL.  Not counted in the goals.
UNCACHED = ", no cache"
# Every endpoint is asked as browsers (and most HTTP libraries) ask: with
# this header, answers of http.gzip_min_bytes or more come gzip-compressed
# (README "Compression").  An answer of SIZED_CEILING_MIN or more that
# compresses is measured a second time without it (variant "<variant>,
# identity"): what a client that does not accept gzip costs.  The goals use
# the browser's requests; the identity rows are reported next to them.
BROWSER = {"Accept-Encoding": "gzip, deflate, br"}
IDENTITY = ", identity"
# "No growth": allocator and page-granularity noise allowed per worker.
GROWTH_TOLERANCE_KIB = 128
# Metrics on (metrics.listen, scraped during the run) against off: the pool
# restarted each way, in alternation (off, on, off, on...), on health and
# on a cached list (issue 17: within 3 %).
METRICS_COST_GOAL = 0.97
METRICS_COST_LIST = "content/textbooks"   # anonymous, cached; core/languages without data
METRICS_COST_ROUNDS = 3
METRICS_COST_CONNS = 32
# A run is flagged unreliable above these (see "quality" in result.json).
MAX_OTHER_CORES = 0.3
MAX_DRIFT = 0.15


class HarnessError(RuntimeError):
    pass


def measure_metrics_cost(stack, base, collections, duration, warm_s, rounds=METRICS_COST_ROUNDS):
    """Requests per second with metrics off and on, same stack, the pool
    restarted for each setting, settings alternating so that a machine
    that speeds up or slows down during the run favours neither.  While
    metrics are on, the endpoint is scraped every second (a scraper asks
    every 15 s or so: this is the worse case).  Returns the result.json
    section, with the on/off ratio per endpoint, and the pool's CPU time
    per request each way, which a busy shared machine disturbs far less
    than the request rate."""
    name = METRICS_COST_LIST if METRICS_COST_LIST in collections else "core/languages"
    targets = [("health", base + HEALTH),
               (name, "%s%s?_page_size=%d" % (base, collections.get(name, "/api/core/languages/"),
                                               PAGE_SIZE))]
    port = free_port()
    runs = {(t, mode): [] for t, _ in targets for mode in ("off", "on")}
    scrapes = {"ok": 0, "failed": 0}
    for rnd in range(rounds):
        for mode in ("off", "on"):
            stack.overrides.setdefault("metrics", {})["listen"] = \
                "127.0.0.1:%d" % port if mode == "on" else ""
            stack.restart_server()
            stop = threading.Event()

            def scraper():
                while not stop.wait(1.0):
                    try:
                        st, _ = http_get("http://127.0.0.1:%d/metrics" % port, timeout=5)
                    except OSError:
                        st = None
                    scrapes["ok" if st == 200 else "failed"] += 1
            th = threading.Thread(target=scraper, daemon=True) if mode == "on" else None
            if th:
                th.start()
            master = stack.master_pid
            meter = CpuMeter([("pool", lambda: [master])])
            try:
                for t, url in targets:
                    wrk(url, METRICS_COST_CONNS, warm_s, headers=BROWSER)
                    meter.start()
                    res = wrk(url, METRICS_COST_CONNS, duration, headers=BROWSER)
                    cpu = meter.stop()
                    if "harness_error" in res:
                        raise HarnessError("metrics cost, %s %s: %s" % (t, mode, res["harness_error"]))
                    run = {k: res[k] for k in ("rps", "p50_us", "p99_us", "errors")}
                    run["pool_cpu_us_per_request"] = round(
                        cpu["pool"] * duration * 1e6 / max(1, res["requests"]), 2)
                    run["other_cores"] = cpu["other"]
                    runs[(t, mode)].append(run)
                    say("metrics %-3s round %d  %-18s %8.0f req/s  p99 %s ms  pool %.1f us/req  "
                        "(other load %.2f cores)" % (mode, rnd + 1, t, res["rps"], fmt_ms(res["p99_us"]),
                                                     run["pool_cpu_us_per_request"], cpu["other"]))
            finally:
                stop.set()
                if th:
                    th.join()
    stack.overrides["metrics"]["listen"] = ""
    stack.restart_server()
    out = {"connections": METRICS_COST_CONNS, "duration_s": duration, "rounds": rounds,
           "scrapes": scrapes, "want_ratio": METRICS_COST_GOAL, "endpoints": {}}
    for t, url in targets:
        mean = {m: sum(r["rps"] for r in runs[(t, m)]) / len(runs[(t, m)]) for m in ("off", "on")}
        p99 = {m: sum(r["p99_us"] for r in runs[(t, m)]) / len(runs[(t, m)]) for m in ("off", "on")}
        # CPU per request: the median run of each setting (one disturbed
        # run must not decide).
        cpu = {m: sorted(r["pool_cpu_us_per_request"] for r in runs[(t, m)])[len(runs[(t, m)]) // 2]
               for m in ("off", "on")}
        ratio = mean["on"] / mean["off"] if mean["off"] else None
        out["endpoints"][t] = {"path": url[len(base):], "rps_off": round(mean["off"], 1),
                               "rps_on": round(mean["on"], 1), "ratio": round(ratio, 4) if ratio else None,
                               "p99_us_off": round(p99["off"]), "p99_us_on": round(p99["on"]),
                               "pool_cpu_us_per_request_off": cpu["off"],
                               "pool_cpu_us_per_request_on": cpu["on"],
                               "cpu_ratio": round(cpu["off"] / cpu["on"], 4) if cpu["on"] else None,
                               "runs": {m: runs[(t, m)] for m in ("off", "on")}}
        say("metrics cost %-18s off %8.0f  on %8.0f req/s  ratio %s (goal >= %.2f); pool CPU "
            "%.1f / %.1f us per request" % (t, mean["off"], mean["on"], "%.3f" % ratio if ratio else "-",
                                            METRICS_COST_GOAL, cpu["off"], cpu["on"]))
    out["pass"] = all(e["ratio"] is not None and e["ratio"] >= METRICS_COST_GOAL
                      for e in out["endpoints"].values())
    return out


def run_metrics_cost_only(args, workers, duration, warm_s):
    """--metrics-cost-only: the stack, the bench data and the metrics
    comparison, nothing else (a few minutes instead of the whole bench)."""
    tmp = tempfile.mkdtemp(prefix="openbook-bench-")
    os.chmod(tmp, 0o755)
    stack = None
    try:
        stack = Stack(os.path.join(tmp, "stack"), None, args.binary, REPO, workers=workers,
                      config={"server": {"max_requests": 0}})
        stack.start()
        base = stack.url("").rstrip("/")
        gen_data.load(stack.psql)
        result = {"machine": machine_info(),
                  "metrics_cost": measure_metrics_cost(stack, base, discover(base), duration,
                                                       warm_s)}
    finally:
        if stack:
            stack.stop()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    out = args.out if args.out != DEFAULT_OUT else os.path.join(BUILD_DIR, "metrics_cost.json")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    say("metrics cost: %s; result: %s" % ("PASS" if result["metrics_cost"]["pass"] else "FAIL",
                                          os.path.relpath(out, os.getcwd())))
    return 0


def say(msg):
    print("bench: %s" % msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# HOOK: logged-in variants.
#
# logged_in_variants() returns one (label, headers) entry per kind of
# logged-in client; the collections named in LOGGED_IN_COLLECTIONS (None:
# every collection of GET /api/) are then measured once more per entry, with
# these headers on every request (see measure(): they go to wrk as
# -H "Name: value").  The label appears as the "variant" column of the table
# and in result.json.  Only when the harness started the stack (it needs
# psql and the binary to create the account).

LOGGED_IN_COLLECTIONS = ("auth/current_user",)
BENCH_ADMIN = "bench-admin"
BENCH_PASSWORD = "Vq8#bench-Orchard-42"
LOGIN_USER_PREFIX = "bench-login-"
# Content (api-resources.md §3), measured on the bench data of gen_data.py:
# these lists anonymously (like every collection of GET /api/) and as the
# bench user, whose textbooks are visible through role assignments (rule R
# step 3); and one textbook retrieved with CONTENT_EXPAND.  An endpoint that
# GET /api/ does not list, or that does not answer 2xx, is skipped with a note.
CONTENT_LISTS = ("content/textbooks", "content/courses")
CONTENT_RETRIEVE = "content/textbooks"
CONTENT_EXPAND = "group,pages"
# "Queries per list request": statements counted in the PostgreSQL log for
# one request at each of these page sizes (constant = no query per row).
QUERY_COUNT_LIST = "content/textbooks"
QUERY_COUNT_PAGE_SIZES = (20, 100)
# Measured the same way in every run, as the admin (every row visible),
# so that the counting itself is checked even where the content
# resources do not exist yet.
QUERY_COUNT_REFERENCE = "auth/role_assignments"
LOGIN_COUNT = 10        # sequential logins of the login section, one per user
APP_LOGIN = "/auth-api/app/v1/auth/login"


def _sql(v):
    return "'" + str(v).replace("'", "''") + "'"


def create_bench_users(stack, nlogin):
    """`openbook createsuperuser` BENCH_ADMIN (its password hashed by the
    binary, argon2id), then nlogin users LOGIN_USER_PREFIX1.. with a copy of
    that hash and a verified primary address."""
    env = stack.server_env()
    env["OPENBOOK_SUPERUSER_PASSWORD"] = BENCH_PASSWORD
    argv = [stack.binary, "createsuperuser", "--no-input", "--username", BENCH_ADMIN,
            "--email", BENCH_ADMIN + "@example.org", "-c", stack.config_path]
    r = subprocess.run(argv, capture_output=True, text=True, cwd=stack.root, env=env, timeout=60)
    if r.returncode != 0:
        raise HarnessError("%s failed (%d): %s" % (" ".join(argv), r.returncode,
                                                  (r.stderr or r.stdout).strip()[-500:]))
    if nlogin:
        stack.psql(
            "INSERT INTO users (username, password, email, is_active, user_type) "
            "SELECT %s || i, u.password, %s || i || '@example.org', true, 'human' "
            "FROM users u, generate_series(1, %d) i WHERE u.username = %s"
            % (_sql(LOGIN_USER_PREFIX), _sql(LOGIN_USER_PREFIX), nlogin, _sql(BENCH_ADMIN)))
        stack.psql(
            "INSERT INTO email_addresses (user_id, email, verified, is_primary) "
            "SELECT id, email, true, true FROM users WHERE username LIKE %s"
            % _sql(LOGIN_USER_PREFIX + "%"))


def _cookies(headers, jar):
    for k, v in headers:
        if k.lower() == "set-cookie":
            name, _, rest = v.partition("=")
            jar[name.strip()] = rest.split(";", 1)[0]
    return jar


def logged_in_variants(base_url, stack=None):
    """[(label, {header: value})]: a browser session (cookie sessionid) and
    an API token (Authorization: Token), both of BENCH_ADMIN."""
    if stack is None:
        say("external stack: no logged-in variants (accounts cannot be created)")
        return []
    create_bench_users(stack, LOGIN_COUNT)
    # browser client: GET config for the csrftoken cookie, then log in
    jar = {}
    st, hdrs, body = http_request("GET", base_url + "/auth-api/browser/v1/config")
    _cookies(hdrs, jar)
    if st != 200 or "csrftoken" not in jar:
        raise HarnessError("browser config answered %d without csrftoken: %r" % (st, body[:300]))

    def browser_post(path, doc):
        h = {"Cookie": "; ".join("%s=%s" % kv for kv in jar.items()),
             "X-CSRFToken": jar["csrftoken"], "Content-Type": "application/json",
             "Referer": base_url + "/"}
        st, hdrs, body = http_request("POST", base_url + path, json.dumps(doc).encode(), h)
        _cookies(hdrs, jar)
        return st, body
    st, body = browser_post("/auth-api/browser/v1/auth/login",
                            {"username": BENCH_ADMIN, "password": BENCH_PASSWORD})
    if st != 200 or not jar.get("sessionid"):
        raise HarnessError("browser login answered %d: %r" % (st, body[:300]))
    session = jar["sessionid"]
    st, body = browser_post("/api/auth/auth_tokens/", {"name": "bench"})
    try:
        token = json.loads(body).get("token") if st == 201 else None
    except ValueError:
        token = None
    if not token:
        raise HarnessError("POST /api/auth/auth_tokens/ answered %d: %r" % (st, body[:300]))
    for label, h in (("session", {"Cookie": "sessionid=" + session}),
                     ("token", {"Authorization": "Token " + token})):
        st, _, body = http_request("GET", base_url + "/api/auth/current_user/", headers=h)
        if st != 200 or b'"username"' not in body:
            raise HarnessError("current_user [%s] answered %d: %r" % (label, st, body[:300]))
    return [("session", {"Cookie": "sessionid=" + session}),
            ("token", {"Authorization": "Token " + token})]


def reader_variants(base_url, data):
    """[(label, headers)] of the bench user of gen_data.py (not staff, not
    superuser; textbooks visible by role assignments): a browser session
    (its password is a copy of BENCH_ADMIN's hash) and its API token."""
    jar = {}
    st, hdrs, body = http_request("GET", base_url + "/auth-api/browser/v1/config")
    _cookies(hdrs, jar)
    if st != 200 or "csrftoken" not in jar:
        raise HarnessError("browser config answered %d without csrftoken: %r" % (st, body[:300]))
    h = {"Cookie": "csrftoken=" + jar["csrftoken"], "X-CSRFToken": jar["csrftoken"],
         "Content-Type": "application/json", "Referer": base_url + "/"}
    st, hdrs, body = http_request("POST", base_url + "/auth-api/browser/v1/auth/login",
                                  json.dumps({"username": data["reader"],
                                              "password": BENCH_PASSWORD}).encode(), h)
    _cookies(hdrs, jar)
    if st != 200 or not jar.get("sessionid"):
        raise HarnessError("login of %s answered %d: %r" % (data["reader"], st, body[:300]))
    out = [("reader session", {"Cookie": "sessionid=" + jar["sessionid"]}),
           ("reader token", {"Authorization": "Token " + data["reader_token"]})]
    for label, hh in out:
        st, _, body = http_request("GET", base_url + "/api/auth/current_user/", headers=hh)
        if st != 200 or data["reader"].encode() not in body:
            raise HarnessError("current_user [%s] answered %d: %r" % (label, st, body[:300]))
    return out


LANGS_REFRESH = "SELECT language FROM languages ORDER BY language"
PG_STATEMENT = re.compile(r"LOG:\s+(statement|execute [^:]*):")


def count_queries(stack, specs, repeat=3):
    """Statements PostgreSQL executes for one request: log_statement = all
    for the duration (ALTER SYSTEM + reload, which reaches the workers'
    open connections), then for each spec (name, variant, page_size, url,
    headers) a few unlogged requests (both workers warm), then `repeat`
    single requests, each counted as the "statement:"/"execute" lines the
    server logged while it ran (nothing else talks to PostgreSQL then).
    Returns a list of measurements."""
    log = stack.log_path("postgres")
    out = []
    stack.psql("ALTER SYSTEM SET log_statement = 'all'")
    stack.psql("SELECT pg_reload_conf()")
    time.sleep(0.5)
    try:
        for name, variant, size, url, headers in specs:
            for _ in range(4):
                http_get(url, headers)
            counts, st, doc = [], None, None
            for _ in range(repeat):
                time.sleep(0.2)
                mark = os.path.getsize(log)
                # (The pool runs without the cache by now; ask anyway.)
                st, body = http_get(url, dict(headers or {}, **{"Cache-Control": "no-cache"}))
                time.sleep(0.3)   # the backend's log lines
                with open(log, "rb") as f:
                    f.seek(mark)
                    text = f.read().decode("utf-8", "replace")
                # Not the request's: the workers' once-a-minute refresh of
                # the known languages (worker.c, langs_refresh) may fall
                # into the window.
                counts.append(sum(1 for line in text.splitlines()
                                  if PG_STATEMENT.search(line) and LANGS_REFRESH not in line))
                try:
                    doc = json.loads(body)
                except ValueError:
                    doc = None
            m = {"name": name, "variant": variant, "page_size": size, "status": st,
                 "statements": counts}
            if isinstance(doc, dict) and isinstance(doc.get("results"), list):
                m.update(rows=len(doc["results"]), count=doc.get("count"))
            out.append(m)
    finally:
        stack.psql("ALTER SYSTEM RESET log_statement")
        stack.psql("SELECT pg_reload_conf()")
    return out


def measure_query_counts(stack, base, collections, variants, skipped):
    """Queries per list request for QUERY_COUNT_LIST (each variant that
    measured it) and for QUERY_COUNT_REFERENCE as the admin, at each of
    QUERY_COUNT_PAGE_SIZES; "constant" per list and variant when every
    count is the same across page sizes and repeats."""
    specs, note = [], None
    if QUERY_COUNT_LIST in collections:
        for label, headers, names in variants:
            if (names is None or QUERY_COUNT_LIST in names) and \
                    "%s %s" % (QUERY_COUNT_LIST, label) not in skipped:
                for size in QUERY_COUNT_PAGE_SIZES:
                    specs.append((QUERY_COUNT_LIST, label, size, "%s%s?_page_size=%d"
                                  % (base, collections[QUERY_COUNT_LIST], size), headers))
    else:
        note = "%s is not in GET /api/: not measured" % QUERY_COUNT_LIST
    admin = [(label, h) for label, h, names in variants if label == "session"]
    if QUERY_COUNT_REFERENCE in collections and admin:
        for size in QUERY_COUNT_PAGE_SIZES:
            specs.append((QUERY_COUNT_REFERENCE, "admin " + admin[0][0], size,
                          "%s%s?_page_size=%d" % (base, collections[QUERY_COUNT_REFERENCE], size),
                          admin[0][1]))
    say("queries per list request: %d measurements (PostgreSQL log_statement = all)" % len(specs))
    ms = count_queries(stack, specs)
    constant = {}
    for m in ms:
        key = "%s %s" % (m["name"], m["variant"])
        constant.setdefault(key, set()).update(m["statements"])
    return {"method": "log_statement = all; statements logged during one request "
                      "(repeated, after warm-up requests)",
            "page_sizes": list(QUERY_COUNT_PAGE_SIZES), "measurements": ms,
            "constant": {k: len(v) == 1 for k, v in constant.items()},
            "reference": QUERY_COUNT_REFERENCE + " (as the admin; every row visible)",
            "note": note}


def measure_logins(base_url, n):
    """n sequential successful logins through the app API, each of another
    user (LOGIN_USER_PREFIX1..n), stopping at the first refusal (rate limit).
    Login is bounded by the argon2id hash and by the rate limits (per IP and
    per username), so wrk cannot drive it; this is its sequential figure."""
    lat, stopped = [], None
    for i in range(1, n + 1):
        doc = json.dumps({"username": "%s%d" % (LOGIN_USER_PREFIX, i),
                          "password": BENCH_PASSWORD}).encode()
        t0 = time.perf_counter()
        st, _, body = http_request("POST", base_url + APP_LOGIN, doc,
                                   {"Content-Type": "application/json"}, timeout=30)
        dt = time.perf_counter() - t0
        if st != 200:
            stopped = "login %d answered %d: %s" % (i, st, body[:200].decode("utf-8", "replace"))
            break
        lat.append(dt)
    out = {"endpoint": APP_LOGIN, "client": "app", "mode": "sequential, 1 connection, "
           "one login per user", "attempted": n, "logins": len(lat), "stopped": stopped,
           "note": "bounded by the argon2id password hash (interactive limits) and by the "
                   "login rate limits (per IP, per username); wrk cannot measure it"}
    if lat:
        s = sorted(lat)
        out.update(logins_per_s=len(lat) / sum(lat), mean_us=1e6 * sum(lat) / len(lat),
                   p50_us=1e6 * s[len(s) // 2], max_us=1e6 * s[-1],
                   latencies_us=[round(1e6 * x) for x in lat])
    return out


# --------------------------------------------------------------------------
# small helpers


def run_text(argv, **kw):
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=30, **kw)
        return (r.stdout + r.stderr).strip()
    except (OSError, subprocess.SubprocessError) as e:
        return "(%s)" % e


def machine_info():
    info = {
        "nproc": os.cpu_count(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "hostname": socket.gethostname(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "loadavg_before": list(os.getloadavg()),
    }
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu_model"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as f:
            info["mem_total_kib"] = int(f.readline().split()[1])
    except (OSError, ValueError, IndexError):
        pass
    commit = run_text(["git", "-C", REPO, "rev-parse", "HEAD"])
    info["git_commit"] = commit if re.fullmatch(r"[0-9a-f]{40}", commit) else None
    status = run_text(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"])
    info["git_dirty"] = bool(status) if info["git_commit"] else None
    info["nginx"] = run_text(["nginx", "-v"]).replace("nginx version: ", "")
    info["wrk"] = run_text(["wrk", "-v"]).splitlines()[0] if shutil.which("wrk") else None
    info["cc"] = run_text(["cc", "--version"]).splitlines()[0]
    return info


def proc_mem(pid):
    """VmRSS, VmHWM, RssAnon, RssFile (KiB) of pid, or None."""
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem"):
                    out[k] = int(v.split()[0])
    except (OSError, ValueError):
        return None
    return out if "VmRSS" in out else None


def proc_cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return [a.decode("utf-8", "replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return []


def proc_ppid(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def proc_table():
    """{pid: (ppid, cpu ticks user+system)} of every process now."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            out[int(d)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
        except (OSError, ValueError, IndexError):
            pass
    return out


def system_ticks():
    """(busy, irq+softirq, steal) ticks of all CPUs from /proc/stat.  Time
    in (soft)interrupts, e.g. loopback TCP, is not charged to processes."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]] + [0] * 8
    busy = sum(v[:8]) - v[3] - v[4]
    return busy, v[5] + v[6], v[7]


class CpuMeter:
    """CPU used by groups of processes (each a root pid and its
    descendants) during one measurement, in cores (1.0 = one CPU busy);
    "other" is the rest of the machine (noise from outside the bench)."""

    def __init__(self, groups):
        self.groups = groups       # [(name, callable -> [root pids])]
        self.hz = os.sysconf("SC_CLK_TCK")

    def _snap(self):
        table = proc_table()
        kids = {}
        for pid, (ppid, _) in table.items():
            kids.setdefault(ppid, []).append(pid)
        groups = {}
        for name, roots_fn in self.groups:
            ticks, todo = {}, list(roots_fn())
            while todo:
                pid = todo.pop()
                if pid in ticks or pid not in table:
                    continue
                ticks[pid] = table[pid][1]
                todo.extend(kids.get(pid, []))
            groups[name] = ticks
        return (groups, system_ticks(), time.monotonic(),
                resource.getrusage(resource.RUSAGE_CHILDREN))

    def start(self):
        self._start = self._snap()

    def stop(self):
        (g0, (b0, i0, s0), w0, r0), (g1, (b1, i1, s1), w1, r1) = self._start, self._snap()
        wall = max(w1 - w0, 1e-6)
        out = {}
        for name, _ in self.groups:
            # processes alive at the end; one that started during the run
            # counts whole, one that exited during it is lost (rare).
            ticks = sum(t - g0[name].get(pid, 0) for pid, t in g1[name].items())
            out[name] = max(0.0, ticks / self.hz / wall)
        # wrk: our only child that finished in between
        out["wrk"] = ((r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)) / wall
        out["irq"] = (i1 - i0) / self.hz / wall
        out["steal"] = (s1 - s0) / self.hz / wall
        out["machine"] = (b1 - b0) / self.hz / wall
        out["other"] = max(0.0, out["machine"] - sum(v for k, v in out.items() if k != "machine"))
        return {k: round(v, 2) for k, v in out.items()}


def children(ppid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit() and proc_ppid(int(d)) == ppid:
            out.append(int(d))
    return sorted(out)


def find_master():
    """An `openbook serve` master found in /proc (for --url), or None."""
    serving = set()
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        argv = proc_cmdline(int(d))
        if argv and os.path.basename(argv[0]) == "openbook" and "serve" in argv[1:]:
            serving.add(int(d))
    masters = [p for p in serving if proc_ppid(p) not in serving]
    if len(masters) == 1:
        return masters[0]
    if masters:
        say("several openbook masters running (%s): give --master-pid"
            % ", ".join(map(str, sorted(masters))))
    return None


def target_label(t):
    """A target's or point's name, with its variant unless it is the plain one."""
    return t["name"] + ("" if t["variant"] in ("-", "anonymous") else " [%s]" % t["variant"])


def say_point(t, c, res):
    say("%-16s c=%-4d %9s req/s  p50 %s ms  p99 %s ms  errors %s"
        % (target_label(t), c, "%.0f" % res["rps"] if res else "-", fmt_ms(res and res["p50_us"]),
           fmt_ms(res and res["p99_us"]), res["errors"] if res else "-"))


def add_target(targets, url, label, headers, plain_bytes, **t):
    """Adds the target asked as a browser asks (BROWSER), with the size of
    its answer on the wire; and, for a big answer that came compressed, the
    same without Accept-Encoding (variant label + IDENTITY)."""
    asked = dict(headers or {}, **BROWSER)
    st, zbody = http_get(url, asked)
    wire = len(zbody) if 200 <= st < 300 else plain_bytes
    targets.append(dict(t, url=url, variant=label, headers=asked, body_bytes=wire,
                        plain_bytes=plain_bytes))
    if wire < plain_bytes and plain_bytes >= SIZED_CEILING_MIN:
        targets.append(dict(t, url=url, variant=label + IDENTITY, headers=headers,
                            body_bytes=plain_bytes, plain_bytes=plain_bytes))


def http_get(url, headers=None, timeout=10):
    """(status, body bytes) of a GET; raises OSError."""
    u = urllib.parse.urlsplit(url)
    c = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=timeout)
    try:
        path = u.path + ("?" + u.query if u.query else "")
        c.request("GET", path or "/", headers=headers or {})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def http_request(method, url, body=None, headers=None, timeout=10):
    """(status, [(header, value)], body bytes); raises OSError."""
    u = urllib.parse.urlsplit(url)
    c = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=timeout)
    try:
        path = u.path + ("?" + u.query if u.query else "")
        c.request(method, path or "/", body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, r.getheaders(), r.read()
    finally:
        c.close()


def wait_port(port, proc, what, logpath, timeout=10):
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise HarnessError("%s exited with status %s; see %s" % (what, proc.returncode, logpath))
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise HarnessError("%s not listening on %d after %ds; see %s"
                               % (what, port, timeout, logpath))
        time.sleep(0.05)


def stop_proc(p, sig=signal.SIGTERM, wait=10):
    if p is None or p.poll() is not None:
        return
    try:
        p.send_signal(sig)
        p.wait(wait)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    except ProcessLookupError:
        pass


# --------------------------------------------------------------------------
# the ceilings: test/bench/ceiling.c and nginx `return 200`, behind an nginx
# configured like deploy/nginx/openbook.conf for the FastCGI part


def check_ceiling_mirrors_shipped_conf():
    """The ceiling's nginx must handle FastCGI answers as the shipped server
    block does (buffers, keep-alive, timeouts): a ceiling with other
    settings would not be a ceiling of the same thing."""
    with open(os.path.join(REPO, "deploy", "nginx", "openbook.conf")) as f:
        shipped = re.findall(r"^    (fastcgi_(?:buffer|buffers|busy_buffers_size|keep_conn|"
                             r"connect_timeout|send_timeout|read_timeout)\b[^;]*;)", f.read(), re.M)
    mine = {line.strip() for line in CEILING_NGINX.splitlines()}
    missing = [d for d in shipped if d not in mine]
    if not shipped or missing:
        raise HarnessError("CEILING_NGINX does not mirror deploy/nginx/openbook.conf: %s"
                           % (", ".join(missing) or "no fastcgi_ directives found"))


def build_ceiling():
    os.makedirs(BUILD_DIR, exist_ok=True)
    pc = subprocess.run(["pkg-config", "--cflags", "--libs", "fcgi"],
                        capture_output=True, text=True)
    if pc.returncode != 0:
        raise HarnessError("pkg-config fcgi failed (libfcgi-dev missing? run `make deps`): %s"
                           % pc.stderr.strip())
    cc = os.environ.get("CC") or "cc"
    argv = [cc, "-O2", "-o", CEILING_BIN, CEILING_SRC] + pc.stdout.split()
    r = subprocess.run(argv, capture_output=True, text=True)
    if r.returncode != 0:
        raise HarnessError("building the ceiling failed: %s\n%s" % (" ".join(argv), r.stderr))
    return argv


CEILING_NGINX = """\
# Written by test/bench/bench.py: the benchmark's ceilings.  The FastCGI
# part mirrors deploy/nginx/openbook.conf (same params, keep-alive rule,
# worker_processes and access log as the local stack's nginx).
{user}daemon off;
master_process on;
worker_processes 1;
pid {run}/nginx.pid;
error_log {log}/nginx-error.log warn;
events {{
    worker_connections 1024;
}}
http {{
    include mime.types;
    default_type application/octet-stream;
    access_log {log}/nginx-access.log;
    client_body_temp_path {temp}/body;
    fastcgi_temp_path {temp}/fastcgi;
    proxy_temp_path {temp}/proxy;
    scgi_temp_path {temp}/scgi;
    uwsgi_temp_path {temp}/uwsgi;

    upstream bench_ceiling {{
        server unix:{sock};
        {keepalive}
        keepalive_timeout 60s;
    }}

    map $http_host $openbook_host_port {{
        default                          "";
        "~:(?<openbook_port>[0-9]{{1,5}})$" ":$openbook_port";
    }}

    map $http_x_request_id $openbook_request_id {{
        default                            $request_id;
        "~^[-A-Za-z0-9._:@+=/]{{1,128}}$"    $http_x_request_id;
    }}

    server {{
        listen 127.0.0.1:{port};
        server_name bench-ceiling;
        server_tokens off;
        client_max_body_size 2560k;
        client_body_buffer_size 256k;

        fastcgi_param HTTP_HOST $host$openbook_host_port;
        include fastcgi_params;
        fastcgi_param HTTP_X_FORWARDED_PROTO $scheme;
        fastcgi_param HTTP_X_FORWARDED_HOST $host$openbook_host_port;
        fastcgi_param HTTP_X_FORWARDED_FOR $remote_addr;
        fastcgi_param HTTP_PROXY "";
        fastcgi_param HTTP_X_REQUEST_ID $openbook_request_id;

        fastcgi_keep_conn on;
        fastcgi_buffer_size 32k;
        fastcgi_buffers 16 32k;
        fastcgi_busy_buffers_size 64k;
        fastcgi_connect_timeout 5s;
        fastcgi_send_timeout 60s;
        fastcgi_read_timeout 60s;

        # nginx's own answer: the ceiling of nginx + wrk on this machine.
        location = /bench/return/ {{
            default_type application/json;
            add_header X-Content-Type-Options nosniff always;
            add_header X-Frame-Options DENY always;
            add_header Referrer-Policy same-origin always;
            add_header Vary "Accept, Cookie, Accept-Language" always;
            add_header Cache-Control "private, no-store" always;
            add_header Content-Language en always;
            add_header X-Request-Id $openbook_request_id always;
            return 200 '{body}';
        }}

        # Everything else: the minimal libfcgi responder.
        location / {{
            fastcgi_pass bench_ceiling;
        }}
    }}
}}
"""


class Ceilings:
    """ceiling.c (nprocs processes) + an nginx in front of it, under root."""

    def __init__(self, root, nprocs, keepalive_line):
        self.root = root
        self.nprocs = nprocs
        self.keepalive_line = keepalive_line
        self.port = free_port()
        self.sock = os.path.join(root, "run", "ceiling.sock")
        self.log_dir = os.path.join(root, "log")
        self.ceiling = None
        self.nginx = None
        self._logs = []

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def _spawn(self, argv, logname):
        log = open(os.path.join(self.log_dir, logname), "ab", buffering=0)
        self._logs.append(log)
        return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                cwd=self.root, start_new_session=True)

    def start(self):
        ndir = os.path.join(self.root, "nginx")
        temp = os.path.join(ndir, "temp")
        for d in (os.path.join(self.root, "run"), self.log_dir, ndir):
            os.makedirs(d, exist_ok=True)
        for sub in ("body", "fastcgi", "proxy", "scgi", "uwsgi"):
            os.makedirs(os.path.join(temp, sub), exist_ok=True)
        for name in ("fastcgi_params", "mime.types"):
            shutil.copyfile(os.path.join("/etc/nginx", name), os.path.join(ndir, name))
        conf = os.path.join(ndir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(CEILING_NGINX.format(
                user="user root;\n" if os.geteuid() == 0 else "",
                run=os.path.join(self.root, "run"), log=self.log_dir, temp=temp,
                sock=self.sock, keepalive=self.keepalive_line, port=self.port, body=BODY))

        self.ceiling = self._spawn([CEILING_BIN, self.sock, str(self.nprocs)], "ceiling.log")
        deadline = time.monotonic() + 10
        while not os.path.exists(self.sock):
            if self.ceiling.poll() is not None or time.monotonic() > deadline:
                raise HarnessError("ceiling did not start; see %s/ceiling.log" % self.log_dir)
            time.sleep(0.02)

        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        argv = [nginx, "-p", ndir + "/", "-c", conf, "-e",
                os.path.join(self.log_dir, "nginx-error.log")]
        r = subprocess.run(argv + ["-t", "-q"], capture_output=True, text=True)
        if r.returncode != 0:
            raise HarnessError("ceiling nginx -t failed:\n%s%s" % (r.stdout, r.stderr))
        self.nginx = self._spawn(argv, "nginx.log")
        wait_port(self.port, self.nginx, "ceiling nginx", self.log_dir)
        for path in ("/api/core/sites/health/", "/bench/return/"):
            st, body = http_get(self.url(path))
            if st != 200 or body != BODY.encode():
                raise HarnessError("ceiling %s answered %d %r" % (path, st, body[:200]))
        return self

    @property
    def pids(self):
        return children(self.ceiling.pid) if self.ceiling and self.ceiling.poll() is None else []

    def stop(self):
        stop_proc(self.nginx, signal.SIGQUIT)
        stop_proc(self.ceiling, signal.SIGTERM)
        for f in self._logs:
            f.close()
        self._logs = []


# --------------------------------------------------------------------------
# wrk


def wrk(url, connections, duration, headers=None, stop_after=None):
    """One wrk run with report.lua.  Returns the BENCH_JSON dict plus
    "wrk_argv", or {"harness_error": ...} when wrk gives no result.
    stop_after: stop once about this many responses arrived (duration is
    then only a limit)."""
    threads = max(1, min(2, connections))
    argv = ["wrk", "-t%d" % threads, "-c%d" % connections, "-d%ds" % max(1, int(duration)),
            "--timeout", "5s", "-s", LUA]
    for k, v in (headers or {}).items():
        argv += ["-H", "%s: %s" % (k, v)]
    argv.append(url)
    if stop_after:
        argv += ["--", str(-(-int(stop_after) // threads))]   # per thread, rounded up
    limit = max(60, duration * 3 + 30)
    try:
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    except OSError as e:
        return {"harness_error": "wrk: %s" % e, "wrk_argv": argv}
    timer = threading.Timer(limit, p.kill)
    timer.start()
    lines = []
    try:
        finished = 0
        for line in p.stdout:
            lines.append(line)
            if stop_after and line.startswith("BENCH_THREAD_DONE"):
                finished += 1
                if finished == threads:
                    p.send_signal(signal.SIGINT)
        err = p.stderr.read()
        p.wait()
    finally:
        timer.cancel()
        if p.poll() is None:
            p.kill()
            p.wait()
    if p.returncode == -signal.SIGKILL:
        return {"harness_error": "wrk killed after %ds" % limit, "wrk_argv": argv}
    r = subprocess.CompletedProcess(argv, p.returncode, "".join(lines), err)
    for line in r.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            try:
                res = json.loads(line[len("BENCH_JSON "):])
            except ValueError as e:
                return {"harness_error": "bad BENCH_JSON line: %s" % e, "wrk_argv": argv}
            res["wrk_argv"] = argv
            res["threads"] = threads
            return res
    return {"harness_error": "wrk status %d: %s" % (r.returncode, (r.stderr or r.stdout).strip()[-500:]),
            "wrk_argv": argv}


# --------------------------------------------------------------------------
# the run


def parse_conns(s):
    try:
        out = [int(x) for x in str(s).replace(" ", "").split(",") if x]
    except ValueError:
        raise HarnessError("bad connection list %r" % s)
    if not out or min(out) < 1:
        raise HarnessError("bad connection list %r" % s)
    return out


def discover(base_url):
    """(collections {name: path}, api_root_status) from GET /api/."""
    st, body = http_get(base_url + "/api/")
    if st != 200:
        raise HarnessError("GET /api/ answered %d: %r" % (st, body[:300]))
    try:
        root = json.loads(body)
    except ValueError:
        raise HarnessError("GET /api/ is not JSON: %r" % body[:300])
    out = {}
    for name, url in sorted(root.items()):
        if isinstance(url, str):
            out[name] = urllib.parse.urlsplit(url).path
    return out


def sample_rss(master_pid, worker_pids_fn):
    out = {"master": None, "workers": []}
    if master_pid:
        m = proc_mem(master_pid)
        if m:
            out["master"] = dict(pid=master_pid, **m)
    for pid in worker_pids_fn():
        m = proc_mem(pid)
        if m:
            out["workers"].append(dict(pid=pid, **m))
    return out


def fmt_ms(us):
    if us is None:
        return "-"
    ms = us / 1000.0
    return "%.2f" % ms if ms < 100 else "%.0f" % ms


def fmt_ratio(x):
    return "-" if x is None else "%.2f" % x


def main(argv=None):
    env = os.environ
    quick = env.get("BENCH_QUICK", "") not in ("", "0")
    ap = argparse.ArgumentParser(description="OpenBook benchmark next to a same-run ceiling "
                                             "(test/bench/README.md).")
    ap.add_argument("--url", help="measure a running stack at this base URL "
                                  "(e.g. http://127.0.0.1:8080) instead of starting one")
    ap.add_argument("--master-pid", type=int, help="with --url: the openbook master's pid "
                                                   "(default: found in /proc)")
    ap.add_argument("--quick", action="store_true", default=quick,
                    help="3 s per point, fewer points (or BENCH_QUICK=1)")
    ap.add_argument("--duration", type=int, help="seconds per point (default 10; quick 3)")
    ap.add_argument("--connections", help="comma-separated wrk connection counts "
                                          "(default 1,32,128; quick 1,32)")
    ap.add_argument("--workers", type=int, help="pool workers (default: BENCH_WORKERS or nproc)")
    ap.add_argument("--binary", default=os.path.join(REPO, "build", "openbook"),
                    help="openbook binary (default build/openbook, the release build)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--metrics-cost-only", action="store_true",
                    help="only compare metrics on and off (health and a cached list)")
    args = ap.parse_args(argv)

    duration = args.duration or int(env.get("BENCH_DURATION") or (3 if args.quick else 10))
    conns = parse_conns(args.connections or env.get("BENCH_CONNECTIONS")
                        or ("1,32" if args.quick else "1,32,128"))
    warm_s = 1 if args.quick else 3
    mem_short, mem_long = (2000, 20000) if args.quick else (10000, 100000)
    workers = args.workers or int(env.get("BENCH_WORKERS") or 0) or os.cpu_count() or 1

    if not shutil.which("wrk"):
        raise HarnessError("wrk not found (apt-get install wrk, or `make deps`)")
    if not args.url and not os.access(args.binary, os.X_OK):
        raise HarnessError("%s not found: build it first (make)" % args.binary)
    if args.metrics_cost_only:
        if args.url:
            raise HarnessError("--metrics-cost-only starts its own stack (no --url)")
        return run_metrics_cost_only(args, workers, duration, warm_s)

    result = {
        "machine": machine_info(),
        "settings": {
            "quick": args.quick, "duration_s": duration, "connections": conns,
            "wrk_threads": "min(2, connections)", "page_size": PAGE_SIZE,
            "warmup_s": warm_s, "memory_requests": [mem_short, mem_long],
        },
        "goals": {}, "points": [], "memory": None, "rss_after": None, "login": None,
        "harness_errors": [],
    }
    check_ceiling_mirrors_shipped_conf()
    say("build ceiling: %s" % " ".join(build_ceiling()))

    tmp = tempfile.mkdtemp(prefix="openbook-bench-")
    os.chmod(tmp, 0o755)   # lets PostgreSQL run as user "postgres" (stack.py)
    stack = ceil = None
    keep = args.keep
    try:
        # ---- the system under test
        if args.url:
            base = args.url.rstrip("/")
            master = args.master_pid or find_master()
            nworkers = len(children(master)) if master else workers
            workers_fn = (lambda: children(master)) if master else (lambda: [])
            result["settings"].update(stack="external", url=base, master_pid=master,
                                      workers=nworkers)
        else:
            say("starting the stack in %s (%d workers, binary %s)" % (tmp, workers, args.binary))
            # max_requests 0: workers are not recycled during the run, so the
            # memory check sees one process per worker from start to end.
            stack = Stack(os.path.join(tmp, "stack"), None, args.binary, REPO, workers=workers,
                          config={"server": {"max_requests": 0}})
            t0 = time.monotonic()
            stack.start()
            say("stack up in %.1fs at %s" % (time.monotonic() - t0, stack.url("/")))
            base = stack.url("").rstrip("/")
            master = stack.master_pid
            nworkers = workers
            workers_fn = stack.worker_pids
            result["settings"].update(stack="started", url=base, workers=workers,
                                      binary=os.path.relpath(args.binary, REPO),
                                      config_overrides={"server": {"max_requests": 0}})
            if keep:
                result["settings"]["stack_dir"] = stack.root

        # ---- the ceilings, same keep-alive rule as the stack's nginx
        keep_line = dict(Stack(os.path.join(tmp, "unused"), 1, workers=nworkers)
                         .nginx_substitutions())["keepalive 8;"]
        ceil = Ceilings(os.path.join(tmp, "ceiling"), nworkers, keep_line).start()
        result["settings"].update(ceiling_procs=nworkers,
                                  upstream_keepalive=keep_line.rstrip(";"))
        say("ceilings up at %s (%d libfcgi processes; upstream %s)"
            % (ceil.url("/"), nworkers, keep_line.rstrip(";")))

        # ---- what to measure
        collections = discover(base)
        targets = [
            {"name": "libfcgi ceiling", "kind": "ceiling", "path": HEALTH,
             "url": ceil.url(HEALTH), "variant": "-"},
            {"name": "nginx return", "kind": "ceiling", "path": "/bench/return/",
             "url": ceil.url("/bench/return/"), "variant": "-"},
            {"name": "health", "kind": "health", "path": HEALTH,
             "url": base + HEALTH, "variant": "anonymous", "headers": BROWSER},
        ]
        skipped = {}
        # (label, headers, collections measured: None = all)
        variants = [("anonymous", {}, None)] + \
            [(label, h, LOGGED_IN_COLLECTIONS) for label, h in logged_in_variants(base, stack)]
        data = None
        if stack:
            # After logged_in_variants: the bench user gets a copy of the
            # admin's password hash.
            t0 = time.monotonic()
            data = gen_data.load(stack.psql, password_from=BENCH_ADMIN)
            say("bench data in %.1fs: %s" % (time.monotonic() - t0, ", ".join(
                "%s %s" % (data[k], k) for k in ("library_groups", "textbooks", "textbook_pages",
                                                 "courses", "role_assignments", "users"))))
            result["data"] = {k: v for k, v in data.items() if k != "reader_token"}
            variants += [(label, h, CONTENT_LISTS) for label, h in reader_variants(base, data)]
        else:
            say("external stack: no bench data (gen_data.py needs the stack's database)")
        notes = []
        for name in CONTENT_LISTS:
            if name not in collections:
                notes.append("%s is not in GET /api/ (no such resource in this build): skipped"
                             % name)
        for n in notes:
            say("note: " + n)
        for label, headers, names in variants:
            for name, path in collections.items():
                if names is not None and name not in names:
                    continue
                url = "%s%s?_page_size=%d" % (base, path, PAGE_SIZE)
                st, body = http_get(url, headers)
                if not 200 <= st < 300:
                    skipped["%s %s" % (name, label)] = st
                    continue
                # A list answers {"count", "next", "previous", "results": [...]};
                # anything else the API root names (e.g. a singleton) is
                # measured too, without _page_size, but is no list.
                try:
                    doc = json.loads(body)
                except ValueError:
                    doc = None
                is_list = isinstance(doc, dict) and isinstance(doc.get("results"), list)
                if not is_list:
                    url = base + path
                # The bench data says how many textbooks each may see.
                if is_list and data and name == QUERY_COUNT_LIST and \
                        (label == "anonymous" or label.startswith("reader")):
                    want = data["visible_textbooks_anonymous" if label == "anonymous"
                                else "visible_textbooks_reader"]
                    if doc.get("count") != want:
                        notes.append("%s [%s]: count %s, but rule R on the bench data gives %d"
                                     % (name, label, doc.get("count"), want))
                        say("WARNING: " + notes[-1])
                add_target(targets, url, label, headers, len(body), name=name,
                           kind="list" if is_list else "other",
                           path=path + ("?_page_size=%d" % PAGE_SIZE if is_list else ""))
        # One textbook with its group and pages expanded: anonymously one
        # in a public group, as the bench user one that only its role shows.
        if data and CONTENT_RETRIEVE in collections:
            for label, headers, names in variants:
                if label != "anonymous" and (names is None or CONTENT_RETRIEVE not in names):
                    continue
                tid = data["public_textbook"] if label == "anonymous" else data["role_textbook"]
                path = "%s%s/?_expand=%s" % (collections[CONTENT_RETRIEVE], tid, CONTENT_EXPAND)
                st, body = http_get(base + path, headers)
                name = "%s/{id}" % CONTENT_RETRIEVE
                if not 200 <= st < 300:
                    skipped["%s %s" % (name, label)] = st
                    continue
                add_target(targets, base + path, label, headers, len(body), name=name,
                           kind="retrieve", path="%s{id}/?_expand=%s"
                           % (collections[CONTENT_RETRIEVE], CONTENT_EXPAND))
        else:
            notes.append("%s/{id}/?_expand=%s: skipped (%s)"
                         % (CONTENT_RETRIEVE, CONTENT_EXPAND,
                            "no bench data" if not data else
                            "%s is not in GET /api/" % CONTENT_RETRIEVE))
            say("note: " + notes[-1])
        # A ceiling that moves as many bytes as the biggest answer: against
        # the 17-byte one, an answer of 90 KiB measures the kernel copying
        # it (twice) as much as our code.
        big = [t for t in targets if (t.get("body_bytes") or 0) >= SIZED_CEILING_MIN]
        if big:
            size = max(t["body_bytes"] for t in big)
            q = "%s?bytes=%d" % (HEALTH, size)
            targets.insert(2, {"name": SIZED_CEILING, "kind": "ceiling", "path": q,
                               "url": ceil.url(q), "variant": "-", "body_bytes": size})
        result["collections"] = collections
        result["skipped"] = skipped
        result["notes"] = notes
        for k, st in skipped.items():
            say("not measured: %s answered %d" % (k, st))

        # ---- memory growth first: fresh workers, exact request counts
        say("memory check: %d then %d requests on %s" % (mem_short, mem_long, HEALTH))
        mem = {"endpoint": HEALTH, "connections": 32, "samples": []}
        mem["samples"].append(dict(requests=0, **sample_rss(master, workers_fn)))
        done = 0
        for goal_n in (mem_short, mem_long):
            res = wrk(base + HEALTH, 32, 600, stop_after=goal_n - done)
            if "harness_error" in res:
                result["harness_errors"].append("memory run: " + res["harness_error"])
                break
            done += res["requests"]
            mem["samples"].append(dict(requests=done, errors=res["errors"],
                                       **sample_rss(master, workers_fn)))
        result["memory"] = mem

        # ---- warm-up
        for t in targets:
            say("warm-up %s (%ds)" % (target_label(t), warm_s))
            wrk(t["url"], 32, warm_s, headers=t.get("headers"))

        # ---- CPU accounting per point (cores used by each part)
        def roots(*pids):
            return lambda: [p for p in pids if p]
        groups = [("pool", roots(master))]
        if stack:
            groups += [("postgres", roots(stack.procs["postgres"].pid)),
                       ("redis", roots(stack.procs["redis"].pid)),
                       ("nginx", roots(stack.procs["nginx"].pid))]
        groups += [("ceiling", roots(ceil.ceiling.pid)),
                   ("ceiling_nginx", roots(ceil.nginx.pid))]
        meter = CpuMeter(groups)

        # ---- measure: per connection count, the ceilings before AND after
        # the endpoints (their mean is the reference; the difference between
        # the two shows how steady the machine was)
        def run_point(t, c):
            meter.start()
            res = wrk(t["url"], c, duration, headers=t.get("headers"))
            cpu = meter.stop()
            if "harness_error" in res:
                result["harness_errors"].append("%s c=%d: %s" % (t["name"], c, res["harness_error"]))
                return None
            res["cpu_cores"] = cpu
            return res

        ceilings = [t for t in targets if t["kind"] == "ceiling"]
        endpoints = [t for t in targets if t["kind"] != "ceiling"]
        for c in conns:
            runs = {}
            for t in ceilings + endpoints + ceilings:
                res = run_point(t, c)
                runs.setdefault((t["name"], t["variant"]), []).append(res)
                say_point(t, c, res)
            for t in ceilings + endpoints:
                ok = [r for r in runs[(t["name"], t["variant"])] if r]
                point = {"name": t["name"], "kind": t["kind"], "path": t["path"],
                         "variant": t["variant"], "connections": c,
                         "body_bytes": t.get("body_bytes")}
                if ok:
                    n = len(ok)
                    point.update(
                        rps=sum(r["rps"] for r in ok) / n,
                        p50_us=sum(r["p50_us"] for r in ok) / n,
                        p99_us=sum(r["p99_us"] for r in ok) / n,
                        errors=sum(r["errors"] for r in ok),
                        cpu_cores={k: round(sum(r["cpu_cores"][k] for r in ok) / n, 2)
                                   for k in ok[0]["cpu_cores"]},
                        runs=ok)
                    if n == 2:
                        point["spread"] = (ok[1]["rps"] - ok[0]["rps"]) / point["rps"]
                else:
                    point["harness_error"] = "no result"
                result["points"].append(point)

        result["rss_after"] = sample_rss(master, workers_fn)
        result["machine"]["loadavg_after"] = list(os.getloadavg())

        # ---- metrics on against off (restarts the pool each way; before
        # the "no cache" pass, which needs the cache on for the cached list)
        if stack:
            result["metrics_cost"] = measure_metrics_cost(stack, base, collections, duration,
                                                          warm_s)
            master = stack.master_pid

        # ---- the content reads again without the response cache (a fresh
        # pool: `cache.enabled: false`), so the report shows what a miss
        # costs next to what the cache makes of repeats.  The query counts
        # below need it off too: a cached repeat runs no statement at all.
        if stack:
            say("restarting the pool with cache.enabled: false")
            stack.overrides.setdefault("cache", {})["enabled"] = False
            stack.restart_server()
            master = stack.master_pid
            content = [dict(t, variant=t["variant"] + UNCACHED) for t in endpoints
                       if t["kind"] in ("list", "retrieve") and
                       t["name"].split("/{")[0] in CONTENT_LISTS and
                       not t["variant"].endswith(IDENTITY)]
            for t in content:
                wrk(t["url"], 32, warm_s, headers=t.get("headers"))
            for c in conns:
                for t in content:
                    res = run_point(t, c)
                    say_point(t, c, res)
                    point = {"name": t["name"], "kind": t["kind"], "path": t["path"],
                             "variant": t["variant"], "connections": c}
                    if res:
                        point.update(rps=res["rps"], p50_us=res["p50_us"], p99_us=res["p99_us"],
                                     errors=res["errors"], cpu_cores=res["cpu_cores"], runs=[res])
                    else:
                        point["harness_error"] = "no result"
                    result["points"].append(point)

        # ---- queries per list request (after the wrk points: statement
        # logging must not slow them down; the cache is off by now)
        if stack:
            result["queries_per_request"] = measure_query_counts(
                stack, base, collections, variants, skipped)
        else:
            result["queries_per_request"] = {"detail": "not measured: external stack "
                                                       "(needs the stack's PostgreSQL log)"}

        # ---- login: its own section, after the RSS sample (argon2id's
        # memory must not show in it)
        if stack:
            say("login: %d sequential logins through %s" % (LOGIN_COUNT, APP_LOGIN))
            result["login"] = measure_logins(base, LOGIN_COUNT)
            lg = result["login"]
            say("login: %d/%d ok, %s logins/s, mean %s ms%s"
                % (lg["logins"], lg["attempted"],
                   "%.1f" % lg["logins_per_s"] if "logins_per_s" in lg else "-",
                   fmt_ms(lg.get("mean_us")), "; " + lg["stopped"] if lg["stopped"] else ""))
        else:
            result["login"] = {"detail": "not measured: external stack (no accounts)"}
        result["ceiling_rss_after"] = [dict(pid=p, **(proc_mem(p) or {})) for p in ceil.pids]
    except (HarnessError, StackError, OSError) as e:
        keep = True
        result["harness_errors"].append(str(e))
        say("ERROR: %s" % e)
        say("logs kept under %s" % tmp)
        finish(result, args.out)
        return 1
    finally:
        if ceil:
            ceil.stop()
        if stack:
            say("stopping the stack")
            stack.stop()
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp:
            say("kept %s" % tmp)

    finish(result, args.out)
    return 0


# --------------------------------------------------------------------------
# ratios, goals, output


def add_ratios(result):
    ceil, sizes = {}, {}
    for p in result["points"]:
        if p["kind"] == "ceiling" and "rps" in p:
            ceil[(p["name"], p["connections"])] = p["rps"]
        if p["name"] == SIZED_CEILING:
            sizes[p["connections"]] = p.get("body_bytes")
    for p in result["points"]:
        c = p["connections"]
        f, r = ceil.get(("libfcgi ceiling", c)), ceil.get(("nginx return", c))
        p["ratio_libfcgi"] = p["rps"] / f if "rps" in p and f else None
        p["ratio_return"] = p["rps"] / r if "rps" in p and r else None
        big = ceil.get((SIZED_CEILING, c))
        size = sizes.get(c)
        # Only answers of about its size: a 44 KB gzip answer against a
        # ceiling moving 90 KB would flatter it.
        if big and "rps" in p and p["kind"] != "ceiling" and size and \
                (p.get("body_bytes") or 0) >= SIZED_CEILING_MIN and \
                abs(p["body_bytes"] - size) <= size // 4:
            p["ratio_sized_ceiling"] = p["rps"] / big


def check_goals(result):
    goals = {}
    pts = [p for p in result["points"] if "rps" in p and p["variant"] == "anonymous"]

    def ratio_goal(kind, want):
        sel = [p for p in pts if p["kind"] == kind and p["ratio_libfcgi"] is not None]
        if not sel:
            return {"pass": None, "detail": "not measured"}
        worst = min(sel, key=lambda p: p["ratio_libfcgi"])
        return {"pass": all(p["ratio_libfcgi"] >= want for p in sel), "want": want,
                "worst": round(worst["ratio_libfcgi"], 3),
                "worst_at": "%s c=%d" % (worst["name"], worst["connections"]),
                "each": {"%s c=%d" % (p["name"], p["connections"]): round(p["ratio_libfcgi"], 3)
                         for p in sel}}

    # How far the numbers can be trusted: CPU taken by processes outside
    # the bench, and how much the ceilings moved during each connection count.
    others = [p["cpu_cores"].get("other", 0) for p in result["points"] if p.get("cpu_cores")]
    drifts = [abs(p["spread"]) for p in result["points"] if "spread" in p]
    q = {"max_other_cores": max(others) if others else None,
         "mean_other_cores": round(sum(others) / len(others), 2) if others else None,
         "max_ceiling_drift": round(max(drifts), 3) if drifts else None}
    q["reliable"] = bool(others) and max(others) <= MAX_OTHER_CORES and \
        (not drifts or max(drifts) <= MAX_DRIFT)
    result["quality"] = q

    rd = [p for p in result["points"] if "rps" in p and p["name"] == GOAL_READER_LIST and
          p["variant"].startswith("reader") and not p["variant"].endswith((UNCACHED, IDENTITY)) and
          p.get("ratio_libfcgi") is not None]
    if rd:
        worst = min(rd, key=lambda p: p["ratio_libfcgi"])
        at32 = [p for p in rd if p["connections"] == GOAL_P99_CONNS]
        goals["reader_list_vs_libfcgi"] = {
            "pass": all(p["ratio_libfcgi"] >= GOAL_READER_RATIO for p in rd), "want": GOAL_READER_RATIO,
            "worst": round(worst["ratio_libfcgi"], 3),
            "worst_at": "%s [%s] c=%d" % (worst["name"], worst["variant"], worst["connections"]),
            "each": {"[%s] c=%d" % (p["variant"], p["connections"]): round(p["ratio_libfcgi"], 3)
                     for p in rd}}
        goals["reader_list_p99_at_32"] = {
            "pass": bool(at32) and all(p["p99_us"] < GOAL_READER_P99_MS * 1000 for p in at32),
            "want_ms": GOAL_READER_P99_MS,
            "each_ms": {p["variant"]: round(p["p99_us"] / 1000, 3) for p in at32}}
    else:
        goals["reader_list_vs_libfcgi"] = {"pass": None, "detail": "not measured (no bench data)"}
    goals["health_vs_libfcgi"] = ratio_goal("health", GOAL_HEALTH_RATIO)
    goals["lists_vs_libfcgi"] = ratio_goal("list", GOAL_LIST_RATIO)
    # Not a goal: the big anonymous lists asked by a client that does not
    # accept gzip, reported next to the goal.
    ident = [p for p in result["points"] if "rps" in p and p["kind"] == "list" and
             p["variant"] == "anonymous" + IDENTITY and p.get("ratio_libfcgi") is not None]
    result["identity_lists"] = {
        "%s c=%d" % (p["name"], p["connections"]): round(p["ratio_libfcgi"], 3) for p in ident}

    sel = [p for p in pts if p["connections"] == GOAL_P99_CONNS and p["kind"] != "ceiling"]
    if sel:
        worst = max(sel, key=lambda p: p["p99_us"])
        goals["p99_at_32"] = {"pass": all(p["p99_us"] < GOAL_P99_MS * 1000 for p in sel),
                              "want_ms": GOAL_P99_MS, "worst_ms": round(worst["p99_us"] / 1000, 3),
                              "worst_at": worst["name"],
                              "each_ms": {p["name"]: round(p["p99_us"] / 1000, 3) for p in sel}}
    else:
        goals["p99_at_32"] = {"pass": None, "detail": "32 connections not measured"}

    mc = result.get("metrics_cost")
    goals["metrics_cost"] = {"pass": mc["pass"], "want": METRICS_COST_GOAL,
                             "each": {t: e["ratio"] for t, e in mc["endpoints"].items()}} \
        if mc else {"pass": None, "detail": "not measured (external stack)"}

    mem = result.get("memory") or {}
    samples = mem.get("samples") or []
    if len(samples) >= 3 and samples[-1]["workers"]:
        short, last = samples[1], samples[-1]
        by_pid_short = {w["pid"]: w["VmRSS"] for w in short["workers"]}
        rss = {w["pid"]: w["VmRSS"] for w in last["workers"]}
        growth = {pid: rss[pid] - by_pid_short[pid] for pid in rss if pid in by_pid_short}
        replaced = sorted(set(rss) ^ set(by_pid_short))
        goals["worker_rss"] = {"pass": max(rss.values()) < GOAL_RSS_KIB,
                               "want_kib": GOAL_RSS_KIB, "after_requests": last["requests"],
                               "max_kib": max(rss.values()),
                               "each_kib": {str(k): v for k, v in rss.items()}}
        goals["no_growth"] = {
            "pass": (not replaced and bool(growth)
                     and max(growth.values()) <= GROWTH_TOLERANCE_KIB),
            "tolerance_kib": GROWTH_TOLERANCE_KIB,
            "between_requests": [short["requests"], last["requests"]],
            "growth_kib": {str(k): v for k, v in growth.items()},
        }
        if replaced:
            goals["no_growth"]["detail"] = ("workers were replaced during the check (pids %s): "
                                            "recycling hides growth" % replaced)
    else:
        goals["worker_rss"] = {"pass": None, "detail": "no worker RSS (external stack without "
                                                       "--master-pid, or the memory run failed)"}
        goals["no_growth"] = dict(goals["worker_rss"])
    result["goals"] = goals


def print_summary(result):
    out = sys.stdout
    m = result["machine"]
    s = result["settings"]
    out.write("\nOpenBook benchmark  %s  commit %s%s  nproc %s  %s\n"
              % (m["date"], (m.get("git_commit") or "?")[:12], " (dirty)" if m.get("git_dirty") else "",
                 m["nproc"], m.get("cpu_model", "")))
    la = m.get("loadavg_before") or [0]
    if la[0] > 0.5:
        out.write("warning: load average %.2f before the run: something else is using the "
                  "CPUs; compare ratios, not absolute numbers\n" % la[0])
    out.write("stack: %s %s, %s workers; ceilings: %s libfcgi processes, upstream %s; "
              "wrk %ds per point\n\n"
              % (s.get("stack"), s.get("url"), s.get("workers"), s.get("ceiling_procs"),
                 s.get("upstream_keepalive"), s["duration_s"]))
    hdr = ("endpoint", "variant", "conns", "req/s", "x libfcgi", "x return", "p50 ms", "p99 ms", "errors",
           "drift")
    rows = []
    for p in result["points"]:
        name = p["name"] if p["kind"] == "ceiling" else p["path"]
        rows.append((name, p["variant"], str(p["connections"]),
                     "%.0f" % p["rps"] if "rps" in p else "FAILED",
                     fmt_ratio(p.get("ratio_libfcgi")), fmt_ratio(p.get("ratio_return")),
                     fmt_ms(p.get("p50_us")), fmt_ms(p.get("p99_us")),
                     str(p.get("errors", "-")),
                     "%+.0f%%" % (100 * p["spread"]) if "spread" in p else ""))
    widths = [max(len(r[i]) for r in rows + [hdr]) for i in range(len(hdr))]
    line = "  ".join("%-*s" if i < 2 else "%*s" for i in range(len(hdr)))

    def w(r):
        out.write((line % tuple(x for pair in zip(widths, r) for x in pair)).rstrip() + "\n")
    w(hdr)
    w(tuple("-" * n for n in widths))
    last_c = None
    for r in rows:
        if last_c is not None and r[2] != last_c:
            out.write("\n")
        last_c = r[2]
        w(r)

    out.write("(ceilings are measured before and after the endpoints: req/s is the mean, "
              "drift = after - before)\n")
    sized = [p for p in result["points"] if p.get("ratio_sized_ceiling") is not None]
    if sized:
        size = next((p["body_bytes"] for p in result["points"] if p["name"] == SIZED_CEILING), 0)
        out.write("\nanswers of %d KiB or more against the libfcgi ceiling answering %d bytes "
                  "(what moving that many bytes through nginx costs by itself):\n"
                  % (SIZED_CEILING_MIN // 1024, size))
        for p in sized:
            out.write("  %-50s %-16s c=%-4d %6d bytes  x big-body ceiling %s\n"
                      % (p["path"], p["variant"], p["connections"], p["body_bytes"],
                         fmt_ratio(p["ratio_sized_ceiling"])))

    cols = ["pool", "postgres", "redis", "nginx", "ceiling", "ceiling_nginx", "wrk", "irq",
            "steal", "other", "machine"]
    cpu_rows = [p for p in result["points"] if p.get("cpu_cores")]
    if cpu_rows:
        out.write("\nCPU during each point, in cores (of %s; \"other\" = outside the bench):\n"
                  % m["nproc"])
        hdr2 = ["endpoint", "conns"] + [c.replace("ceiling_nginx", "ceil-nginx") for c in cols]
        rows2 = [[target_label(p),
                  str(p["connections"])] +
                 ["%.2f" % p["cpu_cores"].get(c, 0) for c in cols] for p in cpu_rows]
        w2 = [max(len(r[i]) for r in rows2 + [hdr2]) for i in range(len(hdr2))]
        for r in [hdr2] + rows2:
            out.write("  " + "  ".join(x.ljust(w2[i]) if i == 0 else x.rjust(w2[i])
                                       for i, x in enumerate(r)).rstrip() + "\n")

    mem = result.get("memory") or {}
    if mem.get("samples"):
        out.write("\nmemory check (%s, %d connections), VmRSS KiB:\n"
                  % (mem["endpoint"], mem["connections"]))
        for smp in mem["samples"]:
            ws = ", ".join("%d: %d" % (x["pid"], x["VmRSS"]) for x in smp["workers"]) or "-"
            ms = smp["master"]["VmRSS"] if smp.get("master") else "-"
            out.write("  after %7d requests: master %s; workers %s\n" % (smp["requests"], ms, ws))
    ra = result.get("rss_after") or {}
    if ra:
        out.write("RSS after the run (KiB, VmRSS / RssAnon): master %s; workers %s\n" % (
            "%d / %d" % (ra["master"]["VmRSS"], ra["master"].get("RssAnon", 0)) if ra.get("master") else "-",
            ", ".join("%d: %d / %d" % (x["pid"], x["VmRSS"], x.get("RssAnon", 0))
                      for x in ra.get("workers", [])) or "-"))
    if result.get("ceiling_rss_after"):
        out.write("libfcgi ceiling processes (KiB VmRSS): %s\n" % ", ".join(
            str(x.get("VmRSS", "-")) for x in result["ceiling_rss_after"]))

    qp = result.get("queries_per_request") or {}
    if qp:
        out.write("\nqueries per list request (%s):\n" % qp.get("method", ""))
        for m in qp.get("measurements", []):
            out.write("  %-26s %-16s page size %4d: %s rows of %s, statements %s\n"
                      % (m["name"], m["variant"], m["page_size"], m.get("rows", "-"),
                         m.get("count", "-"), "/".join(str(x) for x in m["statements"])))
        for k, v in (qp.get("constant") or {}).items():
            out.write("  %s: %s\n" % (k, "constant" if v else "NOT CONSTANT"))
        for k in ("note", "detail"):
            if qp.get(k):
                out.write("  %s\n" % qp[k])
    if result.get("notes"):
        out.write("\nnotes:\n" + "".join("  %s\n" % n for n in result["notes"]))
    d = result.get("data")
    if d:
        out.write("\nbench data (gen_data.py): %s\n" % ", ".join(
            "%s %s" % (d[k], k) for k in ("library_groups", "textbooks", "textbook_pages",
                                          "courses", "role_assignments", "users") if k in d))

    lg = result.get("login") or {}
    if lg:
        out.write("\nlogin (%s; %s):\n" % (lg.get("endpoint", APP_LOGIN), lg.get("mode", "")))
        if "logins_per_s" in lg:
            out.write("  %d/%d logins ok: %.1f logins/s per worker, mean %s ms, p50 %s ms, "
                      "max %s ms\n" % (lg["logins"], lg["attempted"], lg["logins_per_s"],
                                       fmt_ms(lg["mean_us"]), fmt_ms(lg["p50_us"]),
                                       fmt_ms(lg["max_us"])))
        if lg.get("stopped"):
            out.write("  stopped: %s\n" % lg["stopped"])
        if lg.get("detail"):
            out.write("  %s\n" % lg["detail"])
        if lg.get("note"):
            out.write("  (%s)\n" % lg["note"])

    mc = result.get("metrics_cost")
    if mc:
        out.write("\nmetrics on vs off (c=%d, %d rounds, %d scrapes): %s\n"
                  % (mc["connections"], mc["rounds"], mc["scrapes"]["ok"],
                     "PASS" if mc["pass"] else "FAIL"))
        for t, e in mc["endpoints"].items():
            out.write("  %-20s off %8.0f  on %8.0f req/s  ratio %s (want >= %.2f)  "
                      "p99 %s / %s ms  pool CPU %.1f / %.1f us per request\n"
                      % (t, e["rps_off"], e["rps_on"], "%.3f" % e["ratio"] if e["ratio"] else "-",
                         mc["want_ratio"], fmt_ms(e["p99_us_off"]), fmt_ms(e["p99_us_on"]),
                         e["pool_cpu_us_per_request_off"], e["pool_cpu_us_per_request_on"]))

    q = result.get("quality") or {}
    if q.get("max_other_cores") is not None:
        out.write("\nmeasurement quality: %s (CPU used outside the bench: mean %.2f, max %.2f "
                  "cores; ceiling drift up to %s)\n"
                  % ("ok" if q["reliable"] else "UNRELIABLE: rerun on a quiet machine",
                     q["mean_other_cores"], q["max_other_cores"],
                     "%.0f%%" % (100 * q["max_ceiling_drift"]) if q["max_ceiling_drift"] is not None
                     else "-"))
    out.write("\ngoals (never fail the build):\n")
    names = {
        "health_vs_libfcgi": "health >= %.1f x libfcgi ceiling" % GOAL_HEALTH_RATIO,
        "lists_vs_libfcgi": "DB-backed anonymous lists >= %.1f x libfcgi ceiling" % GOAL_LIST_RATIO,
        "p99_at_32": "p99 < %g ms at %d connections" % (GOAL_P99_MS, GOAL_P99_CONNS),
        "worker_rss": "worker RSS < %d MiB after the long memory run" % (GOAL_RSS_KIB // 1024),
        "no_growth": "no worker RSS growth between the short and long memory run (<= %d KiB)"
                     % GROWTH_TOLERANCE_KIB,
        "reader_list_vs_libfcgi": "%s as the bench user (by role) >= %.1f x libfcgi ceiling"
                                  % (GOAL_READER_LIST, GOAL_READER_RATIO),
        "reader_list_p99_at_32": "%s as the bench user: p99 < %g ms at %d connections"
                                 % (GOAL_READER_LIST, GOAL_READER_P99_MS, GOAL_P99_CONNS),
        "metrics_cost": "metrics on >= %.2f x off (health, cached list)" % METRICS_COST_GOAL,
    }
    for k, g in result["goals"].items():
        mark = {True: "MET   ", False: "MISSED", None: "n/a   "}[g.get("pass")]
        if k in ("health_vs_libfcgi", "lists_vs_libfcgi", "reader_list_vs_libfcgi") and \
                "worst" in g:
            detail = "worst %.2f (%s)" % (g["worst"], g["worst_at"])
        elif k == "p99_at_32" and "worst_ms" in g:
            detail = "worst %.2f ms (%s)" % (g["worst_ms"], g["worst_at"])
        elif k == "metrics_cost" and "each" in g:
            detail = ", ".join("%s %s" % (t, "%.3f" % r if r else "-") for t, r in g["each"].items())
        elif k == "reader_list_p99_at_32" and "each_ms" in g:
            detail = ", ".join("%s %.2f ms" % kv for kv in g["each_ms"].items())
        elif k == "worker_rss" and "max_kib" in g:
            detail = "max %.1f MiB after %d requests" % (g["max_kib"] / 1024, g["after_requests"])
        elif k == "no_growth" and "growth_kib" in g:
            detail = "growth KiB %s between %d and %d requests%s" % (
                ", ".join("%s" % v for v in g["growth_kib"].values()) or "-",
                g["between_requests"][0], g["between_requests"][1],
                "; " + g["detail"] if "detail" in g else "")
        else:
            detail = g.get("detail", "")
        out.write("  %s  %-66s %s\n" % (mark, names.get(k, k), detail))
    if result.get("identity_lists"):
        out.write("  (info)  %-66s %s\n" % (
            "the same anonymous lists without Accept-Encoding (not a goal)",
            ", ".join("%s %.2f" % kv for kv in result["identity_lists"].items())))
    if result["harness_errors"]:
        out.write("\nharness errors:\n" + "".join("  %s\n" % e for e in result["harness_errors"]))
    out.flush()


def finish(result, path):
    add_ratios(result)
    check_goals(result)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(result, f, indent=1, sort_keys=False)
        f.write("\n")
    os.replace(tmp, path)
    print_summary(result)
    print("\nresult: %s" % os.path.relpath(path, os.getcwd()))


if __name__ == "__main__":
    try:
        sys.exit(main())
    except HarnessError as e:
        say("ERROR: %s" % e)
        sys.exit(1)
    except KeyboardInterrupt:
        say("interrupted")
        sys.exit(1)
