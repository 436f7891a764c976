"""Outgoing mail: the outbox and `openbook send-mail` (api-auth.md §9).

Messages are queued either by the authentication API (where it is part of
this build) or directly in mail_outbox; `openbook send-mail` delivers them
with the file backend (.eml files, parsed here with the email package) or
over SMTP to a small sink that runs inside the test.
"""

import email
import email.policy
import hashlib
import os
import re
import signal
import socket
import subprocess
import threading
import time
import unittest

import support

STACK = None
MAIL_DIR = None


def setUpModule():
    global STACK, MAIL_DIR
    MAIL_DIR = support.make_tmpdir("mail-files")
    STACK = support.start_stack("mail", config={
        "mail": {"backend": "file", "file_dir": MAIL_DIR, "max_attempts": 5}})
    support.StackTestCase.stack = STACK


def tearDownModule():
    support.StackTestCase.stack = None
    try:
        support.stop_stack(STACK)
    finally:
        support.cleanup_dir(MAIL_DIR)


def lit(v):
    return "'" + str(v).replace("'", "''") + "'"


def queue(to, subject="[OpenBook] Test", body="Hello\n"):
    out = STACK.psql("INSERT INTO mail_outbox (recipient, subject, body) VALUES (%s, %s, %s) "
                     "RETURNING id" % (lit(to), lit(subject), lit(body)))
    return int(out.split()[0])


def row(mid):
    out = STACK.psql("SELECT attempts, sent_at IS NOT NULL, coalesce(last_error, ''), "
                     "round(extract(epoch FROM next_try_at - now())) FROM mail_outbox "
                     "WHERE id = %d" % mid).strip()
    a, sent, err, wait = out.split("|")
    return {"attempts": int(a), "sent": sent == "t", "error": err, "wait": float(wait)}


def send_mail(*args, env=None, timeout=60):
    """Runs `openbook send-mail -c <stack config>` with OPENBOOK_MAIL_* overrides."""
    e = dict(os.environ)
    e.update(support.server_env())
    e.update(env or {})
    r = subprocess.run([support.binary(), "send-mail", "-c", STACK.config_path] + list(args),
                       env=e, capture_output=True, text=True, timeout=timeout)
    if support.SANITIZER_PATTERNS.search(r.stderr):
        raise AssertionError("sanitizer report from send-mail:\n" + r.stderr)
    return r


def eml(mid, directory=None):
    with open(os.path.join(directory or MAIL_DIR, "%d.eml" % mid), "rb") as f:
        raw = f.read()
    return raw, email.message_from_bytes(raw, policy=email.policy.default)


def text(msg):
    """The decoded body with the message's CRLF line ends as LF."""
    return msg.get_content().replace("\r\n", "\n")


class SmtpSink:
    """A minimal SMTP server: records (mail from, recipients, data) per
    message.  rcpt_reply, when set, is sent instead of 250 to RCPT TO."""

    def __init__(self, port=0, rcpt_reply=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.rcpt_reply = rcpt_reply
        self.messages = []
        self.ehlo = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn):
        f = conn.makefile("rb")
        send = lambda s: conn.sendall(s.encode() + b"\r\n")  # noqa: E731
        try:
            send("220 sink ESMTP")
            mail_from, rcpts = None, []
            for line in f:
                cmd = line.decode("latin1").rstrip("\r\n")
                verb = cmd.split(" ", 1)[0].upper()
                if verb == "EHLO":
                    self.ehlo.append(cmd[5:])
                    send("250-sink")
                    send("250 8BITMIME")
                elif verb == "HELO":
                    send("250 sink")
                elif verb == "MAIL":
                    mail_from, rcpts = cmd[10:], []
                    send("250 OK")
                elif verb == "RCPT":
                    if self.rcpt_reply:
                        send(self.rcpt_reply)
                    else:
                        rcpts.append(cmd[8:])
                        send("250 OK")
                elif verb == "DATA":
                    send("354 go ahead")
                    data = b""
                    for dl in f:
                        if dl == b".\r\n":
                            break
                        data += dl[1:] if dl.startswith(b"..") else dl
                    with self.lock:
                        self.messages.append((mail_from, rcpts, data))
                    send("250 OK queued")
                elif verb in ("RSET", "NOOP"):
                    send("250 OK")
                elif verb == "QUIT":
                    send("221 bye")
                    break
                else:
                    send("502 not implemented")
        except OSError:
            pass
        finally:
            conn.close()


def smtp_env(port, **extra):
    env = {"OPENBOOK_MAIL_BACKEND": "smtp", "OPENBOOK_MAIL_SMTP_HOST": "127.0.0.1",
           "OPENBOOK_MAIL_SMTP_PORT": str(port), "OPENBOOK_MAIL_SMTP_TIMEOUT": "10"}
    env.update(extra)
    return env


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class MailTestCase(support.StackTestCase):
    def setUp(self):
        # Each test starts with an empty queue.
        STACK.psql("DELETE FROM mail_outbox")


class FileBackend(MailTestCase):
    def test_eml_headers_and_body(self):
        mid = queue("reader@example.org", "[OpenBook] Password Reset Email",
                    "Hello from OpenBook!\n\nline two\n")
        r = send_mail("--once")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("1 delivered", r.stdout)
        raw, msg = eml(mid)
        self.assertIn(b"\r\n\r\n", raw)
        self.assertNotIn(b"\n", raw.replace(b"\r\n", b""), "bare LF in the message")
        self.assertEqual(msg["To"], "reader@example.org")
        self.assertEqual(msg["From"], "noreply@openbook.studio")
        self.assertEqual(msg["Subject"], "[OpenBook] Password Reset Email")
        self.assertEqual(msg["MIME-Version"], "1.0")
        self.assertEqual(msg.get_content_type(), "text/plain")
        self.assertEqual(msg.get_content_charset(), "utf-8")
        self.assertEqual(msg["Content-Transfer-Encoding"], "7bit")
        self.assertRegex(msg["Message-ID"], r"^<openbook\.%d\.\d+@openbook\.studio>$" % mid)
        self.assertIsNotNone(msg["Date"].datetime)
        self.assertEqual(text(msg), "Hello from OpenBook!\n\nline two\n")
        self.assertEqual(row(mid)["attempts"], 1)
        self.assertTrue(row(mid)["sent"])
        # The delivered body (keys, codes) does not stay in the database.
        self.assertEqual(STACK.psql("SELECT body FROM mail_outbox WHERE id = %d" % mid).strip(), "")
        # No temporary files are left behind.
        self.assertEqual([n for n in os.listdir(MAIL_DIR) if n.startswith(".")], [])

    def test_non_ascii(self):
        subject = "[OpenBook] Bitte bestätigen Sie Ihre E-Mail-Adresse – ganz sicher, " \
                  "und zwar sofort, ohne Verzögerung"
        body = "Hallo von OpenBook!\n\nGrüße\n"
        mid = queue("leser@example.org", subject, body)
        self.assertEqual(send_mail("--once").returncode, 0)
        raw, msg = eml(mid)
        self.assertEqual(msg["Subject"], subject)
        self.assertIn(b"=?UTF-8?B?", raw)
        for line in raw.split(b"\r\n\r\n")[0].split(b"\r\n"):
            self.assertLessEqual(len(line), 78, line)
            line.decode("ascii")  # headers are 7-bit
        self.assertEqual(msg["Content-Transfer-Encoding"], "8bit")
        self.assertEqual(text(msg), body)

    def test_not_sent_twice(self):
        mid = queue("once@example.org")
        self.assertEqual(send_mail("--once").returncode, 0)
        path = os.path.join(MAIL_DIR, "%d.eml" % mid)
        stamp = os.stat(path).st_mtime_ns
        os.unlink(path)
        r = send_mail("--once")
        self.assertIn("0 delivered", r.stdout)
        self.assertFalse(os.path.exists(path))
        self.assertEqual(row(mid)["attempts"], 1)
        self.assertTrue(stamp)

    def test_header_injection_refused(self):
        mid = queue("victim@example.org\r\nBcc: all@example.org")
        r = send_mail("--once")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertFalse(os.path.exists(os.path.join(MAIL_DIR, "%d.eml" % mid)))
        st = row(mid)
        self.assertFalse(st["sent"])
        self.assertEqual(st["attempts"], 5)  # given up at once: waiting cannot fix it
        self.assertIn("control characters", st["error"])
        self.assertIn("giving up", r.stderr)
        mid2 = queue("x@example.org", "[OpenBook] a\nBcc: all@example.org")
        send_mail("--once")
        self.assertFalse(row(mid2)["sent"])

    def test_unwritable_directory_retries(self):
        mid = queue("dir@example.org")
        bad = os.path.join(MAIL_DIR, "not-a-dir")
        with open(bad, "w") as f:
            f.write("x")
        try:
            r = send_mail("--once", env={"OPENBOOK_MAIL_FILE_DIR": os.path.join(bad, "sub")})
            self.assertIn("1 failed", r.stdout)
            st = row(mid)
            self.assertEqual((st["attempts"], st["sent"]), (1, False))
            self.assertTrue(25 <= st["wait"] <= 31, st)
            # Later (here: made due at once) it goes out.
            STACK.psql("UPDATE mail_outbox SET next_try_at = now() WHERE id = %d" % mid)
            self.assertIn("1 delivered", send_mail("--once").stdout)
            self.assertEqual(row(mid)["attempts"], 2)
        finally:
            os.unlink(bad)


class Smtp(MailTestCase):
    def test_delivery(self):
        sink = SmtpSink()
        try:
            mid = queue("smtp@example.org", "[OpenBook] Sign-In Code",
                        "Hallo von OpenBook!\n\nIhr Code: ABCD-EFGH, Grüße\n" + "x=" * 100 + " \n")
            r = send_mail("--once", env=smtp_env(sink.port))
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("1 delivered", r.stdout, r.stderr)
            self.assertEqual(len(sink.messages), 1)
            mail_from, rcpts, data = sink.messages[0]
            self.assertEqual(mail_from, "<noreply@openbook.studio>")
            self.assertEqual(rcpts, ["<smtp@example.org>"])
            self.assertEqual(sink.ehlo, ["openbook.studio"])
            msg = email.message_from_bytes(data, policy=email.policy.default)
            self.assertEqual(msg["Subject"], "[OpenBook] Sign-In Code")
            # Non-ASCII over SMTP goes quoted-printable: 7-bit safe, short lines.
            self.assertEqual(msg["Content-Transfer-Encoding"], "quoted-printable")
            for line in data.split(b"\r\n"):
                self.assertLessEqual(len(line), 78)
                line.decode("ascii")
            self.assertEqual(text(msg),
                             "Hallo von OpenBook!\n\nIhr Code: ABCD-EFGH, Grüße\n" + "x=" * 100 + " \n")
            self.assertTrue(row(mid)["sent"])
            # Never twice after success.
            send_mail("--once", env=smtp_env(sink.port))
            self.assertEqual(len(sink.messages), 1)
        finally:
            sink.close()

    def test_dot_stuffing(self):
        sink = SmtpSink()
        try:
            body = "a\n.\nb\n..c\n"
            mid = queue("dots@example.org", body=body)
            self.assertIn("1 delivered", send_mail("--once", env=smtp_env(sink.port)).stdout)
            msg = email.message_from_bytes(sink.messages[0][2], policy=email.policy.default)
            self.assertEqual(text(msg), body)
            self.assertTrue(row(mid)["sent"])
        finally:
            sink.close()

    def test_server_down_then_up(self):
        port = closed_port()
        mids = [queue("down%d@example.org" % i) for i in range(3)]
        r = send_mail("--once", env=smtp_env(port))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("0 delivered", r.stdout)
        # The first message records the failure and waits 30 s; the others
        # stay due (the server is unreachable, trying them would not help).
        first = row(mids[0])
        self.assertEqual((first["attempts"], first["sent"]), (1, False))
        self.assertTrue(25 <= first["wait"] <= 31, first)
        self.assertIn("smtp 127.0.0.1", first["error"])
        for m in mids[1:]:
            self.assertEqual(row(m)["attempts"], 0)
        # Still down: the due ones are tried, the first one waits.
        send_mail("--once", env=smtp_env(port))
        self.assertEqual(row(mids[0])["attempts"], 1)
        self.assertEqual(row(mids[1])["attempts"], 1)
        # The server comes back; time passes.
        sink = SmtpSink(port)
        try:
            STACK.psql("UPDATE mail_outbox SET next_try_at = now()")
            r = send_mail("--once", env=smtp_env(port))
            self.assertIn("3 delivered", r.stdout, r.stderr)
            self.assertEqual(sorted(m[1][0] for m in sink.messages),
                             ["<down%d@example.org>" % i for i in range(3)])
            self.assertTrue(all(row(m)["sent"] for m in mids))
            send_mail("--once", env=smtp_env(port))
            self.assertEqual(len(sink.messages), 3)
        finally:
            sink.close()

    def test_backoff_and_give_up(self):
        sink = SmtpSink(rcpt_reply="450 mailbox busy")
        try:
            mid = queue("busy@example.org")
            waits = []
            for attempt in range(1, 4):
                r = send_mail("--once", env=smtp_env(sink.port,
                                                     OPENBOOK_MAIL_MAX_ATTEMPTS="3"))
                st = row(mid)
                self.assertEqual(st["attempts"], attempt, r.stderr)
                self.assertFalse(st["sent"])
                waits.append(st["wait"])
                STACK.psql("UPDATE mail_outbox SET next_try_at = now() WHERE id = %d" % mid)
            self.assertTrue(25 <= waits[0] <= 31 and 55 <= waits[1] <= 61, waits)
            self.assertIn("giving up", r.stderr)
            self.assertIn("450", row(mid)["error"])
            # Given up: not tried again.
            send_mail("--once", env=smtp_env(sink.port, OPENBOOK_MAIL_MAX_ATTEMPTS="3"))
            self.assertEqual(row(mid)["attempts"], 3)
            self.assertEqual(sink.messages, [])
        finally:
            sink.close()

    def test_from_setting(self):
        sink = SmtpSink()
        try:
            queue("from@example.org")
            r = send_mail("--once", env=smtp_env(
                sink.port, OPENBOOK_MAIL_FROM="Büro OpenBook <office@example.org>"))
            self.assertIn("1 delivered", r.stdout, r.stderr)
            mail_from, _, data = sink.messages[0]
            self.assertEqual(mail_from, "<office@example.org>")
            msg = email.message_from_bytes(data, policy=email.policy.default)
            self.assertEqual(msg["From"].addresses[0].display_name, "Büro OpenBook")
            self.assertEqual(msg["From"].addresses[0].addr_spec, "office@example.org")
            r = send_mail("--once", env=smtp_env(sink.port, OPENBOOK_MAIL_FROM="a@b.org\rX: y"))
            self.assertEqual(r.returncode, 1)
        finally:
            sink.close()


class Loop(MailTestCase):
    def test_wakes_on_notify_and_stops_on_sigterm(self):
        e = dict(os.environ)
        e.update(support.server_env())
        p = subprocess.Popen([support.binary(), "send-mail", "-c", STACK.config_path,
                              "--interval", "120"], env=e, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        try:
            time.sleep(1.0)
            # Enqueued the way the server does it: insert and NOTIFY, one
            # transaction; the loop must not wait for its 120 s interval.
            out = STACK.psql("BEGIN; WITH m AS (INSERT INTO mail_outbox (recipient, subject, body)"
                             " VALUES ('loop@example.org', 's', 'b') RETURNING id) "
                             "SELECT pg_notify('openbook_mail', id::text) FROM m; COMMIT;")
            del out
            mid = int(STACK.psql("SELECT max(id) FROM mail_outbox").strip())
            support.wait_for(lambda: os.path.exists(os.path.join(MAIL_DIR, "%d.eml" % mid)), 15,
                             what="the loop to deliver the notified mail")
        finally:
            p.send_signal(signal.SIGTERM)
            try:
                _, err = p.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                raise
        self.assertEqual(p.returncode, 0, err)
        self.assertFalse(support.SANITIZER_PATTERNS.search(err), err)

    def test_help_and_bad_options(self):
        r = subprocess.run([support.binary(), "send-mail", "--help"], capture_output=True,
                           text=True, env=dict(os.environ, **support.server_env()))
        self.assertEqual(r.returncode, 0)
        self.assertIn("--once", r.stdout)
        r = subprocess.run([support.binary(), "send-mail", "--interval", "0"],
                           capture_output=True, text=True,
                           env=dict(os.environ, **support.server_env()))
        self.assertEqual(r.returncode, 2)


class FromTheApi(MailTestCase):
    """Mails queued by the authentication API, rendered in the request
    language, delivered as files."""

    def setUp(self):
        super().setUp()
        r = self.req("GET", "/auth-api/app/v1/config")
        if r.status == 404:
            self.skipTest("the authentication API is not part of this build")

    def user(self, name):
        uid = int(STACK.psql("INSERT INTO users (username, email) VALUES (%s, %s) RETURNING id"
                             % (lit(name), lit(name + "@example.org"))).split()[0])
        STACK.psql("INSERT INTO email_addresses (user_id, email, verified, is_primary) "
                   "VALUES (%d, %s, true, true)" % (uid, lit(name + "@example.org")))
        return name + "@example.org"

    def request_reset(self, address, lang):
        r = self.req("POST", "/auth-api/app/v1/auth/password/request",
                     json_body={"email": address}, headers={"Accept-Language": lang})
        self.assertIn(r.status, (200, 401), repr(r))
        self.assertIn("1 delivered", send_mail("--once").stdout)
        mid = int(STACK.psql("SELECT max(id) FROM mail_outbox").strip())
        return eml(mid)[1]

    def test_reset_mail_english(self):
        to = self.user("resetme1")
        msg = self.request_reset(to, "en")
        self.assertEqual(msg["To"], to)
        self.assertEqual(msg["Subject"], "[OpenBook] Password Reset Email")
        body = text(msg)
        self.assertTrue(body.startswith("Hello from OpenBook!\n"), body)
        self.assertIn("can be safely ignored", body)
        self.assertRegex(body, re.escape(self.url("/app/#/account/password/reset/key/"))
                         + r"[A-Za-z0-9_.~%-]{16,}\n")
        self.assertIn("your username is resetme1.", body)
        self.assertTrue(body.rstrip().endswith("Thank you for using OpenBook!\nopenbook.studio"),
                        body)

    def test_reset_mail_german(self):
        to = self.user("resetme2")
        msg = self.request_reset(to, "de-DE,de;q=0.9,en;q=0.5")
        self.assertEqual(msg["Subject"], "[OpenBook] E-Mail zum Zurücksetzen des Passworts")
        body = text(msg)
        self.assertTrue(body.startswith("Hallo von OpenBook!\n"), body)
        self.assertIn("Ihr Benutzername ist resetme2.", body)
        self.assertIn("/app/#/account/password/reset/key/", body)
        self.assertIn("openbook.studio", body)

    def test_unknown_account_mail(self):
        msg = self.request_reset("nobody-%s@example.org" % os.getpid(), "en")
        self.assertEqual(msg["Subject"], "[OpenBook] Unknown Account")
        body = text(msg)
        self.assertIn("do not have any record of such an account", body)
        self.assertIn(self.url("/app/#/account/signup"), body)


class LinkBase(MailTestCase):
    """Mailed links never come from the request's Host outside development
    mode: they use http.public_base_url, else the site's domain, and
    `serve` refuses to start with neither (api-auth.md §9)."""

    def setUp(self):
        super().setUp()
        r = self.req("GET", "/auth-api/app/v1/config")
        if r.status == 404:
            self.skipTest("the authentication API is not part of this build")

    def production(self):
        """Restarts the server outside development mode (what it takes:
        Secure cookies) with an empty public_base_url; undone by cleanup."""
        saved = {k: dict(v) for k, v in STACK.overrides.items()}

        def restore():
            STACK.overrides.clear()
            STACK.overrides.update(saved)
            STACK.restart_server()

        self.addCleanup(restore)
        STACK.overrides.setdefault("server", {})["development"] = False
        STACK.overrides.setdefault("security", {})["cookie_secure"] = True
        STACK.overrides.setdefault("http", {})["public_base_url"] = ""
        STACK.restart_server()

    def test_reset_link_ignores_the_host_header(self):
        self.production()
        STACK.psql("DELETE FROM mail_outbox")
        r = self.req("POST", "/auth-api/app/v1/auth/password/request",
                     json_body={"email": "nobody-links@example.org"},
                     headers={"Host": "localhost:4444"})
        self.assertEqual(r.status, 200, repr(r))
        body = STACK.psql("SELECT body FROM mail_outbox ORDER BY id DESC LIMIT 1")
        self.assertIn("https://openbook.studio/app/#/account/signup", body)
        self.assertNotIn("4444", body)
        self.assertNotIn("localhost", body)

    def test_serve_refuses_to_start_without_a_link_base(self):
        run_dir = support.make_tmpdir("mail-serve")
        self.addCleanup(support.cleanup_dir, run_dir)
        env = dict(STACK.server_env())
        env.update({"OPENBOOK_SERVER_DEVELOPMENT": "false",
                    "OPENBOOK_SECURITY_COOKIE_SECURE": "true",
                    "OPENBOOK_HTTP_PUBLIC_BASE_URL": "",
                    "OPENBOOK_SITE_SITE_ID": "4242",  # no such site: no domain
                    "OPENBOOK_SERVER_LISTEN": "unix:" + os.path.join(run_dir, "fcgi.sock")})
        try:
            r = subprocess.run([support.binary(), "serve", "--single", "-c", STACK.config_path],
                               env=env, capture_output=True, text=True, timeout=20)
        except subprocess.TimeoutExpired:
            self.fail("serve started without public_base_url or a site domain")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("http.public_base_url", r.stderr)
        self.assertFalse(support.SANITIZER_PATTERNS.search(r.stderr), r.stderr)


if __name__ == "__main__":
    unittest.main()
