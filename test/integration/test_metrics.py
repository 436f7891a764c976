"""Operations: the pool's and the relay's Prometheus endpoints
(metrics.listen, relay.metrics_listen), the JSON log format and the
request id (X-Request-Id) through nginx.

One stack with both endpoints on, server.log_format json and two workers.
Tests run in name order; none of them stops a process the others need.
"""

import json
import os
import re
import signal
import socket
import time
import unittest

import support
from test_relay_client import (WSClient, make_ticket, publish, stack_redis, stack_ticket_key,
                               start_redis_same_port, stop_redis)

STACK = None
WORKERS = 2
PER_USER = 2                       # relay.max_connections_per_user
METRICS_PORT = RELAY_METRICS_PORT = None

LATENCY_BUCKETS = ["0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
                   "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"]
STATEMENT_BUCKETS = ["0", "1", "2", "4", "8", "16", "32", "64", "+Inf"]
LANGUAGES = "/api/core/languages/"
HEALTH = "/api/core/sites/health/"
COURSE = "course:3629d56b-e3ae-41c9-8438-0046e057a69b"
HEX32 = re.compile(r"^[0-9a-f]{32}$")


def setUpModule():
    global STACK, METRICS_PORT, RELAY_METRICS_PORT
    METRICS_PORT, RELAY_METRICS_PORT = support.free_port(), support.free_port()
    STACK = support.start_stack("metrics", workers=WORKERS, config={
        "metrics": {"listen": "127.0.0.1:%d" % METRICS_PORT},
        "server": {"log_format": "json"},
        "relay": {"metrics_listen": "127.0.0.1:%d" % RELAY_METRICS_PORT,
                  "max_connections_per_user": PER_USER},
    })
    support.StackTestCase.stack = STACK


def tearDownModule():
    support.StackTestCase.stack = None
    support.stop_stack(STACK)


# --------------------------------------------------------------------------
# The text format, read back


_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)')


def parse_metrics(text):
    """{(name, frozenset of (label, value)): float}, checking the syntax of
    every line on the way (HELP and TYPE before the samples of a family)."""
    out, typed = {}, set()
    for line in text.splitlines():
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            parts = line.split(" ", 3)
            if parts[1] == "TYPE":
                assert parts[3] in ("counter", "gauge", "histogram"), line
                typed.add(parts[2])
            continue
        m = _SAMPLE.match(line)
        assert m, "not a sample line: %r" % line
        name, labels, value = m.groups()
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        assert name in typed or base in typed, "sample before its TYPE: %r" % line
        pairs = []
        if labels:
            pos = 0
            while pos < len(labels):
                lm = _LABEL.match(labels, pos)
                assert lm, "bad labels in %r" % line
                value_text = re.sub(r"\\(.)", lambda e: {"n": "\n"}.get(e.group(1), e.group(1)),
                                    lm.group(2))
                pairs.append((lm.group(1), value_text))
                pos = lm.end()
        out[(name, frozenset(pairs))] = float(value)
    return out


def scrape(port=None, path="/metrics", method="GET"):
    s = socket.create_connection(("127.0.0.1", port or METRICS_PORT), timeout=10)
    try:
        s.sendall(("%s %s HTTP/1.1\r\nHost: metrics\r\n\r\n" % (method, path)).encode())
        buf = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            buf += d
    finally:
        s.close()
    return support.parse_http(buf)


def metrics(port=None):
    r = scrape(port)
    assert r.status == 200, repr(r)
    return parse_metrics(r.body.decode("utf-8"))


def value(m, name, **labels):
    return m.get((name, frozenset(labels.items())), 0.0)


def buckets(m, name, **labels):
    """le -> cumulative count of one histogram series."""
    out = {}
    for (n, ls), v in m.items():
        d = dict(ls)
        le = d.pop("le", None)
        if n == name + "_bucket" and d == labels:
            out[le] = v
    return out


def json_lines(text):
    """The JSON lines of a log (the stack's own "==== command" markers and
    blank lines left out); fails on anything else."""
    out = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("==== "):
            continue
        try:
            out.append(json.loads(line))
        except ValueError:
            raise AssertionError("log line is not JSON: %r" % line)
    return out


class Metrics(support.StackTestCase):
    def requests_of(self, m, route, method="GET", status="2xx"):
        return value(m, "openbook_http_requests_total", route=route, method=method, status=status)

    def test_0_endpoint(self):
        r = scrape()
        self.assertEqual(r.status, 200, repr(r))
        self.assertEqual(r.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8")
        parse_metrics(r.body.decode("utf-8"))
        head = scrape(method="HEAD")
        self.assertEqual((head.status, head.body), (200, b""))
        self.assertEqual(scrape(path="/").status, 404)
        r = scrape(method="POST")
        self.assertEqual((r.status, r.header("Allow")), (405, "GET, HEAD"))
        # Not a path of the public server: there /metrics is the API's 404.
        self.assertDetail(self.get("/metrics"), 404, "Not found.")
        self.assertDetail(self.get("/metrics/"), 404, "Not found.")

    def test_1_requests_move_the_counters(self):
        before = metrics()
        for _ in range(3):
            self.assertEqual(self.get(LANGUAGES).status, 200)
        self.assertEqual(self.get(LANGUAGES + "xx/").status, 404)
        self.assertEqual(self.req("DELETE", HEALTH).status, 405)
        after = metrics()
        self.assertEqual(self.requests_of(after, LANGUAGES) - self.requests_of(before, LANGUAGES),
                         3)
        # The route pattern, never the raw path: a bounded set of labels.
        item = "/api/core/languages/{code}/"
        self.assertEqual(self.requests_of(after, item, status="4xx")
                         - self.requests_of(before, item, status="4xx"), 1)
        self.assertEqual(self.requests_of(after, HEALTH, "DELETE", "4xx")
                         - self.requests_of(before, HEALTH, "DELETE", "4xx"), 1)
        routes = {dict(ls).get("route") for (n, ls) in after if "route" in dict(ls)}
        self.assertNotIn(LANGUAGES + "xx/", routes)
        self.assertTrue(all(r == "unmatched" or r.startswith("/") for r in routes), routes)

    def test_2_unmatched_paths_share_one_label(self):
        before = metrics()
        for i in range(3):
            self.assertEqual(self.get("/api/no-such-thing-%d/" % i).status, 404)
        after = metrics()
        self.assertEqual(self.requests_of(after, "unmatched", status="4xx")
                         - self.requests_of(before, "unmatched", status="4xx"), 3)
        text = scrape().body.decode()
        self.assertNotIn("no-such-thing", text)

    def test_3_latency_histogram(self):
        before = metrics()
        for _ in range(4):
            self.assertEqual(self.get(HEALTH).status, 200)
        m = metrics()
        b = buckets(m, "openbook_http_request_duration_seconds", route=HEALTH)
        self.assertEqual(sorted(b, key=lambda le: float(le)), LATENCY_BUCKETS)
        counts = [b[le] for le in LATENCY_BUCKETS]
        self.assertEqual(counts, sorted(counts), "buckets are cumulative")
        n = value(m, "openbook_http_request_duration_seconds_count", route=HEALTH)
        self.assertEqual(b["+Inf"], n)
        self.assertEqual(n - value(before, "openbook_http_request_duration_seconds_count",
                                   route=HEALTH), 4)
        total = value(m, "openbook_http_request_duration_seconds_sum", route=HEALTH)
        self.assertGreater(total, 0)
        self.assertLess(total, n * 30)   # seconds, not microseconds

    def test_4_statements_and_cache(self):
        # Every worker gets the same list more than once (pigeonhole: 2n+1
        # requests over n workers), so some answers come from a cache; the
        # first of a new list comes from the database.
        before = metrics()
        for _ in range(2 * WORKERS + 1):
            self.assertEqual(self.get(LANGUAGES + "?_page_size=7").status, 200)
        after = metrics()
        b = buckets(after, "openbook_db_statements_per_request")
        self.assertEqual(sorted(b, key=lambda le: float(le)), STATEMENT_BUCKETS)
        hits = (value(after, "openbook_response_cache_hits_total")
                - value(before, "openbook_response_cache_hits_total"))
        self.assertGreaterEqual(hits, 1)
        zero = b["0"] - buckets(before, "openbook_db_statements_per_request")["0"]
        self.assertGreaterEqual(zero, hits, "a cached answer runs no statement")
        self.assertGreater(value(after, "openbook_response_cache_bytes"), 0)
        self.assertGreater(value(after, "openbook_response_cache_entries"), 0)
        self.assertGreater(value(after, "openbook_db_statements_per_request_sum"),
                           value(before, "openbook_db_statements_per_request_sum"))

    def test_5_killed_worker_keeps_its_counts(self):
        support.wait_for(lambda: len(self.stack.worker_pids()) == WORKERS, 10, what="workers")
        for _ in range(6):
            self.assertEqual(self.get(HEALTH).status, 200)
        before = metrics()
        served = self.requests_of(before, HEALTH)
        self.assertGreaterEqual(served, 6)
        pids = self.stack.worker_pids()
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        support.wait_for(lambda: len(set(self.stack.worker_pids()) - set(pids)) == WORKERS, 20,
                         what="replacement workers")
        after = metrics()
        # Nothing asked in between: every count is exactly what it was.
        self.assertEqual(self.requests_of(after, HEALTH), served)
        self.assertEqual(value(after, "openbook_http_request_duration_seconds_count",
                               route=HEALTH),
                         value(before, "openbook_http_request_duration_seconds_count",
                               route=HEALTH))
        self.assertEqual(value(after, "openbook_worker_restarts_total", cause="crash")
                         - value(before, "openbook_worker_restarts_total", cause="crash"), WORKERS)
        support.wait_for(lambda: value(metrics(), "openbook_workers", state="idle") == WORKERS,
                         10, what="workers idle")
        # The new workers count on from there.
        self.assertEqual(self.get(HEALTH).status, 200)
        self.assertEqual(self.requests_of(metrics(), HEALTH), served + 1)
        # A dead worker's cache is gone, and so are its bytes.
        self.assertEqual(value(after, "openbook_response_cache_bytes"), 0)

    def test_6_rate_limit_refusals(self):
        before = metrics()
        body = {"username": "nobody-%d" % os.getpid(), "password": "wrong password 1"}
        answers = [support.request(self.port, "POST", "/auth-api/app/v1/auth/login",
                                   json_body=body) for _ in range(6)]
        # api-auth.md 4.2: the sixth failure is refused (400, its own code).
        self.assertIn(b"too_many_login_attempts", answers[-1].body, answers[-1])
        after = metrics()
        self.assertGreaterEqual(
            value(after, "openbook_ratelimit_refusals_total", limit="login_failed_user")
            - value(before, "openbook_ratelimit_refusals_total", limit="login_failed_user"), 1)

    def test_7_mail_outbox(self):
        self.stack.psql("INSERT INTO mail_outbox (recipient, subject, body) VALUES "
                        "('a@example.org', 'queued', 'x')")
        self.stack.psql("INSERT INTO mail_outbox (recipient, subject, body, attempts) VALUES "
                        "('b@example.org', 'given up', 'x', 1000)")

        def counted():
            m = metrics()
            return (value(m, "openbook_mail_outbox_messages", state="queued") >= 1 and
                    value(m, "openbook_mail_outbox_messages", state="failed") >= 1 and m)
        # A worker counts the outbox at most every 10 s (between requests or
        # when idle): keep the pool busy enough to get there.
        m = support.wait_for(lambda: self.get(HEALTH) and counted(), 40, interval=0.5,
                             what="the outbox in the metrics")
        self.assertEqual(value(m, "openbook_mail_outbox_up"), 1)
        self.assertGreater(value(m, "openbook_mail_outbox_counted_timestamp_seconds"),
                           time.time() - 120)

    def test_8_database_and_redis_reconnects(self):
        before = metrics()
        self.stack.restart_postgres()
        # Each worker finds its connection broken and makes a new one.
        support.wait_for(lambda: self.get(LANGUAGES + "?_page_size=3").status == 200, 30,
                         what="answers after the PostgreSQL restart")
        for _ in range(2 * WORKERS):
            self.get(LANGUAGES + "?_page_size=%d" % (4 + _))
        after = metrics()
        self.assertGreaterEqual(value(after, "openbook_db_reconnects_total")
                                - value(before, "openbook_db_reconnects_total"), 1)
        self.assertGreaterEqual(
            value(after, "openbook_db_errors_total", kind="lost")
            + value(after, "openbook_db_errors_total", kind="statement")
            - value(before, "openbook_db_errors_total", kind="lost")
            - value(before, "openbook_db_errors_total", kind="statement"), 1)
        # Redis: the login rate limits use it.
        before = after
        stop_redis(self.stack)
        try:
            body = {"username": "redis-%d" % os.getpid(), "password": "wrong password 2"}
            support.request(self.port, "POST", "/auth-api/app/v1/auth/login", json_body=body)
        finally:
            start_redis_same_port(self.stack)

        def reconnected():
            support.request(self.port, "POST", "/auth-api/app/v1/auth/login", json_body=body)
            m = metrics()
            return value(m, "openbook_redis_reconnects_total") > \
                value(before, "openbook_redis_reconnects_total") and m
        after = support.wait_for(reconnected, 30, interval=1.1, what="a Redis reconnect")
        errors = sum(value(after, "openbook_redis_errors_total", kind=k)
                     - value(before, "openbook_redis_errors_total", kind=k)
                     for k in ("connect", "io", "reply"))
        self.assertGreaterEqual(errors, 1)

    def test_9_dashboard_and_alerts_use_these_names(self):
        """deploy/grafana's dashboard and deploy/prometheus's alerts name only
        metrics that the pool or the relay export."""
        names = set()
        for port in (METRICS_PORT, RELAY_METRICS_PORT):
            names |= {re.sub(r"_(bucket|sum|count)$", "", n) for n, _ in metrics(port)}
        names |= {n + s for n in list(names) for s in ("_bucket", "_sum", "_count")}
        used = set()
        dashboard = os.path.join(support.REPO, "deploy", "grafana", "openbook-dashboard.json")
        with open(dashboard) as f:
            doc = json.load(f)
        for p in doc["panels"]:
            for t in p.get("targets", []):
                used |= set(re.findall(r"\bopenbook_[a-z_]+", t["expr"]))
        self.assertGreater(len(used), 20)
        with open(os.path.join(support.REPO, "deploy", "prometheus", "prometheus.yml")) as f:
            used |= set(re.findall(r"\bopenbook_[a-z_]+", f.read()))
        self.assertEqual(used - names, set())


class RelayMetrics(support.StackTestCase):
    def setUp(self):
        self.open = []
        # Tests before these restart Redis (the module shares one stack):
        # the relay refuses handshakes (503) until its link is up again.
        support.wait_for(lambda: value(self.relay(), "openbook_relay_redis_up") == 1, 30,
                         what="the relay's Redis link")

    def tearDown(self):
        for ws in self.open:
            ws.shutdown()

    def connect(self, uid=None, channels=(COURSE,)):
        ticket = make_ticket(stack_ticket_key(self.stack), list(channels), uid=uid)
        ws = WSClient.connect(("127.0.0.1", self.port), "/ws/events?ticket=%s" % ticket,
                              host="127.0.0.1:%d" % self.port,
                              origin="http://127.0.0.1:%d" % self.port,
                              protocols=("openbook.v1",))
        self.open.append(ws)
        self.assertEqual(ws.recv_action("subscribed"), {"channels": list(channels)})
        return ws

    def relay(self):
        return metrics(RELAY_METRICS_PORT)

    def test_relay_counters(self):
        before = self.relay()
        ws = self.connect()
        m = self.relay()
        self.assertEqual(value(m, "openbook_relay_connections_total")
                         - value(before, "openbook_relay_connections_total"), 1)
        self.assertGreaterEqual(value(m, "openbook_relay_connections"), 1)
        self.assertEqual(value(m, "openbook_relay_redis_up"), 1)
        # Deliveries and resumes.
        redis = stack_redis(self.stack)
        try:
            eid = publish(redis, COURSE, "course.updated", {"course": COURSE[7:], "op": "x"})
        finally:
            redis.close()
        self.assertEqual(ws.recv_action("event")["id"], eid)
        ws.send_action("resume", {"channel": COURSE, "last_event_id": eid})
        while ws.recv_json()["action"] != "resumed":
            pass
        m = self.relay()
        self.assertGreaterEqual(value(m, "openbook_relay_deliveries_total")
                                - value(before, "openbook_relay_deliveries_total"), 1)
        self.assertEqual(value(m, "openbook_relay_resumes_total")
                         - value(before, "openbook_relay_resumes_total"), 1)
        self.assertGreaterEqual(value(m, "openbook_relay_events_total")
                                - value(before, "openbook_relay_events_total"), 1)
        # One connection over the per-user limit: the oldest closes with 4429.
        first = self.connect(uid=4242)
        for _ in range(PER_USER):
            self.connect(uid=4242)
        self.assertEqual(first.expect_close(), 4429)
        m = self.relay()
        self.assertEqual(value(m, "openbook_relay_refusals_total", reason="user_limit")
                         - value(before, "openbook_relay_refusals_total", reason="user_limit"), 1)

    def test_relay_redis_reconnect(self):
        before = self.relay()
        stop_redis(self.stack)
        start_redis_same_port(self.stack)
        m = support.wait_for(lambda: (lambda m: value(m, "openbook_relay_redis_reconnects_total")
                                      > value(before, "openbook_relay_redis_reconnects_total")
                                      and m)(self.relay()), 30, what="the relay's reconnect")
        self.assertEqual(value(m, "openbook_relay_redis_up"), 1)


class Logging(support.StackTestCase):
    def access_lines(self, request_id):
        return [e for e in json_lines(self.stack.log_text("openbook"))
                if e.get("type") == "access" and e.get("request_id") == request_id]

    def test_request_id_from_nginx(self):
        r = self.get(LANGUAGES)
        rid = r.header("X-Request-Id")
        self.assertTrue(rid and HEX32.match(rid), repr(r))
        # The same id in the worker's access line and in nginx's access log.
        (line,) = support.wait_for(lambda: self.access_lines(rid), 5, what="the access line")
        self.assertEqual((line["method"], line["uri"], line["route"], line["status"]),
                         ("GET", LANGUAGES, LANGUAGES, 200))
        self.assertIn("id=%s" % rid, support.wait_for(
            lambda: "id=%s" % rid in self.stack.log_text("nginx-access")
            and self.stack.log_text("nginx-access"), 5, what="nginx's access line"))
        # Each request its own.
        self.assertNotEqual(self.get(LANGUAGES).header("X-Request-Id"), rid)

    def test_request_id_passed_through(self):
        rid = "lb-7f3a.2025:req/1=+@x"
        r = self.get(LANGUAGES + "nope/", headers={"X-Request-Id": rid})
        # Error bodies are the spec's, unchanged; the id is in a header only.
        self.assertEqual(r.json(), self.get(LANGUAGES + "nope/").json())
        self.assertEqual(list(r.json()), ["detail"])
        self.assertEqual(r.header_all("X-Request-Id"), [rid])
        (line,) = support.wait_for(lambda: self.access_lines(rid), 5, what="the access line")
        self.assertEqual((line["status"], line["route"]), (404, "/api/core/languages/{code}/"))
        # Malformed: replaced, not echoed (it would go into every log line).
        for bad in ("two words", "x" * 129, "semi;colon", "<script>"):
            r = self.get(HEALTH, headers={"X-Request-Id": bad})
            self.assertTrue(HEX32.match(r.header("X-Request-Id") or ""), (bad, repr(r)))

    def test_request_id_on_nginx_errors(self):
        # Answers nginx makes itself carry it too: the client's (413, 405)...
        rid = "nginx-error-1"
        r = support.raw_request(self.port, ("POST /api/ws/ticket/ HTTP/1.1\r\n"
                                            "Host: 127.0.0.1:%d\r\nX-Request-Id: %s\r\n"
                                            "Content-Type: application/json\r\n"
                                            "Content-Length: 3000000\r\nConnection: close\r\n\r\n"
                                            % (self.port, rid)).encode())
        self.assertEqual((r.status, r.header_all("X-Request-Id")), (413, [rid]), repr(r))
        self.assertEqual(r.json(), {"detail": "Request body too large."})
        r = self.req("TRACE", "/api/", headers={"X-Request-Id": rid})
        self.assertEqual((r.status, r.header_all("X-Request-Id")), (405, [rid]), repr(r))
        # ... or nginx's own when it did not get as far as the headers.
        r = support.raw_request(self.port, ("GET /api/?%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                                            "Connection: close\r\n\r\n"
                                            % ("q" * 9000, self.port)).encode())
        self.assertEqual(r.status, 414, repr(r))
        self.assertTrue(HEX32.match(r.header("X-Request-Id") or ""), repr(r))

    def test_every_line_is_json(self):
        self.get(HEALTH)
        lines = json_lines(self.stack.log_text("openbook"))
        self.assertTrue(lines)
        for e in lines:
            self.assertEqual(set(e) & {"time", "level", "pid"}, {"time", "level", "pid"}, e)
            self.assertRegex(e["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            self.assertIn(e["level"], ("debug", "info", "warning", "error"))
            self.assertTrue("msg" in e or e.get("type") == "access", e)
        access = [e for e in lines if e.get("type") == "access"]
        self.assertTrue(access)
        for e in access:
            self.assertTrue(e["request_id"], e)
            self.assertIsInstance(e["duration_ms"], (int, float))
            self.assertIsInstance(e["cached"], bool)
        # Lines the master writes outside any request have no id.
        self.assertTrue(any("master: serving" in e.get("msg", "") and "request_id" not in e
                            for e in lines))

    def test_warning_during_a_request_carries_its_id(self):
        # Redis is used lazily, only by requests (here: the login rate
        # limits): the first request of each worker after Redis went away
        # logs that, with its own id.
        rid = "redis-down-%d" % os.getpid()
        stop_redis(self.stack)
        try:
            for i in range(2 * WORKERS + 1):
                support.request(self.port, "POST", "/auth-api/app/v1/auth/login",
                                json_body={"username": rid, "password": "wrong password 3"},
                                headers={"X-Request-Id": "%s-%d" % (rid, i)})
        finally:
            start_redis_same_port(self.stack)
        warnings = [e for e in json_lines(self.stack.log_text("openbook"))
                    if e["level"] == "warning" and e.get("request_id", "").startswith(rid)]
        self.assertTrue(warnings, "no warning with the request's id")
        self.assertTrue(all("redis" in e["msg"] for e in warnings), warnings)


if __name__ == "__main__":
    unittest.main()
