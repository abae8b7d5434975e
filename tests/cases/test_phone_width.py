"""The back office at a phone's width (375 × 812), measured in a real browser.

Headless Chromium (Debian's ``chromium`` package) is driven over its DevTools
protocol with the ``websockets`` client the project already has: a logged-in
superuser opens the case list, the area tree, the dashboard and a case page,
and the page itself reports how wide it is and on how many lines each name
is written.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator

import pytest
from django.urls import reverse
from websockets.sync.client import connect

from cases.models import Case

pytestmark = pytest.mark.django_db(transaction=True)

#: What the page reports: its width against the window's, elements sticking out of
#: the window outside any scrolling box, and the most lines a name takes.
MEASURE = r"""
(() => {
  const lines = (el) => { const r = document.createRange(); r.selectNodeContents(el);
    return new Set([...r.getClientRects()].map(x => Math.round(x.top))).size; };
  const scrolls = (el) => { for (let p = el.parentElement; p; p = p.parentElement) {
      if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(p).overflowX)) return true; }
    return false; };
  const names = [...document.querySelectorAll(
    'td.field-title, th.field-tree_name, td.field-tree_name, td.field-community, td.field-caller')];
  return JSON.stringify({
    window: window.innerWidth,
    page: document.documentElement.scrollWidth,
    sticking: [...document.querySelectorAll('body *')]
      .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1 && !scrolls(el))
      .map(el => el.tagName + '.' + el.className).slice(0, 5),
    names: names.length,
    most_lines: Math.max(0, ...names.map(lines)),
  });
})()
"""


class DevTools:
    """The smallest DevTools-protocol client: one call, one answer."""

    def __init__(self, ws):
        self.ws, self.last = ws, 0

    def __call__(self, method: str, **params):
        self.last += 1
        self.ws.send(json.dumps({"id": self.last, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv(timeout=30))
            if message.get("id") == self.last:
                return message.get("result", {})

    def open(self, url: str) -> dict:
        self("Page.navigate", url=url)
        for _ in range(100):
            time.sleep(0.1)
            state = self("Runtime.evaluate", expression="document.readyState", returnByValue=True)
            if state["result"].get("value") == "complete":
                break
        found = self("Runtime.evaluate", expression=MEASURE, returnByValue=True)
        return json.loads(found["result"]["value"])


@pytest.fixture
def phone(live_server, client, world) -> Iterator[DevTools]:
    """A 375 px wide phone browser, logged in as the superuser, reading Chinese."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.fail("This test needs Chromium: apt-get install -y chromium")
    client.force_login(world.superuser)
    process = subprocess.Popen(
        [
            browser,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--remote-debugging-port=0",
            f"--user-data-dir={tempfile.mkdtemp()}",
            "--window-size=375,812",
            "about:blank",
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        port = next(
            m.group(1)
            for line in process.stderr
            if (m := re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line))
        )
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list") as answer:
            page = next(t for t in json.load(answer) if t["type"] == "page")
        with connect(page["webSocketDebuggerUrl"], max_size=None) as ws:
            tools = DevTools(ws)
            tools("Network.enable")
            tools("Network.setExtraHTTPHeaders", headers={"Accept-Language": "zh-CN"})
            tools(
                "Network.setCookie",
                name="sessionid",
                value=client.cookies["sessionid"].value,
                url=live_server.url,
            )
            tools(
                "Emulation.setDeviceMetricsOverride",
                width=375,
                height=812,
                deviceScaleFactor=2,
                mobile=True,
            )
            yield tools
    finally:
        process.terminate()
        process.wait(10)


def test_at_375_px_names_stay_on_one_line_and_nothing_overflows(phone, live_server, case_in):
    for _ in range(3):
        case = case_in("dispatched")
    Case.objects.update(title="南桥镇曙光村菜场门口流动摊贩占道经营影响通行")
    pages = {
        "case list": reverse("admin:cases_case_changelist"),
        "area tree": reverse("admin:grids_area_changelist"),
        "dashboard": reverse("analytics-dashboard"),
        "case page": reverse("admin:cases_case_change", args=[case.pk]),
    }
    for name, path in pages.items():
        found = phone.open(live_server.url + path)
        assert found["window"] == 375, (name, found)
        assert found["page"] <= 375 and found["sticking"] == [], (name, found)
        assert found["most_lines"] <= 1, (name, found)
    assert phone.open(live_server.url + pages["case list"])["names"] >= 9  # names were measured
