"""`openbook library list|install|remove` against a running stack: install
goes through the routine of `openbook install-library` (and the API), list
shows what is installed (versions in semver order, published flag,
components count; text and --json), remove uninstalls through the API's
routine with its dependants check (exit 4 unless --force), and the exit
codes of the README (0 ok, 1 runtime, 2 usage, 3 not found, 4 conflict).
"""

import json
import os
import subprocess
import tempfile
import unittest

import support
import zip_factory as zf
from test_libraries import library  # a small valid archive: @test/<name> <version>

STACK = None
DEMO = os.path.join(support.REPO, "test", "libraries", "ob-demo")


def setUpModule():
    global STACK
    STACK = support.start_stack("library-cli")
    support.StackTestCase.stack = STACK


def tearDownModule():
    support.StackTestCase.stack = None
    support.stop_stack(STACK)


class LibraryCliTest(support.StackTestCase):
    def setUp(self):
        self.stack.psql("DELETE FROM html_libraries")
        for name in os.listdir(self.stack.media_dir):
            subprocess.run(["rm", "-rf", os.path.join(self.stack.media_dir, name)], check=True)
        self.tmp = tempfile.TemporaryDirectory(prefix="openbook-libcli-")

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, name, data):
        path = os.path.join(self.tmp.name, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def cli(self, *args):
        st = self.stack
        return subprocess.run([st.binary, "library"] + list(args) + ["-c", st.config_path],
                              capture_output=True, text=True, cwd=st.root,
                              env=st.server_env(), timeout=120)

    def assertExit(self, r, code):
        self.assertEqual(r.returncode, code, "stdout: %s\nstderr: %s" % (r.stdout, r.stderr))

    def listed(self):
        r = self.cli("list", "--json")
        self.assertExit(r, 0)
        return {lib["library"]: lib for lib in json.loads(r.stdout)}

    def versions_on_disk(self, name):
        d = os.path.join(self.stack.media_dir, "lib", "test", name)
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def test_install_list_remove(self):
        r = self.cli("install", self.write("demo.zip", zf.library_zip(DEMO)))
        self.assertExit(r, 0)
        self.assertIn("installed", r.stdout)
        libs = self.listed()
        self.assertEqual(len(libs), 1)
        (fqn, lib), = libs.items()
        self.assertEqual(len(lib["versions"]), 1)
        self.assertIs(lib["published"], True)
        components = len(os.listdir(os.path.join(DEMO, "components")))
        self.assertEqual(lib["components"], components)
        text = self.cli("list")
        self.assertExit(text, 0)
        self.assertIn(fqn, text.stdout)
        self.assertIn(lib["versions"][0], text.stdout)

        # The name matches case-insensitively, with or without the @.
        r = self.cli("remove", fqn.upper().lstrip("@"), "--json")
        self.assertExit(r, 0)
        self.assertEqual(json.loads(r.stdout),
                         {"library": fqn, "version": None, "status": "removed"})
        self.assertEqual(self.listed(), {})
        self.assertEqual(self.cli("list").stdout.splitlines()[1:], [])
        self.assertFalse(os.path.exists(os.path.join(self.stack.media_dir, "lib",
                                                     *fqn.lstrip("@").split("/"))))

    def test_versions_listed_in_semver_order_and_removed_one_by_one(self):
        for v in ("10.0.0", "9.0.0", "1.0.0", "1.0.0-rc.1"):
            self.assertExit(self.cli("install", self.write(v + ".zip", library("alpha", v))), 0)
        self.assertEqual(self.listed()["@test/alpha"]["versions"],
                         ["1.0.0-rc.1", "1.0.0", "9.0.0", "10.0.0"])
        self.assertIn("1.0.0-rc.1 1.0.0 9.0.0 10.0.0", self.cli("list").stdout)
        r = self.cli("remove", "@test/alpha", "--version", "9.0.0")
        self.assertExit(r, 0)
        self.assertIn("removed @test/alpha 9.0.0", r.stdout)
        self.assertEqual(self.listed()["@test/alpha"]["versions"], ["1.0.0-rc.1", "1.0.0", "10.0.0"])
        self.assertEqual(self.versions_on_disk("alpha"), ["1.0.0", "1.0.0-rc.1", "10.0.0"])
        # Gone now: not found, nothing else touched.
        self.assertExit(self.cli("remove", "@test/alpha", "--version", "9.0.0"), 3)
        self.assertEqual(len(self.listed()["@test/alpha"]["versions"]), 3)

    def test_remove_refused_while_a_library_depends_on_it(self):
        folder = os.path.join(self.tmp.name, "drop")
        os.mkdir(folder)
        # A folder installs the base before the library that needs it.
        with open(os.path.join(folder, "a-app.zip"), "wb") as f:
            f.write(library("app", "1.0.0", deps={"@test/base": ">=1.0.0"}, components=("x-app",)))
        with open(os.path.join(folder, "b-base.zip"), "wb") as f:
            f.write(library("base", "1.2.0"))
        r = self.cli("install", "--json", folder)
        self.assertExit(r, 0)
        results = json.loads(r.stdout)
        self.assertEqual([(x["library"], x["status"], x["warnings"], x["errors"]) for x in results],
                         [("@test/base", "installed", [], []), ("@test/app", "installed", [], [])])

        r = self.cli("remove", "@test/base")
        self.assertExit(r, 4)
        self.assertIn("@test/app 1.0.0", r.stderr)
        r = self.cli("remove", "@test/base", "--version", "1.2.0")
        self.assertExit(r, 4)
        self.assertEqual(sorted(self.listed()), ["@test/app", "@test/base"])
        self.assertEqual(self.versions_on_disk("base"), ["1.2.0"])

        r = self.cli("remove", "@test/base", "--force")
        self.assertExit(r, 0)
        self.assertEqual(sorted(self.listed()), ["@test/app"])
        self.assertEqual(self.versions_on_disk("base"), [])
        # The dependant itself may go at any time.
        self.assertExit(self.cli("remove", "@test/app"), 0)
        self.assertEqual(self.listed(), {})

    def test_install_failures_and_no_replace(self):
        path = self.write("a.zip", library("alpha", "1.0.0"))
        self.assertExit(self.cli("install", path), 0)
        r = self.cli("install", "--no-replace", "--json", path)
        self.assertExit(r, 1)
        (res,) = json.loads(r.stdout)
        self.assertEqual(res["status"], "failed")
        self.assertEqual(res["errors"], ["This library version is already installed."])
        r = self.cli("install", "--json", path)
        self.assertExit(r, 0)
        self.assertEqual(json.loads(r.stdout)[0]["status"], "replaced")
        r = self.cli("install", self.write("bad.zip", b"not a zip"))
        self.assertExit(r, 1)
        self.assertEqual(self.listed()["@test/alpha"]["versions"], ["1.0.0"])

    def test_exit_codes(self):
        self.assertExit(self.cli("remove", "@test/nothing"), 3)
        self.assertExit(self.cli("remove", "@test/nothing", "--version", "1.0.0"), 3)
        self.assertExit(self.cli("install", self.write("a.zip", library("alpha", "1.0.0"))), 0)
        self.assertExit(self.cli("remove", "@test/alpha", "--version", "2.0.0"), 3)
        for args in (["remove"], ["remove", "noslash"], ["remove", "@test/"], ["list", "x"],
                     ["list", "--force"], ["install"], ["remove", "@a/b", "--no-replace"],
                     ["frobnicate"], ["list", "--bogus"]):
            with self.subTest(args=args):
                self.assertExit(self.cli(*args), 2)
        self.assertEqual(sorted(self.listed()), ["@test/alpha"])
        r = subprocess.run([self.stack.binary, "library", "--help"], capture_output=True,
                           text=True)
        self.assertExit(r, 0)
        self.assertIn("library remove", r.stdout)
        r = subprocess.run([self.stack.binary, "library", "remove", "--help"],
                           capture_output=True, text=True)
        self.assertExit(r, 0)


if __name__ == "__main__":
    unittest.main()
