"""A real browser on the relay: headless Chromium (Debian's `chromium`)
opens static/ws-demo.html through nginx, gets a ticket from
POST /api/ws/ticket/, connects to /ws/events and shows a live event.

Chromium is driven over the DevTools protocol with the tests' own
WebSocket client (no npm packages).  Skipped when chromium is not installed
(apt-get install chromium) or the ticket route is not registered yet.
"""

import json
import os
import shutil
import subprocess
import tempfile
import unittest
import urllib.request

import support
from test_relay_client import RelayProc, WSClient, publish, stack_redis

STACK = None
RELAY = None
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def setUpModule():
    global STACK, RELAY
    if not CHROMIUM:
        raise unittest.SkipTest("chromium is not installed (apt-get install chromium)")
    STACK = support.start_stack("relay-browser")
    support.StackTestCase.stack = STACK
    try:
        RELAY = RelayProc(STACK, support.binary())
        r = support.request(STACK.port, "POST", "/api/ws/ticket/", json_body={"channels": []})
        if r.status == 404:
            raise unittest.SkipTest("POST /api/ws/ticket/ is not routed yet (src/api/routes.c)")
        # Anonymous visitors may see library updates on this site.
        STACK.psql("INSERT INTO anonymous_permissions (permission_id) SELECT p.id FROM permissions p "
                   "JOIN content_types ct ON ct.id = p.content_type_id WHERE ct.app_label = "
                   "'openbook_core' AND p.codename = 'view_htmllibrary' ON CONFLICT DO NOTHING")
    except BaseException:
        if RELAY:
            RELAY.stop()
        support.stop_stack(STACK)
        STACK = None
        raise


def tearDownModule():
    support.StackTestCase.stack = None
    if RELAY:
        RELAY.stop()
    if STACK:
        support.stop_stack(STACK)


class Chromium:
    """A headless Chromium with one page, controlled over DevTools."""

    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix="openbook-chromium-")
        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--disable-dev-shm-usage", "--remote-debugging-port=0",
             "--user-data-dir=" + self.profile, "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        port = support.wait_for(lambda: self._read(port_file), 30, what="DevToolsActivePort")
        pages = support.wait_for(lambda: self._pages(port), 30, what="a page target")
        url = pages[0]["webSocketDebuggerUrl"]
        path = url.split(str(port), 1)[1]
        self.ws = WSClient.connect(("127.0.0.1", port), path, host="127.0.0.1:%d" % port)
        self.next_id = 0

    @staticmethod
    def _read(path):
        try:
            with open(path) as f:
                return int(f.readline().strip())
        except (OSError, ValueError):
            return None

    @staticmethod
    def _pages(port):
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port, timeout=2) as r:
                pages = [t for t in json.load(r) if t.get("type") == "page"]
                return pages or None
        except OSError:
            return None

    def call(self, method, **params):
        self.next_id += 1
        mid = self.next_id
        self.ws.send_json({"id": mid, "method": method, "params": params})
        while True:
            m = self.ws.recv_json(30)
            if m.get("id") == mid:
                if "error" in m:
                    raise AssertionError("%s: %s" % (method, m["error"]))
                return m.get("result", {})

    def eval(self, expr):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True)
        return r.get("result", {}).get("value")

    def close(self):
        try:
            self.call("Browser.close")
        except Exception:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.ws.shutdown()
        shutil.rmtree(self.profile, ignore_errors=True)


class Browser(support.StackTestCase):
    def test_live_event_in_the_page(self):
        browser = Chromium()
        try:
            browser.call("Page.navigate", url=self.url("/static/ws-demo.html?channels=library:updates"))
            support.wait_for(
                lambda: browser.eval("document.getElementById('status').textContent") == "subscribed",
                20, what="the page to subscribe (status %r)"
                % browser.eval("document.getElementById('status').textContent"))
            redis = stack_redis(STACK)
            payload = {"library": "0b5d3f7e-2a45-4c8e-9a51-6f1e2d3c4b5a", "fqn": "@openbook/quiz",
                       "version": "2.1.0", "version_id": "9c1e", "op": "installed"}
            eid = publish(redis, "library:updates", "library.installed", payload)
            redis.close()
            shown = support.wait_for(lambda: browser.eval(
                "Array.from(document.querySelectorAll('#events li.event')).map("
                "li => [li.dataset.channel, li.dataset.id, li.dataset.type, li.textContent])"),
                20, what="the event in the page")
            self.assertEqual(len(shown), 1)
            channel, shown_id, etype, text = shown[0]
            self.assertEqual((channel, shown_id, etype), ("library:updates", eid, "library.installed"))
            self.assertIn("@openbook/quiz", text)
            self.assertEqual(browser.eval("document.getElementById('notices').children.length"), 0)
        finally:
            browser.close()
        # The browser sent its Origin, which the relay checked and accepted.
        self.assertNotIn("refused Origin", STACK.log_text("relay"))


if __name__ == "__main__":
    unittest.main()
