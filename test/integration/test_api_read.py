"""Read API over nginx: health, API root, sites, languages, list conventions.

Expected bodies come from /work/shared/spec (api-conventions.md, the sites and
languages blocks and section 5 "Initial data" of api-resources.md).
"""

import base64
import hashlib
import os
import socket
import threading
import unittest
from urllib.parse import parse_qs, urlsplit

import support

SITE = {"id": 1, "domain": "openbook.studio", "name": "OpenBook", "short_name": "OpenBook",
        "about_url": "https://openbook.studio", "brand_color": "#e2001a", "auth_config": 1}
DE = {"language": "de", "name": "Deutsch"}
EN = {"language": "en", "name": "English"}

STACK = None


def setUpModule():
    global STACK
    # This module plays the relay itself (or its absence): the stack starts none.
    STACK = support.start_stack("read", with_relay=False)
    support.StackTestCase.stack = STACK


def tearDownModule():
    support.StackTestCase.stack = None
    support.stop_stack(STACK)


def page(results, next_=None, previous=None, count=None):
    return {"count": len(results) if count is None else count, "next": next_,
            "previous": previous, "results": results}


class ReadTestCase(support.StackTestCase):
    def assertSameURL(self, got, want, what=""):
        """Absolute URL equality; the query compares as a multiset of
        parameters (their order is not specified)."""
        if want is None or got is None:
            self.assertEqual(got, want, what)
            return
        g, w = urlsplit(got), urlsplit(want)
        self.assertEqual((g.scheme, g.netloc, g.path), (w.scheme, w.netloc, w.path),
                         "%s: %r != %r" % (what, got, want))
        self.assertEqual(parse_qs(g.query, keep_blank_values=True),
                         parse_qs(w.query, keep_blank_values=True),
                         "%s: %r != %r" % (what, got, want))

    def assertPage(self, r, results, next_=None, previous=None, count=None):
        data = self.assertJSON(r, 200)
        self.assertEqual(sorted(data), ["count", "next", "previous", "results"], repr(r))
        self.assertEqual(data["results"], results, repr(r))
        self.assertEqual(data["count"], len(results) if count is None else count, repr(r))
        self.assertSameURL(data["next"], next_ and self.url(next_), "next")
        self.assertSameURL(data["previous"], previous and self.url(previous), "previous")
        return data


class HealthAndRoot(ReadTestCase):
    def test_health(self):
        r = self.get("/api/core/sites/health/")
        self.assertJSON(r, 200, {"status": "GOOD"})

    def test_health_without_slash(self):
        self.assertJSON(self.get("/api/core/sites/health"), 200, {"status": "GOOD"})

    def test_api_root(self):
        r = self.get("/api/")
        data = self.assertJSON(r, 200)
        self.assertIsInstance(data, dict, repr(r))
        self.assertEqual(data.get("core/sites"), self.url("/api/core/sites/"), repr(r))
        self.assertEqual(data.get("core/languages"), self.url("/api/core/languages/"), repr(r))
        for k, v in data.items():
            self.assertFalse(k.startswith("/") or k.endswith("/") or k.startswith("api/"),
                             "key %r" % k)
            self.assertEqual(v, self.url("/api/%s/" % k), "value of %r" % k)

    def test_api_root_without_slash(self):
        data = self.assertJSON(self.get("/api"), 200)
        self.assertEqual(data.get("core/sites"), self.url("/api/core/sites/"))

    def test_api_root_urls_follow_host(self):
        r = self.get("/api/", headers={"Host": "localhost:%d" % self.port})
        data = self.assertJSON(r, 200)
        self.assertEqual(data.get("core/sites"),
                         "http://localhost:%d/api/core/sites/" % self.port, repr(r))

    def test_forwarded_host_from_client_is_not_believed(self):
        # nginx replaces client-sent X-Forwarded-* (deploy/nginx/openbook.conf).
        r = self.get("/api/", headers={"X-Forwarded-Host": "evil.example",
                                       "X-Forwarded-Proto": "https"})
        data = self.assertJSON(r, 200)
        self.assertEqual(data.get("core/sites"), self.url("/api/core/sites/"), repr(r))

    def test_response_headers(self):
        r = self.get("/api/core/languages/")
        self.assertJSON(r, 200)
        self.assertEqual(r.header("Cache-Control"), "private, no-store", repr(r))
        self.assertEqual(r.header("Vary"), "Accept, Cookie, Accept-Language", repr(r))
        self.assertEqual(r.header("Content-Language"), "en", repr(r))
        self.assertEqual(len(r.header_all("X-Content-Type-Options")), 1, repr(r))

    def test_request_language(self):
        r = self.get("/api/core/sites/", headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})
        self.assertEqual(r.header("Content-Language"), "de", repr(r))
        r = self.get("/api/core/sites/", headers={"Accept-Language": "fr, en;q=0.1"})
        self.assertEqual(r.header("Content-Language"), "en", repr(r))
        r = self.get("/api/core/sites/", headers={"Accept-Language": "en",
                                                  "Cookie": "django_language=de"})
        self.assertEqual(r.header("Content-Language"), "de", repr(r))
        r = self.get("/api/core/sites/", headers={"Accept-Language": "xx",
                                                  "Cookie": "django_language=xx"})
        self.assertEqual(r.header("Content-Language"), "en", repr(r))

    def test_head_is_get_without_body(self):
        for path in ("/api/core/sites/", "/api/core/sites/1/", "/api/core/sites/health/",
                     "/api/core/languages/de/", "/api/nope/"):
            g = self.get(path)
            h = self.req("HEAD", path)
            self.assertEqual(h.status, g.status, "%s: %r vs %r" % (path, h, g))
            self.assertEqual(h.body, b"", repr(h))
            for name in ("Content-Type", "Cache-Control", "Vary", "Content-Language",
                         "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"):
                self.assertEqual(h.header(name), g.header(name),
                                 "%s header %s: HEAD %r GET %r" % (path, name, h, g))
            if h.header("Content-Length") is not None:
                self.assertEqual(int(h.header("Content-Length")), len(g.body), repr(h))

    def test_options(self):
        for path, must, must_not in (
                ("/api/core/sites/", {"GET", "HEAD", "OPTIONS"}, {"POST", "DELETE"}),
                ("/api/core/sites/1/", {"GET", "HEAD", "OPTIONS"}, {"POST", "DELETE"}),
                ("/api/core/languages/", {"GET", "HEAD", "OPTIONS"}, set()),
                ("/api/core/sites/health/", {"GET", "HEAD", "OPTIONS"}, {"POST"})):
            r = self.req("OPTIONS", path)
            self.assertEqual(r.status, 204, "%s: %r" % (path, r))
            self.assertEqual(r.body, b"", repr(r))
            self.assertSecurityHeaders(r)
            allow = {m.strip() for m in (r.header("Allow") or "").split(",") if m.strip()}
            self.assertTrue(must <= allow, "%s: Allow %r" % (path, r.header("Allow")))
            self.assertFalse(must_not & allow, "%s: Allow %r" % (path, r.header("Allow")))


class Sites(ReadTestCase):
    def test_list(self):
        r = self.get("/api/core/sites/")
        self.assertJSON(r, 200, {"count": 1, "next": None, "previous": None, "results": [SITE]})
        self.assertEqual(r.body, b'{"count":1,"next":null,"previous":null,"results":[{"id":1,'
                         b'"domain":"openbook.studio","name":"OpenBook","short_name":"OpenBook",'
                         b'"about_url":"https://openbook.studio","brand_color":"#e2001a",'
                         b'"auth_config":1}]}', "field order / compact JSON")

    def test_list_without_slash(self):
        self.assertJSON(self.get("/api/core/sites"), 200, page([SITE]))

    def test_item(self):
        self.assertJSON(self.get("/api/core/sites/1/"), 200, SITE)

    def test_item_without_slash_no_redirect(self):
        r = self.get("/api/core/sites/1")
        self.assertJSON(r, 200, SITE)
        self.assertIsNone(r.header("Location"))

    def test_missing_item(self):
        self.assertJSON(self.get("/api/core/sites/999/"), 404,
                        {"detail": "No Site matches the given query."})

    def test_bad_key(self):
        # A key of the wrong format is 404 (api-conventions.md section 5).
        for key in ("abc", "1.5", "-1", "0x1", "99999999999999999999999"):
            r = self.get("/api/core/sites/%s/" % key)
            data = self.assertJSON(r, 404)
            self.assertIn(data, ({"detail": "No Site matches the given query."},
                                 {"detail": "Not found."}), "%s: %r" % (key, r))

    def test_filters_and_search(self):
        self.assertPage(self.get("/api/core/sites/?domain=studio"), [SITE])
        self.assertPage(self.get("/api/core/sites/?domain=nomatch"), [])
        self.assertPage(self.get("/api/core/sites/?_search=openbook"), [SITE])
        self.assertPage(self.get("/api/core/sites/?_search=nomatch"), [])

    def test_field_shaping(self):
        self.assertJSON(self.get("/api/core/sites/1/?_fields=id,domain"), 200,
                        {"id": 1, "domain": "openbook.studio"})
        want = dict(SITE)
        del want["about_url"], want["brand_color"]
        self.assertJSON(self.get("/api/core/sites/1/?_omit=about_url,brand_color,bogus"), 200,
                        want)
        self.assertPage(self.get("/api/core/sites/?_fields=name"), [{"name": "OpenBook"}])


class Languages(ReadTestCase):
    def test_list(self):
        r = self.get("/api/core/languages/")
        self.assertJSON(r, 200, page([DE, EN]))

    def test_item(self):
        self.assertJSON(self.get("/api/core/languages/de/"), 200, DE)
        self.assertJSON(self.get("/api/core/languages/en"), 200, EN)

    def test_missing_item(self):
        for code in ("xx", "fr", "deu", "DE"):
            self.assertJSON(self.get("/api/core/languages/%s/" % code), 404,
                            {"detail": "No Language matches the given query."})

    # ---- paging (api-conventions.md section 6)

    def test_page_size(self):
        self.assertPage(self.get("/api/core/languages/?_page_size=1"), [DE], count=2,
                        next_="/api/core/languages/?_page=2&_page_size=1")

    def test_page_2(self):
        self.assertPage(self.get("/api/core/languages/?_page=2&_page_size=1"), [EN], count=2,
                        previous="/api/core/languages/?_page_size=1")

    def test_page_links_keep_other_params(self):
        r = self.get("/api/core/languages/?_page_size=1&_sort=-language&foo=bar")
        self.assertPage(r, [EN], count=2,
                        next_="/api/core/languages/?_page=2&_page_size=1&_sort=-language&foo=bar")
        r = self.get("/api/core/languages/?_page_size=1&_page=2&_sort=-language&foo=bar")
        self.assertPage(r, [DE], count=2,
                        previous="/api/core/languages/?_page_size=1&_sort=-language&foo=bar")

    def test_page_1_explicit(self):
        self.assertPage(self.get("/api/core/languages/?_page=1&_page_size=1"), [DE], count=2,
                        next_="/api/core/languages/?_page=2&_page_size=1")

    def test_page_last(self):
        self.assertPage(self.get("/api/core/languages/?_page=last&_page_size=1"), [EN], count=2,
                        previous="/api/core/languages/?_page_size=1")
        self.assertPage(self.get("/api/core/languages/?_page=last"), [DE, EN])

    def test_invalid_page(self):
        for p in ("0", "x", "99", "3&_page_size=1", "-1", "1.0", "lastx"):
            r = self.get("/api/core/languages/?_page=%s" % p)
            self.assertJSON(r, 404, {"detail": "Invalid page."})

    def test_empty_page_is_page_1(self):
        # As in the original (DRF: `query_params.get("_page") or 1`).
        self.assertPage(self.get("/api/core/languages/?_page=&_page_size=1"), [DE], count=2,
                        next_="/api/core/languages/?_page=2&_page_size=1")

    def test_page_of_empty_list_is_valid(self):
        self.assertPage(self.get("/api/core/languages/?name=nomatch&_page=1"), [])

    def test_bad_page_size_falls_back(self):
        for ps in ("abc", "0", "-5", ""):
            self.assertPage(self.get("/api/core/languages/?_page_size=%s" % ps), [DE, EN])
        # Clamped to page_size_max (1000), not an error.
        self.assertPage(self.get("/api/core/languages/?_page_size=5000"), [DE, EN])

    # ---- search, sort, filters (api-conventions.md section 7)

    def test_search(self):
        self.assertPage(self.get("/api/core/languages/?_search=deu"), [DE])
        self.assertPage(self.get("/api/core/languages/?_search=DEU"), [DE])
        self.assertPage(self.get("/api/core/languages/?_search=engl"), [EN])
        self.assertPage(self.get("/api/core/languages/?_search=xyz"), [])

    def test_search_terms_all_must_match(self):
        # "e" matches both, "sch" only Deutsch.
        self.assertPage(self.get("/api/core/languages/?_search=e%20sch"), [DE])
        self.assertPage(self.get("/api/core/languages/?_search=e,sch"), [DE])
        # "de" and "en" never match the same row.
        self.assertPage(self.get("/api/core/languages/?_search=de+en"), [])
        # However many terms: none is left out (the 17th once was).
        self.assertPage(self.get("/api/core/languages/?_search=" + "+".join(["e"] * 16 + ["sch"])),
                        [DE])
        self.assertPage(self.get("/api/core/languages/?_search=" + "+".join(["e"] * 20 + ["zq"])),
                        [])
        self.assertJSON(self.get("/api/core/languages/?_search=" + "+".join(["e"] * 70)), 400,
                        {"detail": "Too many filters."})

    def test_empty_search_does_nothing(self):
        self.assertPage(self.get("/api/core/languages/?_search="), [DE, EN])
        self.assertPage(self.get("/api/core/languages/?_search=%20"), [DE, EN])

    def test_sort(self):
        self.assertPage(self.get("/api/core/languages/?_sort=-language"), [EN, DE])
        self.assertPage(self.get("/api/core/languages/?_sort=language"), [DE, EN])
        self.assertPage(self.get("/api/core/languages/?_sort=-name"), [EN, DE])
        self.assertPage(self.get("/api/core/languages/?_sort=bogus,-name"), [EN, DE])

    def test_sort_unknown_ignored(self):
        self.assertPage(self.get("/api/core/languages/?_sort=bogus"), [DE, EN])
        self.assertPage(self.get("/api/core/languages/?_sort=-bogus,,"), [DE, EN])

    def test_filter_name_substring(self):
        self.assertPage(self.get("/api/core/languages/?name=Eng"), [EN])
        self.assertPage(self.get("/api/core/languages/?name=tsch"), [DE])
        self.assertPage(self.get("/api/core/languages/?name=nomatch"), [])

    def test_unknown_params_ignored(self):
        self.assertPage(self.get("/api/core/languages/?foo=bar&language__xx=1"), [DE, EN])

    def test_repeated_filters_all_apply(self):
        # A repeated filter is one more condition (AND), like any other.
        self.assertPage(self.get("/api/core/languages/?name__icontains=e&name__icontains=sch"),
                        [DE])
        self.assertPage(self.get("/api/core/languages/?name__icontains=e&name__icontains=ZZZ"),
                        [])

    def test_too_many_filters_is_400_never_a_partial_filter(self):
        # Past what one statement can carry, the request is refused as a
        # whole: never answered with some filters left out (which showed
        # rows the last filter excludes), never a 5xx.
        q = "&".join(["name__icontains=e"] * 70 + ["name__icontains=ZZZ"])
        self.assertJSON(self.get("/api/core/languages/?" + q), 400,
                        {"detail": "Too many filters."})
        # The resource's own filters too (a textbook's group): no statement
        # with a broken placeholder reaches the database.
        g = "00000000-0000-4000-8000-000000000000"
        q = "&".join(["group=" + g] * 70)
        self.assertJSON(self.get("/api/content/textbooks/?" + q), 400,
                        {"detail": "Too many filters."})
        # Search terms are values too.
        q = "&".join(["name__icontains=e"] * 60)
        self.assertJSON(self.get("/api/core/languages/?%s&_search=%s"
                                 % (q, "+".join("t%d" % i for i in range(16)))), 400,
                        {"detail": "Too many filters."})

    def test_reference_filter_with_a_non_uuid(self):
        # api-conventions.md 7.3: a reference filter answers as the
        # original's choice filter; a well-formed key of nothing finds nothing.
        for path, name in (("/api/content/textbooks/", "group"),
                           ("/api/content/library_groups/", "parent"),
                           ("/api/content/course_materials/", "course")):
            self.assertJSON(self.get("%s?%s=not-a-uuid" % (path, name)), 400, {name: [
                "Select a valid choice. That choice is not one of the available choices."]})
            self.assertPage(self.get("%s?%s=00000000-0000-4000-8000-000000000000"
                                     % (path, name)), [])

    def test_fields_omit(self):
        self.assertPage(self.get("/api/core/languages/?_fields=language"),
                        [{"language": "de"}, {"language": "en"}])
        self.assertPage(self.get("/api/core/languages/?_omit=name"),
                        [{"language": "de"}, {"language": "en"}])
        self.assertPage(self.get("/api/core/languages/?_fields=name,bogus"),
                        [{"name": "Deutsch"}, {"name": "English"}])
        self.assertJSON(self.get("/api/core/languages/de/?_fields=name"), 200,
                        {"name": "Deutsch"})
        self.assertJSON(self.get("/api/core/languages/de/?_omit=bogus"), 200, DE)

    def test_combined(self):
        r = self.get("/api/core/languages/?_search=e&_sort=-language&_fields=language"
                     "&_page_size=1&_page=2")
        self.assertPage(r, [{"language": "de"}], count=2,
                        previous="/api/core/languages/?_search=e&_sort=-language"
                                 "&_fields=language&_page_size=1")


class FrontServer(support.MediaServingMixin, ReadTestCase):
    """What nginx serves itself (deploy/nginx/openbook.conf)."""

    put_media = support.MediaServingMixin.put_media_file

    def test_media_lib_nosniff(self):
        self.put_media("lib/acme/widgets/1.0.0/library.js", b"export default 1;\n")
        r = self.get("/media/lib/acme/widgets/1.0.0/library.js")
        self.assertEqual(r.status, 200, repr(r))
        self.assertEqual(r.body, b"export default 1;\n")
        self.assertIn(r.header("Content-Type"), ("application/javascript", "text/javascript"))
        self.assertEqual(r.header_all("X-Content-Type-Options"), ["nosniff"], repr(r))
        self.assertIn("max-age=3600", ",".join(r.header_all("Cache-Control")), repr(r))

    def test_media_file(self):
        self.put_media("openbook_content/course/x/notes.txt", b"hello")
        r = self.get("/media/openbook_content/course/x/notes.txt")
        self.assertEqual((r.status, r.body), (200, b"hello"), repr(r))
        self.assertTrue(r.header("Content-Type", "").startswith("text/plain"), repr(r))
        self.assertEqual(r.header_all("X-Content-Type-Options"), ["nosniff"], repr(r))
        self.assertIn("max-age=3600", ",".join(r.header_all("Cache-Control")), repr(r))

    def test_media_errors_are_json(self):
        self.put_media("lib-install/secret.zip", b"PK")
        for path in ("/media/", "/media/nothing.txt", "/media/lib/", "/media/lib-install/secret.zip",
                     "/static/nothing.js", "/static/"):
            self.assertJSON(self.get(path), 404, {"detail": "Not found."})

    def test_static_method_not_allowed_is_json(self):
        self.put_media("lib/a.js", b"1")
        r = self.req("POST", "/media/lib/a.js", body=b"x")
        self.assertJSON(r, 405, {"detail": 'Method "POST" not allowed.'})

    def test_relay_down_is_json(self):
        # No relay runs in this stack: nginx's 502 must be JSON too.
        r = self.get("/ws/events", headers={"Upgrade": "websocket", "Connection": "Upgrade"})
        self.assertJSON(r, 502, {"detail": "Service temporarily unavailable."})

    def test_websocket_proxied_to_relay(self):
        # A stand-in relay on relay.listen: nginx must pass the upgrade
        # through and then relay bytes both ways.
        path = self.stack.relay_socket_path
        if os.path.exists(path):
            os.unlink(path)
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(path)
        os.chmod(path, 0o666)
        srv.listen(1)
        srv.settimeout(10)
        seen = {}

        def relay():
            try:
                c, _ = srv.accept()
                c.settimeout(10)
                buf = b""
                while b"\r\n\r\n" not in buf:
                    d = c.recv(4096)
                    if not d:
                        return
                    buf += d
                head = buf.split(b"\r\n\r\n")[0].decode("latin1").split("\r\n")
                seen["request"] = head[0]
                seen["headers"] = {k.strip().lower(): v.strip() for k, _, v in
                                   (h.partition(":") for h in head[1:])}
                key = seen["headers"].get("sec-websocket-key", "")
                acc = base64.b64encode(hashlib.sha1(
                    (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
                c.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n"
                           % acc).encode())
                data = c.recv(100)
                c.sendall(b"echo:" + data)
                c.close()
            except OSError as e:
                seen["error"] = repr(e)

        t = threading.Thread(target=relay)
        t.start()
        try:
            cl = socket.create_connection(("127.0.0.1", self.port), timeout=10)
            cl.sendall(("GET /ws/events?ticket=abc HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                        "Sec-WebSocket-Version: 13\r\nOrigin: http://127.0.0.1:%d\r\n\r\n"
                        % (self.port, self.port)).encode())
            buf = b""
            while b"\r\n\r\n" not in buf:
                d = cl.recv(4096)
                if not d:
                    break
                buf += d
            head, _, rest = buf.partition(b"\r\n\r\n")
            self.assertTrue(head.startswith(b"HTTP/1.1 101"), "%r (relay saw %r)" % (buf, seen))
            self.assertIn(b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", head)
            cl.sendall(b"ping")
            while len(rest) < len(b"echo:ping"):
                d = cl.recv(100)
                if not d:
                    break
                rest += d
            self.assertEqual(rest, b"echo:ping")
            cl.close()
        finally:
            t.join(10)
            srv.close()
            os.unlink(path)
        self.assertEqual(seen.get("request"), "GET /ws/events?ticket=abc HTTP/1.1", seen)
        h = seen["headers"]
        self.assertEqual(h.get("upgrade"), "websocket", h)
        self.assertEqual(h.get("connection", "").lower(), "upgrade", h)
        self.assertEqual(h.get("host"), "127.0.0.1:%d" % self.port, h)
        self.assertEqual(h.get("x-forwarded-for"), "127.0.0.1", h)
        self.assertEqual(h.get("origin"), "http://127.0.0.1:%d" % self.port, h)


if __name__ == "__main__":
    unittest.main()
