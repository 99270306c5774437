"""The client against API Gateway's idle limit and connection cap, in Chromium, with the
local gateway's limits shortened from 10 minutes and 2 hours to seconds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .conftest import WAIT_MS, expect_connected, log_in, record_statuses, say, start_demo

pytestmark = pytest.mark.browser

IDLE_SECONDS = 2
MAX_SECONDS = 5


def test_heartbeats_and_renewals_keep_a_page_connected(tmp_path: Path, browser: Any) -> None:
    from playwright.sync_api import expect

    demo = start_demo(
        tmp_path, "--idle-timeout", str(IDLE_SECONDS), "--max-duration", str(MAX_SECONDS)
    )
    errors: list[str] = []
    try:
        # Heartbeat after 0.6 s idle (idle limit: 2 s), renewal every 3 s (cap: 5 s): without
        # heartbeats each connection would end at 2 s, without renewals at 5 s.
        alice = log_in(
            browser,
            demo,
            "alice",
            "/rooms/lobby/?heartbeatIntervalMs=600&rotateAfterMs=3000",
            errors,
        )
        # The control: no heartbeat, so the idle limit closes the connection.
        bob = log_in(
            browser, demo, "bob", "/rooms/random/?heartbeatIntervalMs=0&rotateAfterMs=0", errors
        )
        for page in (alice, bob):
            expect_connected(page)
            record_statuses(page)
        alice.evaluate(
            """() => {
                window.renewals = 0;
                chatSocket.addEventListener("open", (event) => {
                    if (event.detail.rotated) renewals += 1;
                });
            }"""
        )
        # Past the idle limit three times over and past the connection cap.
        alice.wait_for_function("() => renewals >= 2", timeout=30_000)
        bob.wait_for_function(
            "() => statusTexts.some((text) => text.startsWith('Reconnecting'))", timeout=WAIT_MS
        )
        assert not any(text.startswith("Reconnecting") for text in alice.evaluate("statusTexts")), (
            alice.evaluate("statusTexts")
        )

        sessions = demo.sessions("alice", "lobby")
        assert len(sessions) >= 3
        # The gateway closed each replaced connection and Django heard $disconnect.
        expect(alice.get_by_test_id("online")).to_have_text("alice", timeout=WAIT_MS)
        say(alice, "Still the same page")
        expect(alice.get_by_test_id("messages")).to_contain_text(
            "Still the same page", timeout=WAIT_MS
        )
        assert demo.sessions("alice", "lobby")[-1][1] == 1
    finally:
        status = demo.stop()
    assert status == 0, "\n".join(demo.output)
    assert errors == []
