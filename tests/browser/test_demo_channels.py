"""Channels in the demo chat, in Chromium: a room's history survives a reload, a tab
closed and opened again gets what was said meanwhile, in order, the Online list is
presence, the other rooms are subscriptions with unread counts, and a subscription the
server refuses says why on the page."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from .conftest import WAIT_MS, Demo, alice_and_bob, expect_connected, say

pytestmark = pytest.mark.browser


def unique(text: str) -> str:
    """Texts no other test of the shared demo says."""
    return f"{text} {uuid.uuid4().hex[:8]}"


def room_lines(page: Any) -> list[str]:
    """The room's messages (and the "new since" line), top to bottom."""
    return page.locator("#messages li").all_inner_texts()


def expect_in_order(page: Any, texts: list[str]) -> None:
    """Every text shows, once each, in this order."""
    from playwright.sync_api import expect

    messages = page.get_by_test_id("messages")
    for text in texts:
        expect(messages).to_contain_text(text, timeout=WAIT_MS)
    lines = room_lines(page)
    found = [[index for index, line in enumerate(lines) if text in line] for text in texts]
    assert all(len(indexes) == 1 for indexes in found), lines
    positions = [indexes[0] for indexes in found]
    assert positions == sorted(positions), lines


def open_in_same_browser(context: Any, demo: Demo, path: str) -> Any:
    """Another tab of the same browser (same cookies, same localStorage)."""
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.goto(f"{demo.url}{path}")
    tab.errors = errors
    return tab


def disconnects_heard(demo: Demo) -> int:
    """The ``$disconnect`` calls Django has answered (its request log)."""
    return sum("django.server" in line and "/ws/disconnect" in line for line in demo.output)


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_MS / 1000
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


def test_a_rooms_history_survives_a_reload(demo: Demo, open_page: Any) -> None:
    alice = open_page("alice", "/rooms/lobby/")
    expect_connected(alice)
    said = [unique("before the reload, first"), unique("before the reload, second")]
    for text in said:
        say(alice, text)
    expect_in_order(alice, said)

    alice.reload()
    expect_connected(alice)
    expect_in_order(alice, said)


def test_what_was_said_while_the_tab_was_closed_arrives_in_order(
    demo: Demo, open_page: Any
) -> None:
    from playwright.sync_api import expect

    alice, bob = alice_and_bob(open_page, "/rooms/random/")
    before = unique("while alice was here")
    say(bob, before)
    expect_in_order(alice, [before])
    context = alice.context
    seen = alice.evaluate("chatSocket.lastSeq('random')")
    assert isinstance(seen, int)
    alice.close()

    missed = [unique(f"while alice was away {n}") for n in range(1, 4)]
    for text in missed:
        say(bob, text)
    expect_in_order(bob, [before, *missed])

    # The stored seq is where the reopened tab resumes from.
    back = open_in_same_browser(context, demo, "/")
    assert back.evaluate("localStorage.getItem('chat-seq:random')") == str(seen)
    back.goto(f"{demo.url}/rooms/random/")
    expect_connected(back)
    expect_in_order(back, [before, *missed])
    lines = room_lines(back)

    def position(text: str) -> int:
        return next(index for index, line in enumerate(lines) if text in line)

    divider = lines.index("New since your last visit")
    assert position(before) < divider < min(position(text) for text in missed), lines
    expect(back.get_by_test_id("new-since")).to_have_count(1)
    assert back.errors == []


def test_the_online_list_is_presence(demo: Demo, open_page: Any) -> None:
    from playwright.sync_api import expect

    alice, bob = alice_and_bob(open_page, "/rooms/lobby/")
    for page in (alice, bob):
        expect(page.get_by_test_id("online")).to_contain_text("alice", timeout=WAIT_MS)
        expect(page.get_by_test_id("online")).to_contain_text("bob", timeout=WAIT_MS)

    alice.evaluate(
        """() => {
            window.removed = [];
            chatSocket.addEventListener("member_removed", (event) =>
                removed.push(event.detail.member.user));
        }"""
    )
    # A second tab of bob's: still one bob, and closing one tab leaves him online.
    second = open_in_same_browser(bob.context, demo, "/rooms/lobby/")
    expect_connected(second)
    expect(alice.get_by_test_id("online").locator("li", has_text="bob")).to_have_count(1)
    heard = disconnects_heard(demo)
    second.close()
    wait_until(lambda: disconnects_heard(demo) > heard, "the second tab's $disconnect")
    assert alice.evaluate("removed") == []
    expect(alice.get_by_test_id("online")).to_contain_text("bob")
    assert second.errors == []

    # Bob leaves: his last connection ends, and the room hears it without anyone talking.
    bob.goto(f"{demo.url}/")
    expect(alice.get_by_test_id("online")).not_to_contain_text("bob", timeout=WAIT_MS)
    expect(alice.get_by_test_id("online")).to_contain_text("alice")


def test_a_forbidden_subscription_is_refused_with_its_reason(demo: Demo, open_page: Any) -> None:
    from playwright.sync_api import expect

    bob = open_page("bob", "/rooms/lobby/")
    expect_connected(bob)
    # The page follows only the rooms bob may join...
    expect(bob.get_by_test_id("rooms")).to_contain_text("Random")
    expect(bob.get_by_test_id("rooms")).not_to_contain_text("Staff room")
    # ...and the server is the one that decides: asking anyway is refused.
    bob.evaluate("chatSocket.subscribe('staff')")
    notice = bob.get_by_test_id("notice")
    expect(notice).to_be_visible(timeout=WAIT_MS)
    expect(notice).to_contain_text('refused to subscribe "staff"')
    expect(notice).to_contain_text("forbidden")
    assert bob.evaluate("chatSocket.subscriptions") == ["random"]
    expect_connected(bob)  # the connection carries on


def test_other_rooms_show_unread_counts(demo: Demo, open_page: Any) -> None:
    from playwright.sync_api import expect

    bob = open_page("bob", "/rooms/random/")
    expect_connected(bob)
    say(bob, unique("said before alice came"))
    expect(bob.get_by_test_id("messages")).to_contain_text("said before alice came")
    alice = open_page("alice", "/rooms/lobby/")
    expect_connected(alice)
    # Alice follows both other rooms; she never opened them in this browser, so all of
    # random's messages are unread.
    expect(alice.get_by_test_id("rooms")).to_contain_text("Staff room")
    assert alice.evaluate("chatSocket.subscriptions") == ["random", "staff"]
    alice.wait_for_function("() => chatSocket.lastSeq('random') !== null", timeout=WAIT_MS)
    last = alice.evaluate("chatSocket.lastSeq('random')")
    badge = alice.get_by_test_id("unread-random")
    expect(badge).to_have_text(str(last), timeout=WAIT_MS)

    say(bob, unique("for alice to read later"))
    expect(badge).to_have_text(str(last + 1), timeout=WAIT_MS)

    # Reading the room clears its count.
    alice.goto(f"{demo.url}/rooms/random/")
    expect(alice.get_by_test_id("messages")).to_contain_text("for alice to read later")
    alice.goto(f"{demo.url}/rooms/lobby/")
    expect_connected(alice)
    badge = alice.get_by_test_id("unread-random")
    expect(badge).to_have_attribute("data-count", "0", timeout=WAIT_MS)
    expect(badge).to_be_hidden()
