"""Subscriptions through the real view: subscribe and unsubscribe messages, their
permission rules (the same as connecting), the limit, and sending to a channel."""

from __future__ import annotations

import threading

import pytest
from django.db import close_old_connections
from django.test import Client

from django_aws_api_gateway_websockets.models import (
    ChannelPermission,
    ChannelSubscription,
    WebSocketSession,
)

pytestmark = [pytest.mark.urls("tests.channels.urls"), pytest.mark.django_db]


def subscriptions_of(tab) -> list[str]:
    return sorted(
        ChannelSubscription.objects.filter(session__connection_id=tab.connection_id).values_list(
            "channel_name", flat=True
        )
    )


def refusal(tab, request: str, channel, reason: str) -> None:
    last = tab.last()
    assert last["type"] == "refused", last
    assert (last["request"], last["channel"], last["reason"]) == (request, channel, reason)
    assert last["message"]


def test_subscribe_answers_and_adds_the_channel(connect, alice):
    tab = connect(alice, "lobby")
    assert tab.send("subscribe", channel="room-2").status_code == 200
    assert tab.last() == {"type": "subscribed", "channel": "room-2"}
    assert subscriptions_of(tab) == ["room-2"]
    assert WebSocketSession.objects.get(connection_id=tab.connection_id).channel_name == "lobby"


def test_sending_to_a_channel_reaches_members_and_subscribers_once(connect, alice, bob):
    member = connect(alice, "news")
    subscriber = connect(bob, "lobby")
    subscriber.send("subscribe", channel="news")
    member.send("subscribe", channel="news")  # its primary channel: nothing to add
    outsider = connect(bob, "lobby")

    result = WebSocketSession.objects.in_channel("news").send_message({"text": "hi"})

    assert len(result.sent) == 2
    assert [m for m in member.received() if m == {"text": "hi"}] == [{"text": "hi"}]
    assert [m for m in subscriber.received() if m == {"text": "hi"}] == [{"text": "hi"}]
    assert {"text": "hi"} not in outsider.received()


def test_subscribing_twice_or_to_the_primary_channel_adds_no_row(connect, alice):
    tab = connect(alice, "lobby")
    tab.send("subscribe", channel="room-2")
    tab.send("subscribe", channel="room-2")
    tab.send("subscribe", channel="lobby")
    assert tab.of_type("subscribed") == [
        {"type": "subscribed", "channel": "room-2"},
        {"type": "subscribed", "channel": "room-2"},
        {"type": "subscribed", "channel": "lobby"},
    ]
    assert subscriptions_of(tab) == ["room-2"]


@pytest.mark.parametrize("channel", ["bad channel", "x" * 129, "é"])
def test_an_invalid_name_is_refused(connect, alice, channel):
    tab = connect(alice)
    assert tab.send("subscribe", channel=channel).status_code == 200
    refusal(tab, "subscribe", channel if len(channel) <= 128 else None, "invalid_channel")
    assert subscriptions_of(tab) == []


@pytest.mark.parametrize("body", [{}, {"channel": 5}, {"channel": ["a"]}, {"channel": None}])
@pytest.mark.parametrize("handler", ["subscribe", "unsubscribe", "presence"])
def test_a_malformed_request_gets_400_and_a_refusal(connect, alice, handler, body):
    tab = connect(alice)
    assert tab.send(handler, **body).status_code == 400
    refusal(tab, handler, None, "invalid_channel")
    assert subscriptions_of(tab) == []


def test_a_channel_permission_row_is_checked(connect, alice, make_user):
    ChannelPermission.objects.create(
        channel_name="staff", access=ChannelPermission.Access.STAFF_ONLY
    )
    tab = connect(alice)
    tab.send("subscribe", channel="staff")
    refusal(tab, "subscribe", "staff", "forbidden")
    assert subscriptions_of(tab) == []

    staff = make_user("carol")
    staff.is_staff = True
    staff.save()
    allowed = connect(staff)
    allowed.send("subscribe", channel="staff")
    assert allowed.last() == {"type": "subscribed", "channel": "staff"}


def test_unlisted_channels_follow_the_view(connect, alice, monkeypatch):
    from tests.channels.views import ChannelsView

    monkeypatch.setattr(ChannelsView, "ALLOW_UNLISTED_CHANNELS", False)
    ChannelPermission.objects.create(channel_name="open")
    tab = connect(alice, "open")
    tab.send("subscribe", channel="elsewhere")
    refusal(tab, "subscribe", "elsewhere", "forbidden")
    # A channel an object-level rule matches is listed by the rule.
    tab.send("subscribe", channel=f"user-{alice.pk}")
    assert tab.last() == {"type": "subscribed", "channel": f"user-{alice.pk}"}


def test_an_object_level_rule_decides_subscribe_connect_and_token(connect, alice, bob, gateway):
    tab = connect(alice)
    tab.send("subscribe", channel=f"user-{alice.pk}")
    assert tab.last() == {"type": "subscribed", "channel": f"user-{alice.pk}"}
    tab.send("subscribe", channel=f"user-{bob.pk}")
    refusal(tab, "subscribe", f"user-{bob.pk}", "forbidden")
    assert subscriptions_of(tab) == [f"user-{alice.pk}"]

    # The same rule at $connect and for a token: one home for it.
    intruder = connect(alice).__class__(Client(), path="/ws/", api_id=gateway.api_id)
    intruder.login(alice)
    assert intruder.connect(channel=f"user-{bob.pk}").status_code == 403
    assert intruder.connect(channel=f"user-{alice.pk}").status_code == 200
    token = intruder.client.post("/ws-token/", {"channel": f"user-{bob.pk}"})
    assert (token.status_code, token.json()["reason"]) == (403, "forbidden_channel")


def test_the_limit_admits_exactly_max_subscriptions(connect, alice, settings):
    settings.WEBSOCKETS = {**settings.WEBSOCKETS, "max_subscriptions": 2}
    tab = connect(alice)
    for channel in ("a", "b", "c"):
        tab.send("subscribe", channel=channel)
    refusal(tab, "subscribe", "c", "too_many_subscriptions")
    assert subscriptions_of(tab) == ["a", "b"]
    tab.send("subscribe", channel="b")  # already in: not a new subscription
    assert tab.last() == {"type": "subscribed", "channel": "b"}
    tab.send("unsubscribe", channel="a")
    tab.send("subscribe", channel="c")
    assert tab.last() == {"type": "subscribed", "channel": "c"}
    assert subscriptions_of(tab) == ["b", "c"]


def test_unsubscribe(connect, alice):
    tab = connect(alice, "lobby")
    tab.send("subscribe", channel="room-2")
    tab.send("unsubscribe", channel="room-2")
    assert tab.last() == {"type": "unsubscribed", "channel": "room-2"}
    assert subscriptions_of(tab) == []
    assert not WebSocketSession.objects.in_channel("room-2").exists()

    tab.send("unsubscribe", channel="room-2")
    refusal(tab, "unsubscribe", "room-2", "not_member")
    tab.send("unsubscribe", channel="lobby")
    refusal(tab, "unsubscribe", "lobby", "primary_channel")
    assert WebSocketSession.objects.get(connection_id=tab.connection_id).channel_name == "lobby"


def test_the_channel_handlers_are_off_unless_listed(connect, alice):
    plain = connect(alice, path="/ws-plain/")
    assert plain.send("subscribe", channel="room-2").status_code == 400
    assert plain.received() == []
    assert subscriptions_of(plain) == []


def test_a_subclass_handler_of_the_same_name_stays_a_handler(connect, alice):
    own = connect(alice, path="/ws-own/")
    assert own.send("subscribe", channel="room-2").status_code == 200
    assert own.received() == [{"type": "own"}]
    assert subscriptions_of(own) == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_subscribes_of_one_connection_keep_the_limit(connect, alice, settings):
    settings.WEBSOCKETS = {**settings.WEBSOCKETS, "max_subscriptions": 3}
    tab = connect(alice)
    barrier = threading.Barrier(8)
    statuses: list[int] = []

    def subscribe(channel: str) -> None:
        try:
            barrier.wait()
            statuses.append(tab.send("subscribe", channel=channel).status_code)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=subscribe, args=(f"c{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [200] * 8
    assert len(subscriptions_of(tab)) == 3
    assert len(tab.of_type("subscribed")) == 3
    assert len(tab.of_type("refused")) == 5
