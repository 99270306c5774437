"""The demo chat in a real browser: Chromium, the demo's Django and the local gateway,
all real, talking over real sockets."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.config import Config

from .conftest import (
    ARTIFACTS,
    WAIT_MS,
    Demo,
    alice_and_bob,
    expect_connected,
    record_statuses,
    say,
)

pytestmark = pytest.mark.browser


def test_two_users_see_each_others_messages(demo: Demo, open_page: Any) -> None:
    from playwright.sync_api import expect

    alice, bob = alice_and_bob(open_page, "/rooms/lobby/")
    for page in (alice, bob):
        expect(page.get_by_test_id("online")).to_contain_text("alice", timeout=WAIT_MS)
        expect(page.get_by_test_id("online")).to_contain_text("bob", timeout=WAIT_MS)

    say(alice, "Hello Bob, this is Alice")
    expect(bob.get_by_test_id("messages")).to_contain_text(
        "aliceHello Bob, this is Alice", timeout=WAIT_MS
    )
    say(bob, "Hi Alice! <b>not bold</b>")
    expect(alice.get_by_test_id("messages")).to_contain_text(
        "bobHi Alice! <b>not bold</b>", timeout=WAIT_MS
    )
    assert alice.locator("#messages b").count() == 0, "server text must not become HTML"
    ARTIFACTS.mkdir(exist_ok=True)
    alice.screenshot(path=str(ARTIFACTS / "demo-chat.png"), full_page=True)

    # Bob leaves the room. API Gateway delivers $disconnect best effort, so the room
    # may only learn it when a send finds Bob's connection gone: it does by now.
    bob.goto(f"{demo.url}/")
    say(alice, "Bye Bob")
    expect(alice.get_by_test_id("messages")).to_contain_text("Bye Bob", timeout=WAIT_MS)
    expect(alice.get_by_test_id("online")).not_to_contain_text("bob", timeout=WAIT_MS)


def test_page_reconnects_with_a_fresh_token_after_the_gateway_drops_it(
    demo: Demo, open_page: Any
) -> None:
    from playwright.sync_api import expect

    alice, bob = alice_and_bob(open_page, "/rooms/random/")
    record_statuses(alice)
    [(connection_id, connected)] = demo.sessions("alice", "random")
    assert connected == 1
    tokens_before = demo.tokens_issued("alice")

    # What API Gateway does when the Management API deletes a connection.
    management = boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=demo.management_endpoint,
        region_name="us-east-1",
        aws_access_key_id="demo",
        aws_secret_access_key="demo",
        config=Config(retries={"max_attempts": 1}),
    )
    management.delete_connection(ConnectionId=connection_id)

    alice.wait_for_function(
        "() => statusTexts.some((text) => text.startsWith('Reconnecting'))", timeout=WAIT_MS
    )
    expect_connected(alice)
    sessions = demo.sessions("alice", "random")
    assert len(sessions) == 2
    assert sessions[0] == (connection_id, 0)
    assert sessions[1][0] != connection_id
    assert sessions[1][1] == 1
    assert demo.tokens_issued("alice") == tokens_before + 1

    say(alice, "Still here after the drop")
    expect(bob.get_by_test_id("messages")).to_contain_text(
        "Still here after the drop", timeout=WAIT_MS
    )
    say(bob, "Welcome back")
    expect(alice.get_by_test_id("messages")).to_contain_text("Welcome back", timeout=WAIT_MS)

    # Django's request log names each connect but not its token.
    connects = [line for line in demo.output if "django.server" in line and "/ws/connect" in line]
    assert connects
    assert all("ws_token=[redacted]" in line for line in connects), connects


def test_user_without_permission_is_refused_the_protected_room(demo: Demo, open_page: Any) -> None:
    from playwright.sync_api import expect

    bob = open_page("bob", "/")
    expect(bob.locator("li", has_text="Staff room")).to_contain_text("members only")
    expect(bob.locator("li", has_text="Lobby")).not_to_contain_text("members only")
    bob.goto(f"{demo.url}/rooms/staff/")
    notice = bob.get_by_test_id("notice")
    expect(notice).to_be_visible(timeout=WAIT_MS)
    expect(notice).to_contain_text("You may not join this room", timeout=WAIT_MS)
    expect(bob.get_by_test_id("status")).to_have_attribute("data-state", "closed")
    assert bob.evaluate("chatSocket.closeReason") == "refused"
    assert demo.sessions("bob", "staff") == []

    # The room is not broken: a member gets in.
    alice = open_page("alice", "/rooms/staff/")
    expect_connected(alice)
    expect(alice.get_by_test_id("online")).to_contain_text("alice", timeout=WAIT_MS)
    assert demo.sessions("alice", "staff")[-1][1] == 1


def test_logging_out_in_another_tab_closes_the_pages_connection(demo: Demo, open_page: Any) -> None:
    """Logout ends the login's connections through DELETE @connections: the open page
    sees its socket closed, and its reconnect is refused as not logged in."""
    from playwright.sync_api import expect

    alice = open_page("alice", "/rooms/lobby/")
    expect_connected(alice)
    before = len(demo.sessions("alice", "lobby"))
    connection_id, connected = demo.sessions("alice", "lobby")[-1]
    assert connected == 1

    other_tab = alice.context.new_page()
    other_tab.goto(f"{demo.url}/")
    other_tab.get_by_role("button", name="Log out").click()

    expect(alice.get_by_test_id("status")).not_to_have_attribute(
        "data-state", "open", timeout=WAIT_MS
    )
    expect(alice.get_by_test_id("notice")).to_contain_text("Your login has ended", timeout=WAIT_MS)
    assert (connection_id, 0) in demo.sessions("alice", "lobby")
    assert len(demo.sessions("alice", "lobby")) == before  # no connection after logout
