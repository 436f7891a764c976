"""Uploads (api-conventions.md §2, §13; api-resources.md media_files, the
users' picture, the auth configs' images): multipart create and file
replacement, the attached object must exist, sanitized and unique names,
MIME types, removal on replace, clear and delete, a failed write leaves no
file; the limits (413 from nginx and from the server itself); a client
that goes away mid-upload and a worker killed mid-upload leave no staged
file; and uploads to a `serve --single` process (mod_fcgid's mode) as
well as through the pool.
"""

import os
import secrets
import signal
import socket
import struct
import subprocess
import time
import unittest
import uuid

import perm_support as ps
import support

STACK = None
W = None
SU = None
GROUP = None
MEDIA = "/api/core/media_files/"


def setUpModule():
    global STACK, W, SU, GROUP
    STACK = support.start_stack("uploads")
    support.StackTestCase.stack = STACK
    W = ps.World(STACK)
    SU = W.user("admin", superuser=True)
    GROUP = W.scope(ps.GROUP)


def tearDownModule():
    support.StackTestCase.stack = None
    support.stop_stack(STACK)


def staged():
    d = os.path.join(STACK.media_dir, ".staging")
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def upload(user, method, path, fields=(), files=()):
    ctype, body = support.multipart(fields, files)
    h = {"Content-Type": ctype}
    if user is not None:
        h["Authorization"] = "Token " + user.token
    return support.request(STACK.port, method, path, body=body, headers=h)


def media_path(url):
    """The file on disk behind a media URL."""
    rel = url.split("/media/", 1)[1]
    return os.path.join(STACK.media_dir, rel)


def fcgi_partial(sock_path, params, stdin_part):
    """Begins a FastCGI request and sends only part of its body; returns the
    open socket (the caller closes it, or keeps it open)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect(sock_path)
    pb = b"".join(support._fcgi_len(len(k.encode())) + support._fcgi_len(len(v.encode()))
                  + k.encode() + v.encode() for k, v in params.items())
    msg = support._fcgi_record(support.FCGI_BEGIN, struct.pack(">HB5x", 1, 0))
    msg += support._fcgi_record(support.FCGI_PARAMS, pb)
    msg += support._fcgi_record(support.FCGI_PARAMS, b"")
    msg += support._fcgi_record(support.FCGI_STDIN, stdin_part)
    s.sendall(msg)
    return s


def media_params(ctype, length, user=None):
    return support.fcgi_params("POST", MEDIA, content_type=ctype, extra={
        "CONTENT_LENGTH": str(length),
        "HTTP_AUTHORIZATION": "Token " + (user or SU).token})


def media_form(name="a.bin", data=b"x"):
    return support.multipart([("content_type", "openbook_content.librarygroup"),
                              ("object_id", GROUP)], [("file_data", name, data)])


class MediaFiles(ps.Base):

    def test_create_replace_delete(self):
        data = secrets.token_bytes(3000)
        r = upload(SU, "POST", MEDIA, [("content_type", "openbook_content.librarygroup"),
                                       ("object_id", GROUP)],
                   [("file_data", "photo.png", data, "image/png")])
        m = self.assertJSON(r, 201)
        ct = int(STACK.psql("SELECT id FROM content_types WHERE app_label = 'openbook_content'"
                            " AND model = 'librarygroup'").split()[0])
        self.assertEqual((m["content_type"], m["object_id"], m["file_name"], m["file_size"],
                          m["mime_type"]), (ct, GROUP, "photo.png", 3000, "image/png"))
        self.assertTrue(m["file_data"].endswith(
            "/media/openbook_content/librarygroup/%s/photo.png" % m["id"]), m)
        path = media_path(m["file_data"])
        with open(path, "rb") as f:
            self.assertEqual(f.read(), data)
        got = self.get("/media/" + m["file_data"].split("/media/", 1)[1])
        self.assertEqual((got.status, got.body), (200, data))
        self.assertEqual(got.header("X-Content-Type-Options"), "nosniff")
        # GET shows the same.
        self.assertEqual(self.assertJSON(SU.call("GET", MEDIA + m["id"] + "/"), 200), m)
        # Replace the file (PATCH, multipart): the old one goes.
        new = secrets.token_bytes(100)
        r = upload(SU, "PATCH", MEDIA + m["id"] + "/", files=[("file_data", "other.txt", new)])
        m2 = self.assertJSON(r, 200)
        self.assertEqual((m2["file_name"], m2["file_size"], m2["mime_type"]),
                         ("other.txt", 100, "text/plain"))
        self.assertFalse(os.path.exists(path))
        with open(media_path(m2["file_data"]), "rb") as f:
            self.assertEqual(f.read(), new)
        # PATCH without a file keeps it.
        r = SU.call("PATCH", MEDIA + m["id"] + "/", {"object_id": GROUP})
        self.assertEqual(self.assertJSON(r, 200)["file_data"], m2["file_data"])
        # Delete: the file goes too.
        self.assertEqual(SU.call("DELETE", MEDIA + m["id"] + "/").status, 204)
        self.assertFalse(os.path.exists(media_path(m2["file_data"])))
        self.assertEqual(staged(), [])

    def test_names_are_sanitized_and_unique(self):
        paths = []
        for _ in range(2):
            r = upload(SU, "POST", MEDIA, [("content_type", "openbook_content.librarygroup"),
                                           ("object_id", GROUP)],
                       [("file_data", "../../x/.\x01evil\u202e.html", b"<script>1</script>")])
            m = self.assertJSON(r, 201)
            self.assertEqual(m["mime_type"], "text/html")
            paths.append(media_path(m["file_data"]))
            self.assertEqual(m["file_name"], os.path.basename(paths[-1]))
            self.assertTrue(os.path.realpath(paths[-1]).startswith(
                os.path.realpath(STACK.media_dir) + "/openbook_content/"))
        self.assertEqual(os.path.basename(paths[0]), "evil.html")
        # Another media file, another folder: the same name is fine there;
        # within one folder a second name gets a suffix (not tested here:
        # each media file has its own folder).
        got = self.get("/media/" + paths[0].split(STACK.media_dir + "/", 1)[1])
        self.assertEqual(got.header("Content-Disposition"), "attachment")

    def test_object_must_exist_and_nothing_is_left(self):
        before = sorted(os.listdir(STACK.media_dir))
        r = upload(SU, "POST", MEDIA, [("content_type", "openbook_content.librarygroup"),
                                       ("object_id", str(uuid.uuid4()))],
                   [("file_data", "a.txt", b"data")])
        self.assertJSON(r, 400, {"object_id": ["Object not found."]})
        r = upload(SU, "POST", MEDIA, [("content_type", "openbook_content.librarygroup"),
                                       ("object_id", GROUP)])
        self.assertJSON(r, 400, {"file_data": ["No file was submitted."]})
        self.assertEqual(sorted(os.listdir(STACK.media_dir)), before)
        self.assertEqual(staged(), [])

    def test_permissions(self):
        ctype, body = media_form()
        r = support.request(STACK.port, "POST", MEDIA, body=body,
                            headers={"Content-Type": ctype})
        self.assertJSON(r, 403, ps.NO_CREDENTIALS)
        # Without view_mediafile a create is 404 (permissions.md §6.3),
        # with it but without add_mediafile 403; nothing is stored.
        before = sorted(os.listdir(STACK.media_dir))
        plain = W.user("plain")
        form = ([("content_type", "openbook_content.librarygroup"), ("object_id", GROUP)],
                [("file_data", "a", b"x")])
        self.assertJSON(upload(plain, "POST", MEDIA, *form), 404,
                        {"detail": "No MediaFile matches the given query."})
        viewer = W.user("viewer", perms=["openbook_core.view_mediafile"])
        self.assertJSON(upload(viewer, "POST", MEDIA, *form), 403, ps.FORBIDDEN)
        adder = W.user("adder", perms=["openbook_core.view_mediafile",
                                       "openbook_core.add_mediafile"])
        self.assertJSON(upload(adder, "POST", MEDIA, *form), 201)
        self.assertEqual(staged(), [])
        self.assertEqual(len(os.listdir(STACK.media_dir)), len(before) + (0 if
                         "openbook_content" in before else 1))


class Limits(ps.Base):

    def test_nginx_413(self):
        r = support.raw_request(
            STACK.port,
            ("POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: Token %s\r\n"
             "Content-Type: multipart/form-data; boundary=x\r\nContent-Length: %d\r\n"
             "Connection: close\r\n\r\n" % (MEDIA, STACK.port, SU.token, 20971521)).encode(),
            body_chunks=[b"x" * 65536])
        self.assertDetail(r, 413, "Request body too large.")

    def test_server_413_without_reading(self):
        # Straight to the pool (no nginx): the server's own limit.
        ctype, _ = media_form()
        r = support.fcgi_request(STACK.socket_path, media_params(ctype, 20971521), b"x" * 1000)
        self.assertDetail(r, 413, "Request body too large.")

    def test_file_over_the_limit_while_streaming(self):
        # A body that announces less than it is cannot happen through
        # nginx; a file part over the limit inside a body that fits can:
        # the parser stops it (413) and the staged part goes.
        STACK.overrides.setdefault("http", {})["max_upload_bytes"] = 200000
        STACK.write_config()
        STACK.reload()
        try:
            support.wait_for(lambda: self.bigger() == 413, 30, what="the reloaded limit")
        finally:
            del STACK.overrides["http"]["max_upload_bytes"]
            STACK.write_config()
            STACK.reload()
            support.wait_for(lambda: self.bigger() == 201, 30, what="the limit restored")
        self.assertEqual(staged(), [])

    def bigger(self):
        r = upload(SU, "POST", MEDIA, [("content_type", "openbook_content.librarygroup"),
                                       ("object_id", GROUP)],
                   [("file_data", "big.bin", b"y" * 300000)])
        return r.status

    def test_json_only_endpoints_refuse_multipart(self):
        ctype, body = support.multipart([("language", "xx"), ("name", "X")])
        r = support.request(STACK.port, "POST", "/api/core/languages/", body=body,
                            headers={"Content-Type": ctype,
                                     "Authorization": "Token " + SU.token})
        self.assertDetail(r, 415, "Unsupported media type")


class Interrupted(ps.Base):

    def test_client_goes_away_mid_upload(self):
        ctype, body = media_form(data=secrets.token_bytes(4 << 20))
        s = fcgi_partial(STACK.socket_path, media_params(ctype, len(body)), body[:1 << 20])
        support.wait_for(lambda: staged(), 30, what="the upload staged")
        s.close()
        support.wait_for(lambda: not staged(), 30, what="the staged part removed")
        self.assertEqual(self.get("/api/core/sites/health/").status, 200)

    def test_worker_killed_mid_upload(self):
        ctype, body = media_form(data=secrets.token_bytes(4 << 20))
        s = fcgi_partial(STACK.socket_path, media_params(ctype, len(body)), body[:1 << 20])
        try:
            support.wait_for(lambda: staged(), 30, what="the upload staged")
            pid = int(staged()[0].split("-", 1)[0])
            self.assertIn(pid, STACK.worker_pids())
            os.kill(pid, signal.SIGKILL)
            # The master reaps it and removes what it was staging.
            support.wait_for(lambda: not staged(), 30, what="the dead worker's part removed")
        finally:
            s.close()
        support.wait_for(lambda: len(STACK.worker_pids()) == STACK.workers, 30,
                         what="the worker replaced")


class SingleProcess(ps.Base):
    """`openbook serve --single`, as mod_fcgid runs it."""

    def test_upload_to_single(self):
        sock = os.path.join(STACK.root, "single.sock")
        p = subprocess.Popen([STACK.binary, "serve", "--single", "-c", STACK.config_path,
                              "--listen", "unix:" + sock],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             env=STACK.server_env())
        try:
            support.wait_for(lambda: os.path.exists(sock), 30, what="the --single socket")
            data = secrets.token_bytes(1 << 20)
            ctype, body = media_form("single.bin", data)
            r = support.fcgi_request(sock, media_params(ctype, len(body)), body)
            m = self.assertJSON(r, 201, security=False)
            with open(media_path(m["file_data"]), "rb") as f:
                self.assertEqual(f.read(), data)
            # A client that goes away: nothing staged is left.
            s = fcgi_partial(sock, media_params(ctype, len(body)), body[:100000])
            s.close()
            r = support.fcgi_request(sock, support.fcgi_params("GET", "/api/core/sites/health/"))
            self.assertEqual(r.status, 200)
            self.assertEqual(staged(), [])
        finally:
            p.send_signal(signal.SIGTERM)
            p.wait(30)


class Pictures(ps.Base):

    def test_user_picture(self):
        u = W.user("pic")
        path = "/api/auth/users/%s/" % u.name
        data = secrets.token_bytes(500)
        r = upload(u, "PATCH", path, files=[("picture", "me.JPG", data, "image/jpeg")])
        d = self.assertJSON(r, 200)
        self.assertTrue(d["picture"].endswith("/media/openbook_auth/User/%s/me.JPG" % u.name),
                        d)
        file = media_path(d["picture"])
        with open(file, "rb") as f:
            self.assertEqual(f.read(), data)
        # A new picture replaces the old file.
        r = upload(u, "PATCH", path, files=[("picture", "me2.png", b"png")])
        d2 = self.assertJSON(r, 200)
        self.assertFalse(os.path.exists(file))
        # "" clears it (JSON), and the file goes.
        d3 = self.assertJSON(u.call("PATCH", path, {"picture": ""}), 200)
        self.assertIsNone(d3["picture"])
        self.assertFalse(os.path.exists(media_path(d2["picture"])))
        # Someone else's picture: not theirs to change.
        other = W.user("other")
        r = upload(other, "PATCH", path, files=[("picture", "x.png", b"x")])
        self.assertIn(r.status, (403, 404))
        self.assertEqual(staged(), [])

    def test_auth_config_images(self):
        path = "/api/auth/auth_configs/1/"
        r = upload(SU, "PATCH", path, files=[("login_image", "login.svg", b"<svg/>")])
        d = self.assertJSON(r, 200)
        self.assertTrue(d["login_image"].endswith("/media/openbook_auth/AuthConfig/1/login.svg"),
                        d)
        file = media_path(d["login_image"])
        self.assertTrue(os.path.isfile(file))
        d = self.assertJSON(SU.call("PATCH", path, {"login_image": ""}), 200)
        self.assertIsNone(d["login_image"])
        self.assertFalse(os.path.exists(file))
        staff = W.user("st", staff=True, perms=["openbook_auth.change_authconfig"])
        r = upload(staff, "PATCH", path, files=[("login_image", "l.png", b"x")])
        self.assertJSON(r, 403, ps.FORBIDDEN)
        self.assertEqual(staged(), [])


if __name__ == "__main__":
    unittest.main()
