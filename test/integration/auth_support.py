"""Helpers of the authentication API tests (test_auth_*.py).

A Client keeps what a real client keeps: the cookies (browser client:
sessionid, csrftoken; the X-CSRFToken header is sent on unsafe methods) or
the session token (app client: meta.session_token -> X-Session-Token).
Mails are read from the mail_outbox table, where every mail is queued in
the transaction of the request that caused it.
"""

import base64
import hashlib
import json
import os
import re
import secrets

import support

COMMON_PASSWORDS = os.path.join(support.REPO, "conf", "common-passwords.txt.gz")
GOOD_PASSWORD = "Vq8#lumen-Orchard-42"


def start_auth_stack(tag, workers=2, config=None):
    mail_dir = support.make_tmpdir(tag + "-mail")
    cfg = {
        "auth": {"common_passwords": COMMON_PASSWORDS},
        "mail": {"backend": "file", "file_dir": mail_dir},
    }
    for section, values in (config or {}).items():
        cfg.setdefault(section, {}).update(values)
    st = support.start_stack(tag, workers=workers, config=cfg)
    st.mail_dir = mail_dir
    return st


def flush_redis(st):
    """Empties Redis (the rate-limit counters) between tests."""
    with st.redis_connection() as s:
        s.sendall(b"FLUSHALL\r\n")
        assert s.recv(64).startswith(b"+OK")


def sql_literal(v):
    if v is None:
        return "NULL"
    return "'" + str(v).replace("'", "''") + "'"


def pbkdf2_hash(password, iterations=1000, salt=None):
    """A hash in the original server's format (Django's PBKDF2PasswordHasher)."""
    salt = salt or secrets.token_hex(8)
    dk = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations, 32)
    return "pbkdf2_sha256$%d$%s$%s" % (iterations, salt, base64.b64encode(dk).decode())


def create_user(st, username, password=GOOD_PASSWORD, email=None, verified=True,
                is_active=True, user_type="human"):
    """Inserts a user with a pbkdf2 hash (as imported from the original) and
    its primary address; returns the id."""
    email = email if email is not None else "%s@example.org" % username.lower()
    uid = st.psql(
        "INSERT INTO users (username, password, email, is_active, user_type) VALUES "
        "(%s, %s, %s, %s, %s) RETURNING id"
        % (sql_literal(username), sql_literal(pbkdf2_hash(password) if password else "!"),
           sql_literal(email), "true" if is_active else "false", sql_literal(user_type))
    ).strip().splitlines()[0]
    if email:
        st.psql("INSERT INTO email_addresses (user_id, email, verified, is_primary) VALUES "
                "(%s, %s, %s, true)" % (uid, sql_literal(email), "true" if verified else "false"))
    return int(uid)


def mails(st, to=None):
    """Queued mails, oldest first: dicts with id, to, subject, body."""
    out = st.psql("SELECT json_agg(json_build_object('id', id, 'to', recipient, "
                  "'subject', subject, 'body', body) ORDER BY id) FROM mail_outbox").strip()
    items = json.loads(out) if out else []
    items = items or []
    if to is not None:
        items = [m for m in items if m["to"] == to]
    return items


def last_mail(st, to):
    m = mails(st, to)
    assert m, "no mail to %s" % to
    return m[-1]


def verify_key(mail):
    m = re.search(r"/app/#/account/verify-email/([A-Za-z0-9%_.~-]+)", mail["body"])
    assert m, "no verification link in %r" % mail["body"]
    return m.group(1)


def reset_key(mail):
    m = re.search(r"/app/#/account/password/reset/key/([A-Za-z0-9%_.~-]+)", mail["body"])
    assert m, "no reset link in %r" % mail["body"]
    return m.group(1)


def login_code(mail):
    m = re.search(r"\b([B-DF-HJ-NP-TV-XZ]{4}-[B-DF-HJ-NP-TV-XZ]{4})\b", mail["body"])
    assert m, "no code in %r" % mail["body"]
    return m.group(1)


class Client:
    """One browser (cookies) or app (session token) client."""

    def __init__(self, st, kind="browser", remote=None):
        self.st = st
        self.kind = kind
        self.cookies = {}
        self.token = None
        self.base = "/auth-api/%s/v1" % kind
        self.last = None

    def _headers(self, method, headers):
        h = {}
        if self.cookies:
            h["Cookie"] = "; ".join("%s=%s" % kv for kv in self.cookies.items())
        if self.kind == "browser" and method in ("POST", "PUT", "PATCH", "DELETE") and \
                "csrftoken" in self.cookies:
            h["X-CSRFToken"] = self.cookies["csrftoken"]
        if self.token:
            h["X-Session-Token"] = self.token
        h.update(headers or {})
        return h

    def _remember(self, r):
        for v in r.header_all("Set-Cookie"):
            name, _, rest = v.partition("=")
            value = rest.split(";", 1)[0]
            if "Max-Age=0" in v:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        try:
            data = r.json()
        except ValueError:
            return
        if isinstance(data, dict):
            tok = (data.get("meta") or {}).get("session_token")
            if tok:
                self.token = tok

    def req(self, method, path, body=None, headers=None, raw=None):
        full = path if path.startswith("/") and path.startswith("/auth-api") else self.base + path
        kw = {"headers": self._headers(method, headers)}
        if raw is not None:
            kw["body"] = raw
            kw["headers"].setdefault("Content-Type", "application/json")
        elif body is not None:
            kw["json_body"] = body
        r = support.request(self.st.port, method, full, **kw)
        self._remember(r)
        self.last = r
        return r

    def get(self, path, **kw):
        return self.req("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.req("POST", path, body=body if body is not None else {}, **kw)

    def delete(self, path, body=None, **kw):
        return self.req("DELETE", path, body=body, **kw)

    def put(self, path, body=None, **kw):
        return self.req("PUT", path, body=body, **kw)

    def patch(self, path, body=None, **kw):
        return self.req("PATCH", path, body=body, **kw)

    def prime(self):
        """A browser first fetches something to get its csrftoken cookie."""
        if self.kind == "browser":
            self.get("/config")
        return self

    def login(self, username, password=GOOD_PASSWORD):
        return self.post("/auth/login", {"username": username, "password": password})


def flow_ids(data):
    return [f["id"] for f in data["data"]["flows"]]
