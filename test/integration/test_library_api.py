"""HTML component libraries through the API (libraries.md §5, §6;
api-resources.md §2 html_library/*): POST /api/core/html_library/install/
with every hostile archive of zip_factory.py (the spec's 400 message, no
file and no row left), its permissions, replace and force, the answer's
shape and _expand; the five read resources; PATCH published; DELETE of a
version and of a library with the dependants check; the events; and an
install racing an uninstall.
"""

import json
import os
import subprocess
import threading
import unittest
from urllib.parse import unquote

import perm_support as ps
import support
import zip_factory as zf
from test_libraries import LIMITS, TABLES, library, media_tree, row_counts

STACK = None
W = None
SU = None
DEMO = os.path.join(support.REPO, "test", "libraries", "ob-demo")
INSTALL = "/api/core/html_library/install/"


def setUpModule():
    global STACK, W, SU
    STACK = support.start_stack("library-api", config={"http": {
        "library_max_entries": LIMITS["max_entries"],
        "library_max_uncompressed_bytes": LIMITS["max_uncompressed"],
        "library_max_manifest_bytes": LIMITS["max_manifest"],
    }})
    support.StackTestCase.stack = STACK
    W = ps.World(STACK)
    SU = W.user("admin", superuser=True)


def tearDownModule():
    support.StackTestCase.stack = None
    support.stop_stack(STACK)


def install(user, data, name="lib.zip", force=None, replace=None, query=""):
    fields = []
    if force is not None:
        fields.append(("force", force))
    if replace is not None:
        fields.append(("replace", replace))
    ctype, body = support.multipart(fields, [("file", name, data, "application/zip")])
    h = {"Content-Type": ctype}
    if user is not None:
        h["Authorization"] = "Token " + user.token
    return support.request(STACK.port, "POST", INSTALL + query, body=body, headers=h)


def q(sql):
    return [line.split("|") for line in STACK.psql(sql).splitlines() if line]


def wipe():
    STACK.psql("DELETE FROM html_libraries")
    lib = os.path.join(STACK.media_dir, "lib")
    if os.path.isdir(lib):
        import shutil
        shutil.rmtree(lib)


class Install(ps.Base):

    def setUp(self):
        wipe()

    def assertNothingLeft(self):
        self.assertEqual(row_counts(STACK), {t: 0 for t in TABLES})
        self.assertIn(media_tree(STACK), ([], [".staging"]))

    def test_demo_library(self):
        data = zf.library_zip(DEMO)
        r = install(SU, data, "ob-demo.zip", query="?_expand=parent,components")
        v = self.assertJSON(r, 201)
        self.assertEqual(v["version"], "1.0.0")
        self.assertEqual(v["warnings"], [])
        self.assertIsNone(v["dependencies"])
        self.assertEqual(v["frontend_url"], "/media/lib/openbook/demo/1.0.0/library.js")
        self.assertTrue(unquote(v["file_data"]).endswith("/media/lib/@openbook_demo_1.0.0.zip"),
                        v["file_data"])
        self.assertEqual((v["file_name"], v["file_size"], v["mime_type"]),
                         ("ob-demo.zip", len(data), "application/zip"))
        self.assertEqual(v["parent"]["fqn"], "@openbook/demo")
        self.assertEqual(sorted(c["definition"]["tag-name"] for c in v["components"]),
                         ["ob-code-editor", "ob-info-box", "ob-quiz", "ob-quiz-question"])
        self.assertEqual(v["created_by"], SU.name)
        # The files are public; the archive too (file_data).
        self.assertEqual(self.get("/media/lib/openbook/demo/1.0.0/library.js").status, 200)
        self.assertEqual(self.get("/media/lib/@openbook_demo_1.0.0.zip").body, data)
        # Again: replaced (200), the same version row.
        r = install(SU, data, "ob-demo.zip")
        self.assertEqual(self.assertJSON(r, 200)["id"], v["id"])
        # replace=false: 409, nothing changes.
        r = install(SU, data, replace="false")
        self.assertJSON(r, 409, {"detail": "This library version is already installed."})

    def test_every_hostile_archive(self):
        for case in zf.HOSTILE:
            with self.subTest(case=case):
                r = install(SU, zf.hostile(case, **LIMITS))
                body = self.assertJSON(r, 400)
                self.assertEqual(list(body), ["file"])
                self.assertEqual(len(body["file"]), 1)
                self.assertTrue(body["file"][0].startswith(zf.expected_message(case, **LIMITS)),
                                body)
                self.assertNothingLeft()

    def test_input_errors(self):
        h = {"Authorization": "Token " + SU.token}
        r = SU.call("POST", INSTALL, {"file": "x"})
        self.assertJSON(r, 415, {"detail": 'Unsupported media type "application/json" in '
                                           'request.'})
        ctype, body = support.multipart([("force", "true")])
        r = support.request(STACK.port, "POST", INSTALL, body=body,
                            headers=dict(h, **{"Content-Type": ctype}))
        self.assertJSON(r, 400, {"file": ["No file was submitted."]})
        r = install(SU, library("alpha", "1.0.0"), force="maybe")
        self.assertJSON(r, 400, {"force": ["Must be a valid boolean."]})
        self.assertNothingLeft()
        # Over library_archive_max_bytes + the form: nginx answers 413
        # (JSON) before the application sees it.
        r = support.raw_request(
            STACK.port,
            ("POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: Token %s\r\n"
             "Content-Type: multipart/form-data; boundary=x\r\nContent-Length: %d\r\n"
             "Connection: close\r\n\r\n" % (INSTALL, STACK.port, SU.token, 52494337)).encode(),
            body_chunks=[b"x" * 65536])
        self.assertDetail(r, 413, "Request body too large.")

    def test_permissions(self):
        data = library("alpha", "1.0.0")
        r = install(None, data)
        self.assertJSON(r, 403, ps.NO_CREDENTIALS)
        plain = W.user("plain")
        self.assertJSON(install(plain, data), 403, ps.FORBIDDEN)
        # add_ without staff: still no.
        notstaff = W.user("ns", perms=["openbook_core.add_htmllibraryversion"])
        self.assertJSON(install(notstaff, data), 403, ps.FORBIDDEN)
        adder = W.user("adder", staff=True, perms=["openbook_core.add_htmllibraryversion"])
        self.assertJSON(install(adder, data), 201)
        # Replacing needs change_ too.
        self.assertJSON(install(adder, data), 403, ps.FORBIDDEN)
        changer = W.user("changer", staff=True, perms=["openbook_core.add_htmllibraryversion",
                                                       "openbook_core.change_htmllibraryversion"])
        self.assertJSON(install(changer, data), 200)

    def test_dependencies_and_force(self):
        app = library("app", "1.0.0", deps={"@test/base": ">=2.0.0"})
        r = install(SU, app)
        self.assertJSON(r, 400, {"file": ["Missing dependency: @test/base >=2.0.0"]})
        self.assertNothingLeft()
        self.assertJSON(install(SU, library("base", "1.5.0")), 201)
        r = install(SU, app)
        self.assertJSON(r, 400, {"file": ["Unsatisfied dependency: @test/base >=2.0.0 "
                                          "(installed: 1.5.0)"]})
        v = self.assertJSON(install(SU, app, force="true"), 201)
        self.assertEqual(v["warnings"], ["Unsatisfied dependency: @test/base >=2.0.0 "
                                         "(installed: 1.5.0)"])
        self.assertEqual(v["dependencies"], {"@test/base": ">=2.0.0"})


class Reads(ps.Base):

    @classmethod
    def setUpClass(cls):
        wipe()
        for name, version, deps in (("base", "9.0.0", None), ("base", "10.0.0", None),
                                    ("base", "10.0.0-rc.1", None),
                                    ("app", "1.0.0", {"@test/base": ">=9.0.0"})):
            r = install(SU, library(name, version, deps=deps, components=("x-%s" % name,)))
            assert r.status == 201, r
        r = install(SU, zf.library_zip(DEMO), "ob-demo.zip")
        assert r.status == 201, r

    def rows(self, r):
        return ps.Base.rows(self, r)

    def test_libraries(self):
        libs = self.rows(SU.call("GET", "/api/core/html_library/libraries/"))
        self.assertEqual([x["fqn"] for x in libs], ["@openbook/demo", "@test/app", "@test/base"])
        demo = libs[0]
        for k in ("id", "fqn", "organization", "name", "author", "license", "website",
                  "coderepo", "bugtracker", "readme", "text_format", "published",
                  "translations", "versions", "components", "created_by", "created_at",
                  "modified_by", "modified_at"):
            self.assertIn(k, demo)
        self.assertEqual(len(demo["translations"]), 2)
        self.assertEqual(len(demo["components"]), 4)
        r = SU.call("GET", "/api/core/html_library/libraries/?organization__icontains=TES")
        self.assertEqual([x["fqn"] for x in self.rows(r)], ["@test/app", "@test/base"])
        r = SU.call("GET", "/api/core/html_library/libraries/?_search=openbook")
        self.assertEqual([x["fqn"] for x in self.rows(r)], ["@openbook/demo"])
        r = SU.call("GET", "/api/core/html_library/libraries/%s/?_expand=translations,versions"
                    % demo["id"])
        d = self.assertJSON(r, 200)
        self.assertEqual(sorted(t["language"] for t in d["translations"]), ["de", "en"])
        self.assertEqual([v["version"] for v in d["versions"]], ["1.0.0"])
        # Anonymous: only with view_htmllibrary granted (none by default).
        self.assertEqual(self.rows(ps.anon(W, "GET", "/api/core/html_library/libraries/")), [])

    def test_versions_in_semver_order(self):
        r = SU.call("GET", "/api/core/html_library/versions/?parent__name__icontains=base")
        self.assertEqual([v["version"] for v in self.rows(r)], ["9.0.0", "10.0.0-rc.1", "10.0.0"])
        r = SU.call("GET", "/api/core/html_library/versions/?_sort=-version"
                           "&parent__name__icontains=base")
        self.assertEqual([v["version"] for v in self.rows(r)], ["10.0.0", "10.0.0-rc.1", "9.0.0"])
        r = SU.call("GET", "/api/core/html_library/versions/?_search=%3E%3D9")
        self.assertEqual([v["version"] for v in self.rows(r)], ["1.0.0"])

    def test_texts_components_definitions(self):
        r = SU.call("GET", "/api/core/html_library/texts/?language=de")
        rows = self.rows(r)
        self.assertEqual(len(rows), 1)
        self.assertEqual(sorted(rows[0]), ["id", "language", "parent", "short_description"])
        r = SU.call("GET", "/api/core/html_library/components/?tag_name__icontains=quiz"
                           "&_expand=library")
        rows = self.rows(r)
        self.assertEqual([c["tag_name"] for c in rows], ["ob-quiz", "ob-quiz-question"])
        self.assertEqual(rows[0]["library"]["fqn"], "@openbook/demo")
        r = SU.call("GET", "/api/core/html_library/component_definitions/"
                           "?library_version__version=10.0.0&_expand=html_component")
        rows = self.rows(r)
        self.assertEqual([d["html_component"]["tag_name"] for d in rows], ["x-base"])
        self.assertEqual(rows[0]["definition"]["tag-name"], "x-base")


class Changes(ps.Base):

    def setUp(self):
        wipe()

    def lib_id(self, name):
        return q("SELECT id FROM html_libraries WHERE name = '%s'" % name)[0][0]

    def test_patch_published_only(self):
        self.assertJSON(install(SU, library("alpha", "1.0.0")), 201)
        lid = self.lib_id("alpha")
        path = "/api/core/html_library/libraries/%s/" % lid
        d = self.assertJSON(SU.call("PATCH", path, {"published": False, "author": "X"}), 200)
        self.assertEqual((d["published"], d["author"]), (False, ""))
        staff = W.user("st", staff=True, perms=["openbook_core.view_htmllibrary"])
        self.assertJSON(staff.call("PATCH", path, {"published": True}), 403, ps.FORBIDDEN)
        self.assertJSON(install(SU, library("alpha", "1.0.0")), 200)
        self.assertEqual(q("SELECT published FROM html_libraries"), [["f"]])

    def test_delete_version_with_dependants(self):
        for data in (library("base", "1.0.0"), library("base", "2.0.0"),
                     library("app", "1.0.0", deps={"@test/base": ">=2.0.0"})):
            self.assertJSON(install(SU, data), 201)
        v2 = q("SELECT v.id FROM html_library_versions v JOIN html_libraries l ON l.id ="
               " v.parent_id WHERE l.name = 'base' AND v.version = '2.0.0'")[0][0]
        v1 = q("SELECT v.id FROM html_library_versions v JOIN html_libraries l ON l.id ="
               " v.parent_id WHERE l.name = 'base' AND v.version = '1.0.0'")[0][0]
        path = "/api/core/html_library/versions/%s/" % v2
        self.assertJSON(SU.call("DELETE", path), 409,
                        {"detail": "Other libraries depend on this version: @test/app 1.0.0"})
        # 1.0.0 is not what app needs: it goes.
        r = SU.call("DELETE", "/api/core/html_library/versions/%s/" % v1)
        self.assertEqual(r.status, 204, r)
        base = os.path.join(STACK.media_dir, "lib", "test", "base")
        self.assertEqual(os.listdir(base), ["2.0.0"])
        self.assertFalse(os.path.exists(os.path.join(STACK.media_dir, "lib",
                                                     "@test_base_1.0.0.zip")))
        r = SU.call("DELETE", path + "?force=true")
        self.assertEqual(r.status, 204, r)
        self.assertEqual(os.listdir(base), [])
        # Events: deleted, with the ids.
        ev = [json.loads(e) for e in self.stream("library:updates")]
        deleted = [e["payload"] for e in ev if e["payload"]["op"] == "deleted"
                   and e["payload"]["version_id"] in (v1, v2)]
        self.assertEqual([(e["fqn"], e["version"]) for e in deleted],
                         [("@test/base", "1.0.0"), ("@test/base", "2.0.0")])

    def stream(self, channel):
        """The data of every event in a channel's stream (Redis)."""
        with open(os.path.join(STACK.root, "redis_password")) as f:
            password = f.read().strip()
        r = subprocess.run(["redis-cli", "-p", str(STACK.redis_port), "--no-auth-warning",
                            "XRANGE", "openbook:stream:" + channel, "-", "+"],
                           capture_output=True, text=True, check=True,
                           env=dict(os.environ, REDISCLI_AUTH=password))
        lines = r.stdout.splitlines()
        # id, "data", value per entry
        return [lines[i + 2] for i in range(0, len(lines) - 2, 3) if lines[i + 1] == "data"]

    def test_delete_library(self):
        for data in (library("base", "1.0.0"), library("app", "1.0.0",
                                                       deps={"@test/base": "*"})):
            self.assertJSON(install(SU, data), 201)
        path = "/api/core/html_library/libraries/%s/" % self.lib_id("base")
        self.assertJSON(SU.call("DELETE", path), 409,
                        {"detail": "Other libraries depend on this version: @test/app 1.0.0"})
        r = SU.call("DELETE", "/api/core/html_library/libraries/%s/" % self.lib_id("app"))
        self.assertEqual(r.status, 204, r)
        self.assertEqual(SU.call("DELETE", path).status, 204)
        self.assertEqual(row_counts(STACK), {t: 0 for t in TABLES})
        self.assertEqual(os.listdir(os.path.join(STACK.media_dir, "lib")), ["test"])
        self.assertEqual(os.listdir(os.path.join(STACK.media_dir, "lib", "test")), [])

    def test_install_racing_uninstall(self):
        data = library("alpha", "1.0.0", files=[(zf.ROOT + "big.js", "z" * 300000)])
        base = os.path.join(STACK.media_dir, "lib", "test", "alpha", "1.0.0")
        archive = os.path.join(STACK.media_dir, "lib", "@test_alpha_1.0.0.zip")
        for _ in range(4):
            self.assertIn(install(SU, data).status, (200, 201))
            vid = q("SELECT id FROM html_library_versions")[0][0]
            results = {}

            def do_install():
                results["install"] = install(SU, data)

            def do_delete():
                results["delete"] = SU.call("DELETE", "/api/core/html_library/versions/%s/"
                                            % vid)

            threads = [threading.Thread(target=do_install), threading.Thread(target=do_delete)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            self.assertIn(results["install"].status, (200, 201), results["install"])
            self.assertIn(results["delete"].status, (204, 404), results["delete"])
            rows = q("SELECT count(*) FROM html_library_versions")[0][0]
            if rows == "1":   # the install came last: complete
                self.assertEqual(sorted(os.listdir(base)),
                                 ["big.js", "components", "library.js", "library.yml"])
                self.assertTrue(os.path.isfile(archive))
            else:             # the delete came last: nothing left
                self.assertFalse(os.path.exists(base))
                self.assertFalse(os.path.exists(archive))
            self.assertEqual(os.listdir(os.path.join(STACK.media_dir, ".staging")), [])


if __name__ == "__main__":
    unittest.main()
