#!/usr/bin/env python3
"""Benchmark of the WebSocket relay (issue "WebSocket relay", make bench).

    python3 test/bench/relay_bench.py [--connections 10000] [--rounds 20]
                                      [--events 50000] [--quick] [--relay BIN]
                                      [--out build/bench/relay.json]

Runs the release relay (build/openbook-relay) against a private
redis-server on unix sockets, with the load generator test/bench/relay_load.c
(one epoll process holding every socket; it mints tickets and publishes
with the app's script).  No nginx, PostgreSQL or FastCGI: only the relay
and Redis are on the measured path.  In one run it reports:

  1. connections held and relay RSS per connection at N idle connections
     (each subscribed to one shared channel)         goal < 16 KiB
  2. fan-out latency of one event to those N subscribers, publish ->
     receipt at the client, p50/p99 over all deliveries   goal p99 < 50 ms
  3. deliveries per second to 1,000 subscribers spread over 100 channels
     (10 per channel), events published as fast as Redis takes them
  4. relay CPU time (user + system) per delivered event in phase 3

The file descriptor limit is raised for this process and its children only
(setrlimit; as root the hard limit too), never system-wide.  Writes the
numbers to build/bench/relay.json.  Exit status 0 whatever the numbers;
1 when the harness fails.  Python 3 standard library only.
"""

import argparse
import json
import os
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BUILD = os.path.join(REPO, "build", "bench")
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


class BenchError(RuntimeError):
    pass


def log(msg):
    sys.stderr.write("relay-bench: %s\n" % msg)
    sys.stderr.flush()


def raise_nofile(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= want:
        return soft
    if hard != resource.RLIM_INFINITY and hard < want:
        if os.geteuid() != 0:
            raise BenchError("file descriptor hard limit %d < %d; run as root or lower "
                             "--connections" % (hard, want))
        hard = want
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return want


def build(relay_bin):
    if not relay_bin:
        r = subprocess.run(["make", "--no-print-directory", "-C", REPO, "build/openbook-relay"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise BenchError("make build/openbook-relay failed:\n%s%s" % (r.stdout, r.stderr))
        relay_bin = os.path.join(REPO, "build", "openbook-relay")
    os.makedirs(BUILD, exist_ok=True)
    load = os.path.join(BUILD, "relay_load")
    src = os.path.join(HERE, "relay_load.c")
    if not os.path.exists(load) or os.path.getmtime(load) < os.path.getmtime(src):
        cc = os.environ.get("CC", "cc")
        r = subprocess.run([cc, "-std=c17", "-O2", "-Wall", "-Wextra", "-o", load, src, "-lsodium"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise BenchError("cannot build relay_load:\n%s" % r.stderr)
    return relay_bin, load


def wait_socket(path, proc, what, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError("%s exited with status %s" % (what, proc.returncode))
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            s.close()
            return
        except OSError:
            time.sleep(0.05)
    raise BenchError("%s does not listen on %s" % (what, path))


def rss_kib(pid):
    with open("/proc/%d/statm" % pid) as f:
        return int(f.read().split()[1]) * PAGE // 1024


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK   # utime + stime


def parse_ok(line):
    if not line.startswith("ok "):
        raise BenchError("load generator: %s" % line.strip())
    out = {}
    for kv in line.split()[2:]:
        k, _, v = kv.partition("=")
        try:
            out[k] = float(v) if "." in v else int(v)
        except ValueError:
            out[k] = v
    return out


class Loader:
    def __init__(self, binary, relay_sock, redis_sock, secret):
        self.p = subprocess.Popen([binary, "--relay", relay_sock, "--redis", redis_sock,
                                   "--secret", secret],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def run(self, cmd):
        self.p.stdin.write(cmd + "\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        if not line:
            raise BenchError("load generator died during %r (status %s)" % (cmd, self.p.wait()))
        return parse_ok(line)

    def quit(self):
        try:
            self.p.stdin.write("quit\n")
            self.p.stdin.close()
            self.p.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            self.p.kill()
            self.p.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--connections", type=int, default=10000)
    ap.add_argument("--rounds", type=int, default=20, help="fan-out events (one at a time)")
    ap.add_argument("--events", type=int, default=50000, help="events in the throughput phase")
    ap.add_argument("--spread", type=int, default=1000, help="subscribers in the throughput phase")
    ap.add_argument("--channels", type=int, default=100, help="channels in the throughput phase")
    ap.add_argument("--quick", action="store_true", help="2,000 connections, fewer events")
    ap.add_argument("--relay", help="relay binary (default: make build/openbook-relay)")
    ap.add_argument("--out", default=os.path.join(BUILD, "relay.json"))
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args()
    if args.quick or os.environ.get("BENCH_QUICK") == "1":
        args.connections, args.rounds, args.events = 2000, 10, 20000

    relay_bin, load_bin = build(args.relay)
    load_before = os.getloadavg()[0]
    raise_nofile(args.connections + 1024)
    tmp = tempfile.mkdtemp(prefix="openbook-relay-bench-")
    redis_sock = os.path.join(tmp, "redis.sock")
    relay_sock = os.path.join(tmp, "relay.sock")
    secret = secrets.token_urlsafe(36)
    conf = os.path.join(tmp, "openbook.yaml")
    with open(conf, "w") as f:
        f.write("server:\n  development: true\n  log_level: warning\n  socket_mode: \"0600\"\n"
                "  backlog: 4096\n"
                "http:\n  allowed_hosts: [localhost]\n"
                "security:\n  secret_key: \"%s\"\n" % secrets.token_urlsafe(36) +
                "redis:\n  address: \"unix:%s\"\n" % redis_sock +
                "relay:\n  listen: \"unix:%s\"\n  max_connections: %d\n  ticket_secret: \"%s\"\n"
                % (relay_sock, args.connections + 100, secret))
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENBOOK_")}
    procs = []
    result = {}
    try:
        redis = subprocess.Popen(
            [shutil.which("redis-server") or "/usr/bin/redis-server", "--port", "0",
             "--unixsocket", redis_sock, "--save", "", "--appendonly", "no",
             "--daemonize", "no", "--dir", tmp, "--logfile", os.path.join(tmp, "redis.log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        procs.append(redis)
        wait_socket(redis_sock, redis, "redis-server")
        relay_log = open(os.path.join(tmp, "relay.log"), "wb")
        relay = subprocess.Popen([relay_bin, "-c", conf], stdin=subprocess.DEVNULL,
                                 stdout=relay_log, stderr=relay_log, env=env, cwd=tmp,
                                 start_new_session=True)
        procs.append(relay)
        wait_socket(relay_sock, relay, "openbook-relay")
        time.sleep(0.5)   # the Redis link
        loader = Loader(load_bin, relay_sock, redis_sock, secret)

        n = args.connections
        rss0 = rss_kib(relay.pid)
        log("opening %d connections ..." % n)
        c = loader.run("connect %d one:library:updates" % n)
        time.sleep(1.0)
        rss1 = rss_kib(relay.pid)
        per_conn = (rss1 - rss0) * 1024 / n
        result["idle"] = {"connections": c["total"], "connect_secs": c["secs"],
                          "relay_rss_kib_before": rss0, "relay_rss_kib_after": rss1,
                          "rss_bytes_per_connection": round(per_conn)}
        log("fan-out: %d events to %d subscribers ..." % (args.rounds, n))
        f = loader.run("fanout %d library:updates" % args.rounds)
        result["fanout"] = f
        loader.run("close")
        time.sleep(0.5)

        log("throughput: %d events over %d channels, %d subscribers ..."
            % (args.events, args.channels, args.spread))
        loader.run("connect %d spread:%d" % (args.spread, args.channels))
        cpu0 = cpu_seconds(relay.pid)
        t = loader.run("throughput %d %d" % (args.events, args.channels))
        cpu1 = cpu_seconds(relay.pid)
        t["relay_cpu_secs"] = round(cpu1 - cpu0, 3)
        t["relay_cpu_us_per_delivery"] = round((cpu1 - cpu0) * 1e6 / max(1, t["deliveries"]), 3)
        result["throughput"] = t
        loader.run("close")
        loader.quit()
        relay.send_signal(signal.SIGTERM)
        relay.wait(15)
        result["relay_exit_status"] = relay.returncode
    except BenchError as e:
        log(str(e))
        log("relay log:\n" + open(os.path.join(tmp, "relay.log")).read()[-2000:]
            if os.path.exists(os.path.join(tmp, "relay.log")) else "")
        return 1
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)

    result["load_average_at_start"] = round(load_before, 2)
    i, f, t = result["idle"], result["fanout"], result["throughput"]
    print("WebSocket relay (release build, unix sockets, %d CPUs shared by relay, load "
          "generator and Redis; load average %.2f at start)" % (os.cpu_count(), load_before))
    print("  connections held (one process)      %8d" % i["connections"])
    print("  relay RSS per idle connection       %8.1f KiB   (goal < 16 KiB; %d -> %d KiB)"
          % (i["rss_bytes_per_connection"] / 1024, i["relay_rss_kib_before"],
             i["relay_rss_kib_after"]))
    print("  fan-out to %d subscribers, latency  p50 %6.1f ms  p99 %6.1f ms  max %6.1f ms"
          % (f["subscribers"], f["p50_us"] / 1000, f["p99_us"] / 1000, f["max_us"] / 1000) +
          "   (goal p99 < 50 ms; %d events, %d missing)" % (f["rounds"], f["missing"]))
    print("  %d subscribers / %d channels           %8.0f deliveries/s  (%.0f events/s)"
          % (t["subscribers"], t["channels"], t["deliveries_per_s"], t["events_per_s"]))
    print("  relay CPU per delivered event       %8.2f us" % t["relay_cpu_us_per_delivery"])
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as fh:
        json.dump(result, fh, indent=2)
    print("  (written to %s)" % os.path.relpath(args.out, REPO))
    return 0


if __name__ == "__main__":
    sys.exit(main())
