"""The WebSocket relay through nginx /ws/ (websocket.md): tickets, the
handshake checks, events, resume, back-pressure, timers, limits, Redis
outages and graceful shutdown.

Tickets come from POST /api/ws/ticket/ when the route is registered; until
then (and for the deliberately bad tickets) the test signs them itself with
the stack's key, which also pins the ticket format.  Events are published
with the app's publish script (test_relay_client.PUBLISH_SCRIPT, the same
text as src/redis/events.c); events published by REST changes are in
test_relay_events.py.

Tests run in name order; test_9_* stops the relay.
"""

import hashlib
import json
import os
import secrets
import signal
import socket
import struct
import threading
import time
import unittest

import support
from test_relay_client import (OP_BINARY, OP_CLOSE, OP_PING, OP_PONG, OP_TEXT, HandshakeRefused,
                               WSClient, event_args, make_ticket, publish, stack_redis,
                               stack_ticket_key, start_redis_same_port, start_relay, stop_redis,
                               stop_relay)

STACK = None
RELAY = None
ROUTE = False        # POST /api/ws/ticket/ is registered
PING = 2             # relay.ping_interval
IDLE = 6             # relay.idle_timeout
MAX_CONN = 30        # relay.max_connections
PER_USER = 3         # relay.max_connections_per_user
QUEUE_FRAMES = 64    # relay.send_queue_max_frames

COURSE = "course:3629d56b-e3ae-41c9-8438-0046e057a69b"
TEXTBOOK = "textbook:6f1c0c35-3a35-4e43-9d6e-1f7d1c7d9a10"
USERS = {}           # username -> (id, token)


def setUpModule():
    global STACK, RELAY, ROUTE
    STACK = support.start_stack("relay", config={"relay": {
        "ping_interval": PING, "idle_timeout": IDLE, "max_connections": MAX_CONN,
        "max_connections_per_user": PER_USER, "send_queue_max_frames": QUEUE_FRAMES,
        "send_queue_max_bytes": 1048576}})

    def setup():
        global ROUTE
        r = support.request(STACK.port, "POST", "/api/ws/ticket/", json_body={"channels": []})
        ROUTE = r.status != 404
        for name, superuser in (("ws_alice", False), ("ws_bob", False), ("ws_root", True)):
            token = secrets.token_hex(32)
            uid = int(STACK.psql(
                "INSERT INTO users (username, is_superuser) VALUES ('%s', %s) RETURNING id"
                % (name, "true" if superuser else "false")).split()[0])
            STACK.psql("INSERT INTO auth_tokens (user_id, token_hash, token_prefix, name) "
                       "VALUES (%d, decode('%s', 'hex'), '%s', 'ws test')"
                       % (uid, hashlib.sha256(token.encode()).hexdigest(), token[:8]))
            USERS[name] = (uid, token)
    RELAY = start_relay(STACK, setup)


def tearDownModule():
    stop_relay(STACK, RELAY)


def key():
    return stack_ticket_key(STACK)


class Relay(support.StackTestCase):
    def setUp(self):
        self.open = []
        self.redis = stack_redis(STACK)

    def tearDown(self):
        for ws in self.open:
            ws.shutdown()
        self.redis.close()

    # ---- helpers

    def auth(self, user):
        return {"Authorization": "Token %s" % USERS[user][1]} if user else {}

    def ticket(self, channels, user=None):
        """A ticket for these channels, from the endpoint when it exists and
        can grant them (course/textbook need the content resources)."""
        if ROUTE and all(c.startswith(("user:", "library:")) for c in channels):
            r = self.req("POST", "/api/ws/ticket/", json_body={"channels": channels},
                         headers=self.auth(user))
            self.assertEqual(r.status, 200, repr(r))
            return r.json()["ticket"]
        return make_ticket(key(), channels, uid=USERS[user][0] if user else None)

    def connect(self, ticket, origin="auto", protocols=("openbook.v1",), **kw):
        if origin == "auto":
            origin = "http://127.0.0.1:%d" % self.port
        ws = WSClient.connect(("127.0.0.1", self.port), "/ws/events?ticket=%s" % ticket,
                              host="127.0.0.1:%d" % self.port, origin=origin,
                              protocols=protocols, **kw)
        self.open.append(ws)
        return ws

    def subscribed(self, channels, user=None, **kw):
        ws = self.connect(self.ticket(channels, user), **kw)
        self.assertEqual(ws.recv_action("subscribed"), {"channels": channels})
        return ws

    def refused(self, path, status, detail, origin="auto", **kw):
        if origin == "auto":
            origin = "http://127.0.0.1:%d" % self.port
        with self.assertRaises(HandshakeRefused) as cm:
            ws = WSClient.connect(("127.0.0.1", self.port), path, host="127.0.0.1:%d" % self.port,
                                  origin=origin, **kw)
            self.open.append(ws)
        e = cm.exception
        self.assertEqual(e.status, status, repr(e.body))
        self.assertEqual(e.json(), {"detail": detail})
        return e

    def publish(self, channel, etype="course.updated", payload=None):
        return publish(self.redis, channel, etype, payload or {"course": COURSE[7:], "op": "updated"})

    def event(self, ws, channel, eid, etype="course.updated", payload=None, timeout=10):
        m = ws.recv_action("event", timeout)
        self.assertEqual(m, {"channel": channel, "id": eid, "type": etype, "version": 1,
                             "payload": payload or {"course": COURSE[7:], "op": "updated"}})

    def until_resumed(self, ws):
        ids = []
        while True:
            m = ws.recv_json()
            if m["action"] == "resumed":
                return ids, m["payload"]
            self.assertEqual(m["action"], "event", m)
            ids.append(m["payload"]["id"])

    def relay_log(self):
        return STACK.log_text("relay")

    # ---- tickets

    def test_0_ticket_endpoint(self):
        if not ROUTE:
            self.skipTest("POST /api/ws/ticket/ is not routed yet (src/api/routes.c)")

        def post(body, user=None):
            return self.req("POST", "/api/ws/ticket/", json_body=body, headers=self.auth(user))

        for body, msg in [
            ({}, "This field is required."),
            ({"channels": "user:1"}, 'Expected a list of items but got type "str".'),
            ({"channels": []}, "This list may not be empty."),
            ({"channels": [True]}, "Not a valid string."),
            ({"channels": ["nope"]}, "Unknown channel 'nope'."),
            ({"channels": ["user:1"] * 65}, "Ensure this field has no more than 64 elements."),
        ]:
            self.assertJSON(post(body), 400, {"channels": [msg]})
        denied = {"detail": "You do not have permission to perform this action."}
        # library:updates needs view_htmllibrary, which nobody has by default.
        self.assertJSON(post({"channels": ["library:updates"]}), 403, denied)
        self.assertJSON(post({"channels": ["library:updates"]}, "ws_alice"), 403, denied)
        # A superuser may; so does anybody once it is an anonymous permission.
        r = self.assertJSON(post({"channels": ["library:updates", "user:%d" % USERS["ws_root"][0]]},
                                 "ws_root"), 200)
        self.assertEqual(r["channels"], ["library:updates", "user:%d" % USERS["ws_root"][0]])
        STACK.psql("INSERT INTO anonymous_permissions (permission_id) SELECT p.id FROM permissions p "
                   "JOIN content_types ct ON ct.id = p.content_type_id WHERE ct.app_label = "
                   "'openbook_core' AND p.codename = 'view_htmllibrary' ON CONFLICT DO NOTHING")
        alice, bob = USERS["ws_alice"][0], USERS["ws_bob"][0]
        r = self.assertJSON(post({"channels": [" library:updates ", "user:%d" % alice, COURSE,
                                               "user:%d" % bob, "library:updates"]}, "ws_alice"), 200)
        self.assertEqual(r["channels"], ["library:updates", "user:%d" % alice])
        self.assertEqual(r["denied"], [COURSE, "user:%d" % bob])
        self.assertRegex(r["expires_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        p = json.loads(__import__("base64").urlsafe_b64decode(r["ticket"].split(".")[0] + "=="))
        self.assertEqual(p["uid"], alice)
        self.assertEqual(p["ch"], ["library:updates", "user:%d" % alice])
        self.assertAlmostEqual(p["exp"], time.time() + 60, delta=5)
        # Anonymous: no user channels.
        r = self.assertJSON(post({"channels": ["library:updates", "user:%d" % alice]}), 200)
        self.assertEqual(r["denied"], ["user:%d" % alice])
        self.assertIsNone(json.loads(__import__("base64").urlsafe_b64decode(
            r["ticket"].split(".")[0] + "=="))["uid"])
        # A bad credential is refused before anything else.
        r = self.req("POST", "/api/ws/ticket/", json_body={"channels": ["library:updates"]},
                     headers={"Authorization": "Token nope"})
        self.assertJSON(r, 403, {"detail": "Invalid token received."})

    def test_1_connect_and_receive(self):
        if ROUTE:
            STACK.psql("INSERT INTO anonymous_permissions (permission_id) SELECT p.id FROM "
                       "permissions p JOIN content_types ct ON ct.id = p.content_type_id WHERE "
                       "ct.app_label = 'openbook_core' AND p.codename = 'view_htmllibrary' "
                       "ON CONFLICT DO NOTHING")
        ws = self.subscribed(["library:updates"])
        self.assertEqual(ws.protocol, "openbook.v1")
        payload = {"library": "d7d9b7a6-1f0e-4a53-8c31-2f0a4c0e5d11", "fqn": "@openbook/demo",
                   "version": "1.0.0", "version_id": "5a0c", "op": "installed"}
        eid = self.publish("library:updates", "library.installed", payload)
        self.event(ws, "library:updates", eid, "library.installed", payload)
        ws.send_action("ping")
        self.assertEqual(ws.recv_json(), {"action": "pong", "payload": None})
        # Without the subprotocol none is selected; without Origin (not a
        # browser) the ticket alone admits.
        ws2 = self.connect(self.ticket(["library:updates"]), origin=None, protocols=None)
        self.assertIsNone(ws2.protocol)
        ws2.recv_action("subscribed")

    def test_2_refusals(self):
        k = key()
        good = lambda: make_ticket(k, ["library:updates"])  # noqa: E731
        self.refused("/ws/events", 401, "Invalid or expired ticket.")
        self.refused("/ws/events?ticket=", 401, "Invalid or expired ticket.")
        self.refused("/ws/events?ticket=" + make_ticket(k, ["library:updates"],
                                                        exp=int(time.time()) - 1),
                     401, "Invalid or expired ticket.")
        forged = good()
        forged = forged[:-3] + ("AAA" if forged[-3:] != "AAA" else "BBB")
        self.refused("/ws/events?ticket=" + forged, 401, "Invalid or expired ticket.")
        foreign = make_ticket(b"another-installation-secret-0123456789", ["library:updates"])
        self.refused("/ws/events?ticket=" + foreign, 401, "Invalid or expired ticket.")
        used = good()
        self.connect(used).recv_action("subscribed")
        self.refused("/ws/events?ticket=" + used, 401, "Invalid or expired ticket.")
        self.refused("/ws/events?ticket=" + good(), 403, "Origin not allowed.",
                     origin="https://evil.example")
        self.refused("/ws/events?ticket=" + good(), 403, "Origin not allowed.", origin="null")
        self.refused("/ws/nope?ticket=" + good(), 404, "Not found.")
        # Not an upgrade at all, and a wrong version.
        r = self.get("/ws/events?ticket=" + good())
        self.assertJSON(r, 400, {"detail": "Bad WebSocket request."})
        e = self.refused("/ws/events?ticket=" + good(), 400, "Bad WebSocket request.",
                         headers={"Sec-WebSocket-Version": "8"})
        # (the client also sends 13; two versions are not 13)
        self.assertEqual(e.headers.get("sec-websocket-version"), "13")
        self.assertIn("refused Origin", self.relay_log())

    def test_2b_handshake_in_pieces(self):
        """Straight to the relay's socket: a request head that arrives in
        several reads, with a frame right behind it."""
        import base64
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(10)
        sock.connect(STACK.relay_socket_path)
        wskey = base64.b64encode(os.urandom(16)).decode()
        head = ("GET /ws/events?ticket=%s HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
                % (make_ticket(key(), [COURSE]), wskey)).encode()
        frame = WSClient(None)
        frame_bytes = []
        frame.sock = type("S", (), {"sendall": lambda _s, b: frame_bytes.append(b)})()
        frame.send_action("ping")
        for part in (head[:20], head[20:90], head[90:] + frame_bytes[0]):
            sock.sendall(part)
            time.sleep(0.05)
        buf = b""
        while b"\r\n\r\n" not in buf:
            buf += sock.recv(4096)
        self.assertTrue(buf.startswith(b"HTTP/1.1 101 "), buf)
        ws = WSClient(sock, buf.partition(b"\r\n\r\n")[2])
        self.open.append(ws)
        got = [ws.recv_json()["action"] for _ in range(2)]
        self.assertEqual(sorted(got), ["pong", "subscribed"])

    def test_3_user_tickets(self):
        alice, bob = USERS["ws_alice"][0], USERS["ws_bob"][0]
        ws = self.subscribed(["user:%d" % alice], "ws_alice")
        eid = publish(self.redis, "user:%d" % alice, "enrollment.created",
                      {"scope_type": "openbook_content.course", "scope_uuid": COURSE[7:],
                       "role": "student", "role_assignment": "x", "assignment_method": "self"})
        self.assertEqual(ws.recv_action("event")["id"], eid)
        # Further tickets on the open socket: same user only.
        ws.send_action("subscribe", {"ticket": make_ticket(key(), ["user:%d" % bob], uid=bob)})
        self.assertEqual(ws.recv_json(), {"action": "error",
                                          "payload": {"detail": "Invalid or expired ticket."}})
        ws.send_action("subscribe", {"ticket": make_ticket(key(), [COURSE])})
        self.assertEqual(ws.recv_action("error"), {"detail": "Invalid or expired ticket."})
        t = make_ticket(key(), [COURSE, "user:%d" % alice], uid=alice)
        ws.send_action("subscribe", {"ticket": t})
        self.assertEqual(ws.recv_action("subscribed"), {"channels": [COURSE]})
        ws.send_action("subscribe", {"ticket": t})
        self.assertEqual(ws.recv_action("error"), {"detail": "Invalid or expired ticket."})
        ws.send_action("subscribe", {"tiket": t})
        self.assertEqual(ws.recv_action("error"), {"detail": "Invalid payload for subscribe"})
        eid = self.publish(COURSE)
        self.event(ws, COURSE, eid)
        ws.send_action("unsubscribe", {"channels": [COURSE, "user:999"]})
        self.assertEqual(ws.recv_action("unsubscribed"), {"channels": [COURSE]})
        self.publish(COURSE)
        ws.send_action("ping")
        self.assertEqual(ws.recv_json()["action"], "pong")  # the course event did not come
        # Errors do not close the socket.
        for msg, detail in [("nope", "Failed to process message"),
                            ('{"payload":1}', "Failed to process message"),
                            ('{"action":"dance"}', "Failed to process message for dance"),
                            ('{"action":"ping","payload":3}', "Invalid payload for ping"),
                            ('{"action":"unsubscribe","payload":{"channels":"x"}}',
                             "Invalid payload for unsubscribe")]:
            ws.send_frame(OP_TEXT, msg)
            self.assertEqual(ws.recv_action("error"), {"detail": detail}, msg)

    def test_4_resume(self):
        ws = self.subscribed([COURSE])
        e1 = self.publish(COURSE)
        self.event(ws, COURSE, e1)
        ws.close()
        self.assertEqual(ws.expect_close(), 1000)
        ws.wait_eof()
        e2 = self.publish(COURSE, payload={"course": COURSE[7:], "op": "deleted"})
        e3 = self.publish(COURSE)
        ws = self.subscribed([COURSE])
        ws.send_action("resume", {"channel": COURSE, "last_event_id": e1})
        self.event(ws, COURSE, e2, payload={"course": COURSE[7:], "op": "deleted"})
        self.event(ws, COURSE, e3)
        self.assertEqual(ws.recv_action("resumed"), {"channel": COURSE, "recovered": True})
        # Live events continue after the replay, in order, without gaps.
        e4 = self.publish(COURSE)
        self.event(ws, COURSE, e4)
        # An id older than the stream: everything it has, then "resync";
        # 0-0: everything, recovered.
        ws.send_action("resume", {"channel": COURSE, "last_event_id": "1-0"})
        ids, resumed = self.until_resumed(ws)
        self.assertEqual(ids[-4:], [e1, e2, e3, e4])
        self.assertEqual(resumed, {"channel": COURSE, "recovered": False})
        ws.send_action("resume", {"channel": COURSE, "last_event_id": "0-0"})
        ids, resumed = self.until_resumed(ws)
        self.assertEqual(ids[-4:], [e1, e2, e3, e4])
        self.assertEqual(resumed, {"channel": COURSE, "recovered": True})
        ws.send_action("resume", {"channel": TEXTBOOK, "last_event_id": e1})
        self.assertEqual(ws.recv_action("error"), {"detail": "Not subscribed: %s" % TEXTBOOK})
        ws.send_action("resume", {"channel": COURSE, "last_event_id": "yesterday"})
        self.assertEqual(ws.recv_action("error"), {"detail": "Invalid event id."})
        # An event published while a resume runs is neither lost nor sent
        # out of order by the replay.  (If the relay happens to forward it
        # live before it reads the resume, the replay repeats it: clients
        # drop ids they have, websocket.md §5.2.)
        ws.send_action("resume", {"channel": COURSE, "last_event_id": e3})
        e5 = self.publish(COURSE)
        ids, resumed = self.until_resumed(ws)
        self.assertEqual(resumed, {"channel": COURSE, "recovered": True})
        try:
            while True:
                ids.append(ws.recv_action("event", 1)["id"])
        except socket.timeout:
            pass
        self.assertEqual(ids.count(e4), 1, ids)
        self.assertIn(ids.count(e5), (1, 2), ids)
        replay = ids[1:] if ids[0] == e5 and ids.count(e5) == 2 else ids
        self.assertEqual(replay, [e4, e5], ids)

    def test_5_slow_consumer(self):
        """A client that stops reading is closed with 1013; others go on."""
        slow = self.subscribed([TEXTBOOK], rcvbuf=4096)
        fast = self.subscribed([TEXTBOOK])
        received, failure = [], []

        def reader():
            try:
                while True:
                    received.append(fast.recv_action("event", 20)["id"])
            except Exception as e:  # reported below
                failure.append(e)
        t = threading.Thread(target=reader, daemon=True)
        t.start()
        big = {"textbook": TEXTBOOK[9:], "op": "updated", "pad": "x" * 6000}
        ids = []
        for _ in range(60):
            ids += self.redis.pipeline(
                [event_args(TEXTBOOK, "textbook.updated", big) for _ in range(20)])
            # The fast client keeps up (it is never more than a batch behind);
            # the slow one falls further behind with every batch.
            support.wait_for(lambda: len(received) >= len(ids) or failure, 20,
                             interval=0.005, what="the fast client")
            self.assertFalse(failure, "fast client: %r" % failure)
        self.assertEqual(received, ids)
        self.assertEqual(slow.expect_close(10), 1013)
        self.assertLess(len(slow.skipped), len(ids))
        fast.send_action("ping")
        t.join(25)

    def test_6_ping_pong_and_idle(self):
        ws = self.subscribed([COURSE])
        ws.send_frame(OP_PING, b"are you there")
        while True:
            op, payload, _ = ws.recv_frame()
            if op == OP_PONG:
                break
        self.assertEqual(payload, b"are you there")
        # The relay pings every ping_interval; a client that answers stays.
        ws.expect_silence(PING * 2 + 0.5)
        self.assertGreaterEqual(len(ws.pings), 1)
        ws.send_action("ping")
        self.assertEqual(ws.recv_json()["action"], "pong")
        # One that answers nothing is closed after idle_timeout.
        quiet = self.subscribed([COURSE])
        quiet.auto_pong = False
        t0 = time.monotonic()
        self.assertEqual(quiet.expect_close(IDLE + 5), 1001)
        self.assertGreaterEqual(time.monotonic() - t0, IDLE - 1.5)

    def test_7_protocol_errors(self):
        cases = [
            (lambda ws: ws.send_frame(OP_TEXT, "x" * 16385), 1009),
            (lambda ws: (ws.send_frame(OP_TEXT, "x" * 10000, fin=False),
                         ws.send_frame(0, "x" * 10000)), 1009),
            (lambda ws: ws.send_frame(OP_TEXT, b'{"action":"\xc3\x28"}'), 1007),
            (lambda ws: (ws.send_frame(OP_TEXT, b'{"a":"\xe2\x82', fin=False),
                         ws.send_frame(0, b'\x28"}')), 1007),
            (lambda ws: ws.send_frame(OP_BINARY, b"\x00\x01"), 1003),
            (lambda ws: ws.send_frame(OP_TEXT, b"{}", mask=False), 1002),
            (lambda ws: ws.send_frame(OP_TEXT, b"{}", rsv=1), 1002),
            (lambda ws: ws.send_frame(OP_PING, b"x", fin=False), 1002),
            (lambda ws: ws.send_frame(0, b"orphan continuation"), 1002),
            (lambda ws: ws.send_frame(OP_CLOSE, struct.pack("!H", 1005)), 1002),
            (lambda ws: [ws.send_frame(OP_TEXT, "nope") for _ in range(21)], 1008),
        ]
        for send, code in cases:
            ws = self.subscribed([COURSE])
            send(ws)
            self.assertEqual(ws.expect_close(), code, send)
            ws.wait_eof()
        # A fragmented message with a ping in the middle is fine.
        ws = self.subscribed([COURSE])
        msg = b'{"action":"ping","payload":null}'
        ws.send_frame(OP_TEXT, msg[:7], fin=False)
        ws.send_frame(OP_PING, b"mid")
        ws.send_frame(0, msg[7:20], fin=False)
        ws.send_frame(0, msg[20:])
        self.assertEqual(ws.recv_frame()[:2], (OP_PONG, b"mid"))
        self.assertEqual(ws.recv_json(), {"action": "pong", "payload": None})
        # The client closes: the relay echoes the code and closes TCP.
        ws.send_frame(OP_CLOSE, struct.pack("!H", 4000) + b"bye")
        op, payload, _ = ws.recv_frame()
        self.assertEqual((op, payload[:2]), (OP_CLOSE, struct.pack("!H", 4000)))
        ws.wait_eof()

    def test_8_limits_and_revoke(self):
        alice = USERS["ws_alice"][0]
        mine = [self.subscribed(["user:%d" % alice], "ws_alice") for _ in range(PER_USER)]
        extra = self.subscribed(["user:%d" % alice], "ws_alice")
        self.assertEqual(mine[0].expect_close(), 4429)
        anon = self.subscribed([COURSE])
        self.redis.command("PUBLISH", "openbook:control",
                           json.dumps({"op": "revoke_user", "user_id": alice}))
        for ws in mine[1:] + [extra]:
            self.assertEqual(ws.expect_close(), 4401)
        anon.send_action("ping")
        self.assertEqual(anon.recv_json()["action"], "pong")
        for ws in self.open:
            ws.shutdown()
        self.open = []
        time.sleep(0.5)
        # relay.max_connections: one more is refused cleanly.
        conns = [self.connect(make_ticket(key(), [COURSE])) for _ in range(MAX_CONN)]
        for ws in conns:
            ws.recv_action("subscribed")
        self.refused("/ws/events?ticket=" + make_ticket(key(), [COURSE]), 503,
                     "Too many connections.")
        conns[0].close()
        conns[0].expect_close()
        conns[0].wait_eof()
        time.sleep(0.3)
        self.connect(make_ticket(key(), [COURSE])).recv_action("subscribed")

    def test_8b_redis_outage(self):
        ws = self.subscribed([COURSE, TEXTBOOK])
        e1 = self.publish(COURSE)
        self.event(ws, COURSE, e1)
        # The relay's subscription drops but Redis keeps its data: the
        # events it missed are replayed, no resync needed.
        self.redis.command("CLIENT", "KILL", "TYPE", "pubsub")
        e2 = self.publish(COURSE)
        self.event(ws, COURSE, e2, timeout=15)
        # Redis restarts empty: browsers stay connected, are told to resync,
        # and get live events again.
        self.redis.close()
        stop_redis(STACK)
        time.sleep(1.0)
        ws.send_action("ping")
        self.assertEqual(ws.recv_json()["action"], "pong")
        with self.assertRaises(HandshakeRefused) as cm:
            WSClient.connect(("127.0.0.1", self.port), "/ws/events?ticket=" +
                             make_ticket(key(), [COURSE]), host="127.0.0.1:%d" % self.port)
        self.assertEqual(cm.exception.status, 503)
        start_redis_same_port(STACK)
        self.redis = stack_redis(STACK)
        got = {ws.recv_action("resumed", 20)["channel"] for _ in range(2)}
        self.assertEqual(got, {COURSE, TEXTBOOK})
        e3 = self.publish(COURSE)
        self.event(ws, COURSE, e3)
        self.assertIn("connected again", self.relay_log())

    def test_8c_reload(self):
        """SIGHUP re-reads the configuration: here http.allowed_hosts."""
        origin = "https://books.example.org"
        self.refused("/ws/events?ticket=" + make_ticket(key(), [COURSE]), 403,
                     "Origin not allowed.", origin=origin)
        write = getattr(STACK, "write_config", None) or STACK._write_config
        hosts = STACK.config["http"]["allowed_hosts"]
        STACK.overrides.setdefault("http", {})["allowed_hosts"] = hosts + ["books.example.org"]
        try:
            write()
            os.kill(RELAY.pid, signal.SIGHUP)
            support.wait_for(lambda: "configuration reloaded" in self.relay_log(), 10,
                             what="the reload")
            ws = self.connect(make_ticket(key(), [COURSE]), origin=origin)
            self.assertEqual(ws.recv_action("subscribed"), {"channels": [COURSE]})
        finally:
            STACK.overrides["http"]["allowed_hosts"] = hosts
            write()
            os.kill(RELAY.pid, signal.SIGHUP)
            time.sleep(0.3)
        # Open connections survive a reload.
        ws.send_action("ping")
        self.assertEqual(ws.recv_json()["action"], "pong")

    def test_9_sigterm(self):
        conns = [self.subscribed([COURSE]) for _ in range(3)]
        pid = RELAY.pid
        os.kill(pid, signal.SIGTERM)
        for ws in conns:
            self.assertEqual(ws.expect_close(), 1001)
            ws.wait_eof()
        self.assertEqual(RELAY.stop(), 0)
        self.assertIn("relay: stopped", self.relay_log())
        self.assertFalse(os.path.exists(STACK.relay_socket_path))


if __name__ == "__main__":
    unittest.main()
