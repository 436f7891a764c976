"""Helpers for the relay tests (no tests in here): a small RFC 6455 client,
a RESP client for Redis, the ticket format and the app's publish script.

Python standard library only.  The WebSocket client is deliberately
low-level: tests send malformed frames on purpose.
"""

import base64
import hashlib
import hmac
import json
import os
import secrets
import select
import socket
import struct
import time

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10


class WSClosed(Exception):
    """The server closed the WebSocket; .code and .reason say how."""

    def __init__(self, code, reason=""):
        super().__init__("closed with %s %r" % (code, reason))
        self.code = code
        self.reason = reason


class HandshakeRefused(Exception):
    def __init__(self, status, headers, body):
        super().__init__("handshake refused: %d %r" % (status, body[:200]))
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body.decode("utf-8"))


def _read_http_head(sock, deadline):
    buf = b""
    while b"\r\n\r\n" not in buf:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        d = sock.recv(4096)
        if not d:
            raise ConnectionError("connection closed during the handshake: %r" % buf[:300])
        buf += d
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers.setdefault(k.strip().lower(), v.strip())
    return status, headers, rest


class WSClient:
    """One WebSocket connection.

    WSClient.connect(("127.0.0.1", port), "/ws/events?ticket=...") or
    WSClient.connect("/path/relay.sock", ...) for a unix socket."""

    def __init__(self, sock, leftover=b"", protocol=None):
        self.sock = sock
        self.buf = leftover
        self.protocol = protocol
        self.auto_pong = True
        self.pings = []          # payloads of pings the server sent
        self.close_code = None

    @classmethod
    def connect(cls, addr, path, host="127.0.0.1", origin=None, protocols=None, headers=None,
                timeout=10, rcvbuf=None):
        if isinstance(addr, str):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        else:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.settimeout(timeout)
        sock.connect(addr)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = ["GET %s HTTP/1.1" % path, "Host: %s" % host, "Upgrade: websocket",
                 "Connection: Upgrade", "Sec-WebSocket-Key: %s" % key,
                 "Sec-WebSocket-Version: 13"]
        if origin:
            lines.append("Origin: %s" % origin)
        if protocols:
            lines.append("Sec-WebSocket-Protocol: %s" % ", ".join(protocols))
        for k, v in (headers or {}).items():
            lines.append("%s: %s" % (k, v))
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        deadline = time.monotonic() + timeout
        status, hdrs, rest = _read_http_head(sock, deadline)
        if status != 101:
            length = int(hdrs.get("content-length", "0"))
            while len(rest) < length:
                sock.settimeout(max(0.01, deadline - time.monotonic()))
                d = sock.recv(4096)
                if not d:
                    break
                rest += d
            sock.close()
            raise HandshakeRefused(status, hdrs, rest[:length])
        want = base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()
        if hdrs.get("sec-websocket-accept") != want:
            sock.close()
            raise AssertionError("bad Sec-WebSocket-Accept %r" % hdrs)
        return cls(sock, rest, hdrs.get("sec-websocket-protocol"))

    # ---- sending

    def send_frame(self, opcode, payload=b"", fin=True, mask=True, rsv=0, length=None):
        if isinstance(payload, str):
            payload = payload.encode()
        b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
        n = len(payload) if length is None else length
        mbit = 0x80 if mask else 0
        if n < 126:
            head = struct.pack("!BB", b0, mbit | n)
        elif n < 65536:
            head = struct.pack("!BBH", b0, mbit | 126, n)
        else:
            head = struct.pack("!BBQ", b0, mbit | 127, n)
        if mask:
            key = os.urandom(4)
            body = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
            head += key
        else:
            body = payload
        self.sock.sendall(head + body)

    def send_json(self, obj):
        self.send_frame(OP_TEXT, json.dumps(obj))

    def send_action(self, action, payload=None):
        self.send_json({"action": action, "payload": payload})

    def close(self, code=1000):
        try:
            self.send_frame(OP_CLOSE, struct.pack("!H", code))
        except OSError:
            pass

    def shutdown(self):
        try:
            self.sock.close()
        except OSError:
            pass

    # ---- receiving

    def _fill(self, n, deadline):
        while len(self.buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("timed out waiting for a frame")
            self.sock.settimeout(left)
            d = self.sock.recv(65536)
            if not d:
                raise ConnectionError("connection closed by the server")
            self.buf += d

    def recv_frame(self, timeout=10):
        """(opcode, payload, fin) of the next frame, exactly as sent."""
        deadline = time.monotonic() + timeout
        self._fill(2, deadline)
        b0, b1 = self.buf[0], self.buf[1]
        if b1 & 0x80:
            raise AssertionError("the server masked a frame")
        n = b1 & 0x7F
        off = 2
        if n == 126:
            self._fill(4, deadline)
            n = struct.unpack("!H", self.buf[2:4])[0]
            off = 4
        elif n == 127:
            self._fill(10, deadline)
            n = struct.unpack("!Q", self.buf[2:10])[0]
            off = 10
        self._fill(off + n, deadline)
        payload = self.buf[off:off + n]
        self.buf = self.buf[off + n:]
        if b0 & 0x70:
            raise AssertionError("the server set RSV bits")
        return b0 & 0x0F, payload, bool(b0 & 0x80)

    def recv_message(self, timeout=10):
        """The next text message (str).  Pings are answered (auto_pong);
        a close frame raises WSClosed after echoing it."""
        deadline = time.monotonic() + timeout
        parts, first = [], None
        while True:
            op, payload, fin = self.recv_frame(max(0.01, deadline - time.monotonic()))
            if op == OP_PING:
                self.pings.append(payload)
                if self.auto_pong:
                    self.send_frame(OP_PONG, payload)
                continue
            if op == OP_PONG:
                continue
            if op == OP_CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                self.close_code = code
                try:
                    self.send_frame(OP_CLOSE, payload[:2])
                except OSError:
                    pass
                raise WSClosed(code, payload[2:].decode("utf-8", "replace"))
            if first is None:
                first = op
            parts.append(payload)
            if fin:
                if first != OP_TEXT:
                    raise AssertionError("non-text message opcode %d" % first)
                return b"".join(parts).decode("utf-8")

    def recv_json(self, timeout=10):
        return json.loads(self.recv_message(timeout))

    def recv_action(self, action, timeout=10, skip=()):
        """The next message, which must have this action (actions in skip
        are passed over)."""
        deadline = time.monotonic() + timeout
        while True:
            m = self.recv_json(max(0.01, deadline - time.monotonic()))
            if m.get("action") in skip:
                continue
            if m.get("action") != action:
                raise AssertionError("expected %r, got %r" % (action, m))
            return m["payload"]

    def expect_close(self, timeout=10):
        """Reads until the close frame; returns its code (messages before
        it are returned as a list in .skipped)."""
        self.skipped = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.skipped.append(self.recv_message(max(0.01, deadline - time.monotonic())))
            except WSClosed as e:
                return e.code

    def expect_silence(self, seconds):
        """No message arrives within `seconds`."""
        try:
            m = self.recv_message(seconds)
        except socket.timeout:
            return
        raise AssertionError("unexpected message %r" % m)

    def wait_eof(self, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("the server did not close the TCP connection")
            self.sock.settimeout(left)
            try:
                d = self.sock.recv(65536)
            except ConnectionResetError:
                return
            if not d:
                return


# --------------------------------------------------------------------------
# Tickets (websocket.md §3), written independently of src/core/ticket.c so
# the tests check the format, not just that the code agrees with itself.


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def ticket_key(secret_key=None, ticket_secret=None):
    if ticket_secret:
        return ticket_secret.encode()
    return hmac.new(secret_key.encode(), b"openbook-ws-ticket", hashlib.sha256).digest()


def stack_ticket_key(stack):
    """The key the relay of `stack` verifies tickets with."""
    return ticket_key(secret_key=stack.config["security"]["secret_key"],
                      ticket_secret=stack.config.get("relay", {}).get("ticket_secret"))


def start_relay(stack, setup=None):
    """The relay of a started stack (RelayProc), then setup(); when either
    fails, stops both and re-raises.  The stack becomes the test cases'."""
    import support
    support.StackTestCase.stack = stack
    relay = None
    try:
        relay = RelayProc(stack, support.binary())
        if setup:
            setup()
    except BaseException:
        if relay:
            relay.stop()
        support.stop_stack(stack)
        raise
    return relay


def stop_relay(stack, relay):
    """tearDownModule of a start_relay() module."""
    import support
    support.StackTestCase.stack = None
    if relay:
        relay.stop()
    support.stop_stack(stack)


def make_ticket(key, channels, uid=None, exp=None, jti=None, raw_payload=None):
    payload = raw_payload if raw_payload is not None else json.dumps(
        {"v": 1, "uid": uid, "ch": list(channels),
         "exp": int(time.time()) + 60 if exp is None else exp,
         "jti": jti or secrets.token_hex(16)}, separators=(",", ":")).encode()
    p = b64u(payload)
    sig = hmac.new(key, p.encode(), hashlib.sha256).digest()
    return p + "." + b64u(sig)


def decode_ticket(ticket):
    p = ticket.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))


# --------------------------------------------------------------------------
# Redis


class Redis:
    """A minimal RESP client.  addr: (host, port) or a unix socket path."""

    def __init__(self, addr, timeout=10, password=None):
        self.addr = addr
        if isinstance(addr, str):
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        else:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(addr)
        self.buf = b""
        if password is not None:
            self.command("AUTH", password)

    def close(self):
        self.sock.close()

    @staticmethod
    def encode(args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            if isinstance(a, str):
                a = a.encode()
            elif isinstance(a, int):
                a = str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        return b"".join(out)

    def _line(self):
        while b"\r\n" not in self.buf:
            d = self.sock.recv(65536)
            if not d:
                raise ConnectionError("redis closed the connection")
            self.buf += d
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line

    def _exact(self, n):
        while len(self.buf) < n + 2:
            d = self.sock.recv(65536)
            if not d:
                raise ConnectionError("redis closed the connection")
            self.buf += d
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def read_reply(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            raise RuntimeError(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n).decode("utf-8", "replace")
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self.read_reply() for _ in range(n)]
        raise RuntimeError("bad RESP line %r" % line)

    def command(self, *args):
        self.sock.sendall(self.encode(args))
        return self.read_reply()

    def pipeline(self, commands):
        self.sock.sendall(b"".join(self.encode(c) for c in commands))
        return [self.read_reply() for _ in commands]


# The app's publish script (src/redis/events.c, websocket.md §6), for tests
# that need events while no REST endpoint publishes any yet.
PUBLISH_SCRIPT = """
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', 1000, '*', 'data', ARGV[1])
redis.call('EXPIRE', KEYS[1], 604800)
redis.call('PUBLISH', KEYS[2], '{"channel":' .. ARGV[2] .. ',"id":"' .. id .. '",' .. string.sub(ARGV[1], 2))
return id
"""


def event_args(channel, etype, payload, version=1):
    data = json.dumps({"type": etype, "version": version, "payload": payload},
                      separators=(",", ":"))
    return ["EVAL", PUBLISH_SCRIPT, 2, "openbook:stream:" + channel, "openbook:" + channel,
            data, json.dumps(channel)]


def publish(redis, channel, etype, payload, version=1):
    """Publishes like the app; returns the event id."""
    return redis.command(*event_args(channel, etype, payload, version))


def append_only(redis, channel, etype, payload, version=1):
    """Adds to the stream without publishing: an event the relay missed."""
    data = json.dumps({"type": etype, "version": version, "payload": payload},
                      separators=(",", ":"))
    return redis.command("XADD", "openbook:stream:" + channel, "MAXLEN", "~", 1000, "*",
                         "data", data)


def wait_readable(sock, timeout):
    r, _, _ = select.select([sock], [], [], timeout)
    return bool(r)


# --------------------------------------------------------------------------
# The relay process next to a Stack (deploy/local/stack.py).  When the
# stack already runs one (procs["relay"]) it is used; otherwise the tests
# start build/<flavour>/openbook-relay themselves, next to the binary under
# test, with the stack's configuration.


class RelayProc:
    def __init__(self, stack, binary):
        import subprocess
        import signal as _signal
        self.stack = stack
        self.own = "relay" not in stack.procs
        self.proc = stack.procs.get("relay")
        if self.own:
            relay = os.path.join(os.path.dirname(binary), "openbook-relay")
            if not os.access(relay, os.X_OK):
                raise RuntimeError("%s missing (make asan)" % relay)
            log = open(stack.log_path("relay"), "ab", buffering=0)
            self._log = log
            env = stack.server_env()
            import stack as stackmod
            self.proc = subprocess.Popen(
                [relay, "-c", stack.config_path], stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                cwd=stack.root, env=env, start_new_session=True,
                preexec_fn=stackmod._set_pdeathsig(_signal.SIGTERM))
        self.wait_ready()

    @property
    def pid(self):
        return self.proc.pid

    def wait_ready(self, timeout=20):
        deadline = time.monotonic() + timeout
        path = self.stack.relay_socket_path
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("openbook-relay exited with %s:\n%s"
                                   % (self.proc.returncode, self.stack.log_text("relay")[-3000:]))
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(path)
                s.close()
                # Redis must be up too: a handshake needs it.
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("openbook-relay not listening on %s" % path)

    def stop(self, timeout=15):
        """SIGTERM; returns the exit status."""
        import signal as _signal
        if self.proc.poll() is None:
            self.proc.send_signal(_signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except Exception:
                self.proc.kill()
                self.proc.wait()
        if not self.own:
            self.stack.procs.pop("relay", None)
        return self.proc.returncode


def redis_addr(stack):
    return ("127.0.0.1", stack.redis_port)


def stack_redis(stack, timeout=10):
    """A Redis client for the stack's Redis, authenticated."""
    return Redis(redis_addr(stack), timeout, password=stack.redis_password)


def stop_redis(stack):
    if hasattr(stack, "stop_redis"):
        stack.stop_redis()
    else:
        stack._stop_proc("redis")


def start_redis_same_port(stack):
    """Restarts Redis on the port the configuration names (empty, as after
    a restart without persistence)."""
    import signal as _signal
    import stack as stackmod
    if hasattr(stack, "start_redis"):
        stack.start_redis()
        return
    argv = [stackmod._which("redis-server"), "--bind", "127.0.0.1", "--port",
            str(stack.redis_port), "--protected-mode", "yes", "--save", "", "--appendonly", "no",
            "--daemonize", "no", "--dir", stack.run_dir, "--logfile", ""]
    stack._spawn("redis", argv, _signal.SIGTERM)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            r = stack_redis(stack, timeout=2)
            if r.command("PING") == "PONG":
                r.close()
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("redis did not come back on port %d" % stack.redis_port)
