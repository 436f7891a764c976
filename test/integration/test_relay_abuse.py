"""The relay against abusive clients (issue 12, Security 1 and 8): a client
that floods pings and never reads, and one address that opens many
anonymous connections.

These tests talk to the relay's unix socket directly, the way nginx does:
the relay trusts the client address a front server puts in
X-Forwarded-For only on a unix socket or loopback, so a header here stands
for a client behind nginx.  (test_relay.py covers the relay through nginx.)
"""

import os
import signal
import socket
import struct
import subprocess
import time
import unittest

import support
from test_relay_client import (OP_PING, HandshakeRefused, WSClient, make_ticket,
                               stack_ticket_key, start_relay, stop_relay)

STACK = None
RELAY = None
PING = 2             # relay.ping_interval
IDLE = 6             # relay.idle_timeout
PER_ADDRESS = 3      # relay.max_anonymous_per_address
MAX_CONN = 40        # relay.max_connections
PER_USER = 2         # relay.max_connections_per_user
GROWTH_LIMIT = 8 << 20  # relay RSS growth allowed during a ping flood (bytes)

COURSE = "course:3629d56b-e3ae-41c9-8438-0046e057a69b"


def setUpModule():
    global STACK, RELAY
    # ASan holds freed memory in a quarantine (256 MiB by default) to catch
    # use after free; a flood of small allocations fills it, and the RSS
    # would measure the quarantine instead of the relay.
    env = support.server_env()
    asan = env.get("ASAN_OPTIONS", os.environ.get("ASAN_OPTIONS", ""))
    env["ASAN_OPTIONS"] = (asan + ":" if asan else "") + "quarantine_size_mb=1"
    STACK = support.start_stack("relay-abuse", env=env, config={"relay": {
        "ping_interval": PING, "idle_timeout": IDLE, "max_connections": MAX_CONN,
        "max_anonymous_per_address": PER_ADDRESS, "max_connections_per_user": PER_USER}})
    RELAY = start_relay(STACK)


def tearDownModule():
    stop_relay(STACK, RELAY)


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for pid %d" % pid)


def masked_ping(payload):
    """One client ping frame (masked, as RFC 6455 requires of clients)."""
    key = os.urandom(4)
    body = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return struct.pack("!BB", 0x80 | OP_PING, 0x80 | len(payload)) + key + body


class RelayAbuse(support.StackTestCase):
    def setUp(self):
        self.open = []

    def tearDown(self):
        for ws in self.open:
            ws.shutdown()

    def connect(self, forwarded_for=None, uid=None, **kw):
        headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else None
        ws = WSClient.connect(STACK.relay_socket_path,
                              "/ws/events?ticket=%s" % make_ticket(stack_ticket_key(STACK),
                                                                   [COURSE], uid=uid),
                              host="localhost", headers=headers, **kw)
        self.open.append(ws)
        return ws

    def test_ping_flood_without_reading(self):
        """A client that sends pings as fast as it can and never reads is
        closed while it still sends, and the relay's memory stays bounded
        (one pending pong per connection, counted in the send queue)."""
        pid = RELAY.pid
        before = rss_kib(pid)
        ws = self.connect("198.51.100.1", rcvbuf=4096)
        ws.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
        batch = masked_ping(b"p" * 125) * 500          # 65 KB of pings
        peak, sent, closed = before, 0, False
        # The relay notices within idle_timeout (+ its one-second sweep) that
        # nothing it queued is taken and closes the socket; the rest is slack
        # for a loaded machine, not a timing assertion.
        deadline = time.monotonic() + IDLE + 30
        ws.sock.settimeout(5)
        view, off = memoryview(batch), 0
        while time.monotonic() < deadline:
            try:
                # send, not sendall: a timeout must not tear a frame.
                n = ws.sock.send(view[off:])
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            except socket.timeout:
                continue  # the relay reads in slices; a slow moment is no failure
            off = (off + n) % len(batch)
            sent += n
            if sent >> 20 != (sent - n) >> 20:
                peak = max(peak, rss_kib(pid))
                if (peak - before) * 1024 >= GROWTH_LIMIT:
                    break  # (the relay without the fix reached 3 GB)
        peak = max(peak, rss_kib(pid))
        self.assertLess((peak - before) * 1024, GROWTH_LIMIT,
                        "RSS grew from %d KiB to %d KiB" % (before, peak))
        self.assertTrue(closed, "still open after %d bytes of pings" % sent)
        self.assertGreater(sent, 10 * 1024 * 1024, "the flood was too slow to show anything")
        # The relay serves others afterwards.
        other = self.connect("198.51.100.1")
        self.assertEqual(other.recv_action("subscribed"), {"channels": [COURSE]})

    # ---- relay.max_anonymous_per_address

    def subscribed(self, forwarded_for=None, **kw):
        ws = self.connect(forwarded_for, **kw)
        self.assertEqual(ws.recv_action("subscribed"), {"channels": [COURSE]})
        return ws

    def assertAlive(self, *conns):
        for ws in conns:
            ws.send_action("ping")
            self.assertEqual(ws.recv_action("pong", skip=("event",)), None)

    def test_anonymous_per_address(self):
        """One address holds at most max_anonymous_per_address anonymous
        connections: the oldest gives way (4429), as for users.  The
        address is the last X-Forwarded-For entry (what nginx or Apache
        put there); an IPv6 client counts by its /64."""
        mine = [self.subscribed("203.0.113.5") for _ in range(PER_ADDRESS)]
        # Entries a client put in front of the proxy's do not make it
        # somebody else.
        newest = self.subscribed("198.18.0.1, 10.1.2.3,203.0.113.5")
        self.assertEqual(mine[0].expect_close(), 4429)
        self.assertAlive(*mine[1:], newest)
        # Other addresses, users, and IPv6 networks have counts of their own.
        others = [self.subscribed("203.0.113.6") for _ in range(PER_ADDRESS)]
        users = [self.connect("203.0.113.5", uid=uid) for uid in (7001, 7002)]
        for ws in users:
            ws.recv_action("subscribed")
        v6 = [self.subscribed("2001:db8:1:2::%x" % i) for i in range(1, PER_ADDRESS + 1)]
        v6_other = self.subscribed("2001:db8:1:3::1")
        self.assertAlive(*mine[1:], newest, *others, *users, *v6, v6_other)
        # A further address of the same /64 is the same client.
        self.subscribed("2001:db8:1:2:ffff::9")
        self.assertEqual(v6[0].expect_close(), 4429)
        self.assertAlive(*v6[1:], v6_other)
        # A closed connection frees its place.
        mine[1].close()
        mine[1].expect_close()
        mine[1].wait_eof()
        self.subscribed("203.0.113.5")
        time.sleep(0.3)
        self.assertAlive(mine[2], newest)

    def test_anonymous_per_address_through_nginx(self):
        """nginx replaces whatever X-Forwarded-For a client sends with the
        address it sees (here 127.0.0.1 for everybody)."""
        def through_nginx(spoofed):
            ws = WSClient.connect(("127.0.0.1", STACK.port), "/ws/events?ticket=%s" % make_ticket(
                stack_ticket_key(STACK), [COURSE]), host="127.0.0.1:%d" % STACK.port,
                headers={"X-Forwarded-For": spoofed})
            self.open.append(ws)
            self.assertEqual(ws.recv_action("subscribed"), {"channels": [COURSE]})
            return ws
        conns = [through_nginx("192.0.2.%d" % i) for i in range(1, PER_ADDRESS + 2)]
        self.assertEqual(conns[0].expect_close(), 4429)
        self.assertAlive(*conns[1:])

    def test_untrusted_peer_counts_by_its_own_address(self):
        """A relay reached over TCP believes X-Forwarded-For only from an
        http.trusted_proxies address."""
        for trusted, evicted in (("127.0.0.1", False), ("192.0.2.99", True)):
            relay, port = self.tcp_relay(trusted)
            conns = []
            try:
                for i in range(PER_ADDRESS + 1):
                    ws = WSClient.connect(("127.0.0.1", port), "/ws/events?ticket=%s" % make_ticket(
                        stack_ticket_key(STACK), [COURSE]), host="localhost",
                        headers={"X-Forwarded-For": "192.0.2.%d" % i})
                    self.open.append(ws)
                    ws.recv_action("subscribed")
                    conns.append(ws)
                if evicted:
                    self.assertEqual(conns[0].expect_close(), 4429)
                    self.assertAlive(*conns[1:])
                else:
                    self.assertAlive(*conns)
            finally:
                for ws in conns:
                    ws.shutdown()
                relay.send_signal(signal.SIGTERM)
                self.assertEqual(relay.wait(20), 0)

    def tcp_relay(self, trusted_proxies):
        """A second relay of the stack listening on 127.0.0.1:<port>."""
        port = support.free_port()
        env = STACK.server_env()
        env.update({"OPENBOOK_RELAY_LISTEN": "127.0.0.1:%d" % port,
                    "OPENBOOK_HTTP_TRUSTED_PROXIES": trusted_proxies})
        log = open(STACK.log_path("relay-tcp"), "ab", buffering=0)
        self.addCleanup(log.close)
        p = subprocess.Popen([os.path.join(os.path.dirname(support.binary()), "openbook-relay"),
                              "-c", STACK.config_path], stdin=subprocess.DEVNULL, stdout=log,
                             stderr=log, env=env, cwd=STACK.root, start_new_session=True)
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return p, port
            except OSError:
                if p.poll() is not None or time.monotonic() > deadline:
                    p.kill()
                    raise AssertionError("the TCP relay did not start:\n%s"
                                         % STACK.log_text("relay-tcp")[-2000:])
                time.sleep(0.05)


if __name__ == "__main__":
    unittest.main()
