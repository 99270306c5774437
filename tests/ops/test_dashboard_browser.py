"""The admin dashboard in Chromium, against the running demo after real traffic; the
screenshot is kept in test-artifacts/."""

from __future__ import annotations

import urllib.request
from typing import Any

import pytest

from tests.browser.conftest import ARTIFACTS, Demo, browser, demo, log_in  # noqa: F401

pytestmark = pytest.mark.browser

WAIT_MS = 15_000
DASHBOARD = "/admin/django_aws_api_gateway_websockets/websocketsession/dashboard/"


def test_the_dashboard_renders_in_chromium(demo: Demo, browser: Any) -> None:  # noqa: F811
    from playwright.sync_api import expect

    errors: list[str] = []
    alice = log_in(browser, demo, "alice", "/rooms/lobby/", errors)
    expect(alice.get_by_test_id("status")).to_have_attribute("data-state", "open", timeout=WAIT_MS)
    alice.fill("#text", "Hello dashboard")
    alice.press("#text", "Enter")
    expect(alice.get_by_test_id("messages")).to_contain_text("Hello dashboard", timeout=WAIT_MS)

    admin = log_in(browser, demo, "admin", DASHBOARD, errors)

    expect(admin.locator("#ws-open .ws-figure")).not_to_have_text("0", timeout=WAIT_MS)
    expect(admin.locator("#ws-bill .ws-figure")).to_contain_text("$")
    connects = admin.locator("#ws-connects svg rect")
    assert connects.count() == 60
    drawn = [connects.nth(i).bounding_box()["height"] for i in (58, 59)]
    assert max(drawn) > 0, "alice's connect, a moment ago, is drawn"
    expect(admin.locator("#ws-messages svg")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    admin.screenshot(path=str(ARTIFACTS / "admin-dashboard.png"), full_page=True)
    # The example project serves the same figures to Prometheus.
    with urllib.request.urlopen(f"{demo.url}/metrics", timeout=10) as response:
        scraped = response.read().decode()
    assert 'websockets_connects_total{outcome="accepted",reason=""}' in scraped
    assert 'websockets_open_sessions{gateway="Demo chat"}' in scraped

    for page in (alice, admin):
        page.context.close()
    assert errors == []
