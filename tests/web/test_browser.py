"""Browser tests: Playwright drives Debian's chromium against the demo site (twins polled by
the fleet agent, served by uvicorn). No browser is downloaded; a missing chromium FAILS here
(install it with ``apt-get install -y chromium``; ``make test`` and .ci/run do)."""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.web._live import Live, live_demo

ARTIFACTS = Path(os.environ.get("HASHWATT_TEST_ARTIFACTS", "tmp/artifacts"))
TIMEOUT_MS = 30_000


def chromium_path() -> str:
    found = (
        os.environ.get("HASHWATT_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )
    if found is None:
        pytest.fail("chromium is not installed: apt-get install -y chromium (the browser tests never skip)")
    return found


@pytest.fixture(scope="module")
def live() -> Iterator[Live]:
    with live_demo(interval_s=1.0) as site:
        yield site


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


def login(browser: Browser, live: Live, name: str, *, width: int = 1280) -> Page:
    page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.on("dialog", lambda d: d.accept())
    page.goto(live.url + "/")
    expect(page).to_have_url(re.compile(r"/login"))
    page.fill("#username", name)
    page.fill("#password", live.passwords[name])
    page.click("#login")
    expect(page.locator("#who")).to_contain_text(name)
    return page


def test_operator_journey(browser: Browser, live: Live) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = login(browser, live, "operator")
    # overview: the demo site's twelve twins, and hashrate once the agent has polled them
    expect(page.locator("h1")).to_have_text("Site overview")
    expect(page.locator("#device-count")).to_have_text("12")
    expect(page.locator('#overview [data-f="hashrate_ths"]').first).not_to_have_text(re.compile(r"^(0\.0|–)"))
    page.screenshot(path=str(ARTIFACTS / "overview.png"), full_page=True)

    # devices: search, then sort by hashrate (server side)
    page.click("text=Devices")
    rows = page.locator("#devices tbody tr")
    expect(rows).to_have_count(12)
    page.fill("#q", "no-such-device")
    expect(rows).to_have_count(0)
    page.fill("#q", "127.66")
    expect(rows).to_have_count(12)
    page.select_option("#state", "mining")
    page.click('th[data-sort="hashrate_ths"]')
    expect(page.locator("#sort")).to_have_value("hashrate_ths")
    page.wait_for_function(
        """() => { const r = [...document.querySelectorAll('#devices tbody tr')];
           const v = r.map(tr => parseFloat(tr.children[6].textContent));
           return r.length > 1 && r.every(tr => tr.children[5].textContent === 'mining')
             && v.every((x, i) => !isNaN(x) && (i === 0 || v[i - 1] <= x)); }"""
    )

    # a device page with its charts
    rows.first.locator("a").click()
    expect(page).to_have_url(re.compile(r"/devices/\d+$"))
    expect(page.locator(".chart canvas")).to_have_count(3)
    page.screenshot(path=str(ARTIFACTS / "device.png"), full_page=True)

    # sleep it; the state comes back from the twin through the agent's polls, pushed to the
    # page by the device's event stream (not polled)
    assert "topics=device" in page.evaluate("window.hashwattEvents ? window.hashwattEvents.url : ''")
    expect(page.locator("#device-state")).to_have_text("mining")
    page.click("#act-sleep")
    expect(page.locator("#act-result")).to_contain_text("queued")
    expect(page.locator("#device-state")).to_have_text("sleeping", timeout=45_000)
    page.reload()
    expect(page.locator("#audit")).to_contain_text("operator sleep")

    # acknowledge the failed-fan alert
    page.goto(live.url + "/alerts")
    ack = page.locator("button.ack").first
    for _ in range(30):
        if ack.count():
            break
        page.wait_for_timeout(1000)
        page.reload()
    ack.click()
    expect(page.locator("#alerts")).to_contain_text("acknowledged by operator")

    # log out
    page.click("#logout")
    expect(page).to_have_url(re.compile(r"/login$"))
    page.goto(live.url + "/devices")
    expect(page).to_have_url(re.compile(r"/login"))


def test_viewer_is_refused_control_and_the_phone_layout_works(browser: Browser, live: Live) -> None:
    page = login(browser, live, "viewer", width=390)
    page.click("text=Devices")
    expect(page.locator("#devices tbody tr")).to_have_count(12)
    expect(page.locator("#bulk-go")).to_have_count(0)
    page.locator("#devices tbody tr a").first.click()
    expect(page.locator("#act-sleep")).to_have_count(0)
    device_id = int(page.url.rsplit("/", 1)[1])
    status = page.evaluate(
        """async (id) => { const csrf = document.querySelector('meta[name=csrf-token]').content;
             const r = await fetch('/api/v1/actions', {method: 'POST', headers: {'Content-Type': 'application/json',
               'X-CSRF-Token': csrf}, body: JSON.stringify({action: 'sleep', device_ids: [id], confirm: true})});
             return r.status; }""",
        device_id,
    )
    assert status == 403
    page.screenshot(path=str(ARTIFACTS / "device-phone.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # nothing forces a sideways scroll of the page on a phone


def test_pool_page_shows_the_twins_as_workers_with_live_shares(browser: Browser, live: Live) -> None:
    page = login(browser, live, "viewer")
    page.click("text=Pool")
    expect(page.locator("h1")).to_have_text("Pool")
    # one worker per mining twin, each with accepted shares, the table refreshed from the share log
    workers = page.locator("#pool-worker-table tbody tr")
    expect(workers.first).to_be_visible(timeout=45_000)
    accepted = page.locator("#pool-accepted")
    before = int(accepted.inner_text())
    page.wait_for_function(
        "(n) => parseInt(document.getElementById('pool-accepted').textContent) > n",
        arg=before,
        timeout=45_000,
    )
    assert page.locator("#pool-rejected").inner_text() == "0"
    names = page.locator("#pool-worker-table tbody td:first-child").all_inner_texts()
    assert names and all(re.fullmatch(r"demo\.\d+", n) for n in names)
    page.screenshot(path=str(ARTIFACTS / "pool.png"), full_page=True)


def test_power_target_bulk_action_reaches_the_twin(browser: Browser, live: Live) -> None:
    page = login(browser, live, "operator")
    page.click("text=Devices")
    page.fill("#q", "M30S")
    rows = page.locator("#devices tbody tr")
    expect(rows).to_have_count(3)
    address = rows.first.locator("td:nth-child(2)").inner_text()
    rows.first.locator("input.pick").check()
    page.select_option("#bulk-action", "power")
    page.fill("#bulk-watts", "2500")
    page.click("#bulk-go")  # the confirmation dialog is accepted by login()'s handler
    expect(page.locator("#bulk-result")).to_contain_text("queued power target 2500 W for 1")
    assert live.site is not None
    (twin,) = [t for t in live.site.twins if t.host == address.rsplit(":", 1)[0]]
    deadline = time.monotonic() + 45  # the site's agent claims the command on its next cycle
    while twin.power_limit_w != 2500 and time.monotonic() < deadline:
        page.wait_for_timeout(250)
    assert twin.power_limit_w == 2500
    commands = page.evaluate("async () => (await (await fetch('/api/v1/commands')).json())")
    (command,) = [c for c in commands if c["action"] == "power"]
    assert command["params"] == {"power_target_w": 2500.0} and command["created_by"] == "operator"


def test_site_selector_and_the_whole_site_heat_map(browser: Browser, live: Live) -> None:
    page = login(browser, live, "viewer")
    expect(page.locator("#device-count")).to_have_text("12")
    page.select_option("#site", "demo-west")  # submits the picker (a GET form, also without JS)
    expect(page).to_have_url(re.compile(r"\?site=demo-west$"))
    expect(page.locator("#site-name")).to_have_text("demo-west")
    expect(page.locator("#device-count")).to_have_text("5")
    page.click("text=Devices")  # the navigation keeps the site
    expect(page.locator("#devices tbody tr")).to_have_count(5)
    expect(page.locator("#heatmap .cell")).to_have_count(5)
    page.select_option("#site", "")
    expect(page.locator("#devices tbody tr")).to_have_count(12)
    expect(page.locator("#heatmap .cell")).to_have_count(12)
