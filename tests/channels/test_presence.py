"""Presence through the real view: members, member_added once per user, member_removed
when the last connection leaves, however that is found out."""

from __future__ import annotations

import io
import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import close_old_connections, connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_aws_api_gateway_websockets.liveness import check_liveness
from django_aws_api_gateway_websockets.models import ChannelPresence, WebSocketSession
from django_aws_api_gateway_websockets.presence import presence
from tests.channels.views import ChannelsView

pytestmark = [pytest.mark.urls("tests.channels.urls"), pytest.mark.django_db(transaction=True)]


def added(tab) -> list[str]:
    return [m["member"]["user"] for m in tab.of_type("member_added")]


def removed(tab) -> list[str]:
    return [m["member"]["user"] for m in tab.of_type("member_removed")]


def test_members_are_announced_once_and_listed(connect, alice, bob):
    first = connect(alice, "room-1")
    second = connect(bob, "room-1")

    assert first.of_type("member_added") == [
        {
            "type": "member_added",
            "channel": "room-1",
            "member": {"user": str(bob.pk), "data": {"name": "bob"}},
        }
    ]
    assert second.of_type("member_added") == []  # its own join is not announced to it
    assert presence("room-1") == [
        {"user": str(alice.pk), "data": {"name": "alice"}},
        {"user": str(bob.pk), "data": {"name": "bob"}},
    ]
    second.send("presence", channel="room-1")
    assert second.last() == {
        "type": "presence",
        "channel": "room-1",
        "members": presence("room-1"),
    }


def test_a_second_tab_is_not_announced_and_the_last_one_leaving_is(connect, alice, bob):
    watcher = connect(alice, "room-1")
    tab1 = connect(bob, "room-1")
    tab2 = connect(bob, "room-1", client=tab1.client)
    assert added(watcher) == [str(bob.pk)]

    tab1.disconnect()
    assert removed(watcher) == []
    assert [m["user"] for m in presence("room-1")] == [str(alice.pk), str(bob.pk)]
    tab2.disconnect()
    assert watcher.of_type("member_removed") == [
        {"type": "member_removed", "channel": "room-1", "member": {"user": str(bob.pk)}}
    ]
    assert [m["user"] for m in presence("room-1")] == [str(alice.pk)]


def test_subscribe_and_unsubscribe_join_and_leave(connect, alice, bob):
    watcher = connect(alice, "room-1")
    tab = connect(bob, "lobby")
    assert added(watcher) == []
    tab.send("subscribe", channel="room-1")
    assert tab.last() == {"type": "subscribed", "channel": "room-1"}
    assert added(watcher) == [str(bob.pk)]
    tab.send("unsubscribe", channel="room-1")
    assert removed(watcher) == [str(bob.pk)]
    assert [m["user"] for m in presence("room-1")] == [str(alice.pk)]


def test_a_user_in_a_channel_by_two_ways_leaves_with_the_last(connect, alice, bob):
    watcher = connect(alice, "room-1")
    primary = connect(bob, "room-1")
    subscriber = connect(bob, "lobby", client=primary.client)
    subscriber.send("subscribe", channel="room-1")
    primary.disconnect()
    assert removed(watcher) == []
    subscriber.send("unsubscribe", channel="room-1")
    assert removed(watcher) == [str(bob.pk)]


def test_change_channel_leaves_and_joins(connect, alice, bob):
    room1 = connect(alice, "room-1")
    room2 = connect(alice, "room-2", client=room1.client)
    tab = connect(bob, "room-1")
    tab.send("change_channel", channel="room-2")
    assert removed(room1) == [str(bob.pk)]
    assert added(room2) == [str(bob.pk)]
    tab.send("change_channel", channel="lobby")
    assert removed(room2) == [str(bob.pk)]
    assert presence("room-2") == [{"user": str(alice.pk), "data": {"name": "alice"}}]


def test_anonymous_connections_are_no_members_but_hear_the_members(connect, alice):
    anonymous = connect(None, "room-1")
    connect(alice, "room-1")
    assert added(anonymous) == [str(alice.pk)]
    assert [m["user"] for m in presence("room-1")] == [str(alice.pk)]
    assert not WebSocketSession.objects.get(connection_id=anonymous.connection_id).presence


def test_channels_without_presence_keep_none(connect, alice, bob):
    watcher = connect(alice, "lobby")
    connect(bob, "lobby")
    assert watcher.of_type("member_added") == []
    assert not ChannelPresence.objects.exists()
    watcher.send("presence", channel="lobby")
    assert watcher.last()["reason"] == "invalid_channel"


def test_presence_of_a_channel_the_connection_is_not_in_is_refused(connect, alice, bob):
    connect(alice, "room-1")
    outsider = connect(bob, "lobby")
    outsider.send("presence", channel="room-1")
    assert outsider.last()["type"] == "refused"
    assert outsider.last()["reason"] == "not_member"


def test_a_payload_over_the_cap_is_left_empty(connect, alice, bob, settings, monkeypatch, caplog):
    settings.WEBSOCKETS = {**settings.WEBSOCKETS, "presence_payload_max_bytes": 64}
    monkeypatch.setattr(ChannelsView, "presence_data", lambda self, request: {"bio": "x" * 64})
    watcher = connect(alice, "room-1")
    connect(bob, "room-1")
    assert watcher.of_type("member_added")[0]["member"] == {"user": str(bob.pk), "data": {}}
    assert presence("room-1")[0]["data"] == {}
    assert "presence_data must return a JSON object of at most 64 bytes" in caplog.text


# -- found gone without $disconnect ----------------------------------------------------


def test_a_410_in_a_fan_out_removes_the_member(connect, alice, bob, api):
    watcher = connect(alice, "room-1")
    tab = connect(bob, "room-1")
    api.disconnect(tab.connection_id)  # the browser went away; no $disconnect came
    WebSocketSession.objects.in_channel("room-1").send_message({"text": "hi"})
    assert removed(watcher) == [str(bob.pk)]
    assert [m["user"] for m in presence("room-1")] == [str(alice.pk)]


def test_a_410_to_one_session_removes_the_member(connect, alice, bob, api):
    watcher = connect(alice, "room-1")
    tab = connect(bob, "room-1")
    api.disconnect(tab.connection_id)
    assert WebSocketSession.objects.get(connection_id=tab.connection_id).send_message({}) is None
    assert removed(watcher) == [str(bob.pk)]


def test_sessions_past_the_age_cap_leave(connect, alice, bob):
    watcher = connect(alice, "room-1")
    expired = connect(bob, "room-1")
    WebSocketSession.objects.filter(connection_id=expired.connection_id).update(
        created_on=timezone.now() - timedelta(hours=3)
    )
    assert check_liveness().expired == 1
    assert removed(watcher) == [str(bob.pk)]


def test_silent_sessions_probed_gone_leave(connect, alice, bob, api):
    watcher = connect(alice, "room-1")
    silent = connect(bob, "room-1")
    WebSocketSession.objects.filter(connection_id=silent.connection_id).update(
        updated_on=timezone.now() - timedelta(minutes=20)
    )
    api.disconnect(silent.connection_id)
    found = check_liveness()
    assert (found.probed, found.gone) == (1, 1), found
    assert removed(watcher) == [str(bob.pk)]


def test_a_logout_removes_the_member(connect, alice, bob):
    watcher = connect(alice, "room-1")
    tab = connect(bob, "room-1")
    tab.client.logout()
    assert removed(watcher) == [str(bob.pk)]


def test_the_cleanup_command_removes_members_left_behind(connect, alice, bob):
    watcher = connect(alice, "room-1")
    tab = connect(bob, "room-1")
    # A process that died between marking the session and settling presence.
    WebSocketSession.objects.filter(connection_id=tab.connection_id).update(connected=False)
    assert [m["user"] for m in presence("room-1")] == [str(alice.pk)]  # derived from sessions
    call_command("clearWebSocketSessions", stdout=io.StringIO())
    assert removed(watcher) == [str(bob.pk)]
    assert list(ChannelPresence.objects.values_list("user_id", flat=True)) == [alice.pk]


def test_the_admin_action_removes_the_member(connect, alice, bob, monkeypatch):
    from django.contrib import admin
    from django.test import RequestFactory

    from django_aws_api_gateway_websockets.admin import WebSocketSessionAdmin

    watcher = connect(alice, "room-1")
    tab = connect(bob, "room-1")
    model_admin = WebSocketSessionAdmin(WebSocketSession, admin.site)
    monkeypatch.setattr(model_admin, "message_user", lambda *args, **kwargs: None)
    chosen = WebSocketSession.objects.filter(connection_id=tab.connection_id)
    model_admin.mark_disconnected(RequestFactory().post("/"), chosen)
    assert removed(watcher) == [str(bob.pk)]


def test_deleting_the_gateway_removes_its_members(connect, alice, bob, gateway, api):
    other = type(gateway).objects.create(api_name="other", api_id="chanapi002")
    watcher = connect(alice, "room-1")
    tab = type(watcher)(Client(), path="/ws/", api_id=other.api_id)
    tab.recording = api
    tab.login(bob)
    api.connect(tab.connection_id)
    assert tab.connect(channel="room-1").status_code == 200
    other.delete()
    assert removed(watcher) == [str(bob.pk)]


# -- statements and concurrency ------------------------------------------------------


def statements(call) -> list[str]:
    with CaptureQueriesContext(connection) as context:
        response = call()
    assert response.status_code == 200, response.content
    return [
        q["sql"]
        for q in context.captured_queries
        if not q["sql"].startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"))
    ]


def event_statements(tab) -> list[int]:
    """Statements of a $connect, a message and a $disconnect of ``tab``."""
    return [
        len(statements(lambda: tab.connect(channel="lobby"))),
        len(statements(lambda: tab.message({"action": "sendmessage", "text": "hi"}))),
        len(statements(tab.disconnect)),
    ]


def test_events_of_channels_without_presence_cost_nothing_more(
    connect, alice, gateway, api, settings
):
    connect(alice, "lobby")  # warm caches
    without = type(connect(alice, "lobby"))(Client(), path="/ws/", api_id=gateway.api_id)
    without.login(alice)
    with_presence = type(without)(without.client, path="/ws/", api_id=gateway.api_id)
    for tab in (without, with_presence):
        tab.recording = api
        api.connect(tab.connection_id)
    assert settings.WEBSOCKETS["presence_channels"]
    counted = event_statements(with_presence)
    settings.WEBSOCKETS = {
        key: value for key, value in settings.WEBSOCKETS.items() if key != "presence_channels"
    }
    assert event_statements(without) == counted == [3, 1, 1]


def all_at_once(action, tabs) -> None:
    """Run ``action(tab)`` for every tab in threads released together."""
    barrier = threading.Barrier(len(tabs))

    def run(tab) -> None:
        try:
            barrier.wait()
            action(tab)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=run, args=(tab,)) for tab in tabs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@pytest.mark.postgres
def test_two_tabs_joining_or_leaving_at_once_are_announced_once(connect, alice, bob, gateway, api):
    watcher = connect(alice, "room-1")
    statuses: list[int] = []
    for round_ in range(5):
        tabs = [type(watcher)(Client(), path="/ws/", api_id=gateway.api_id) for _ in range(4)]
        for tab in tabs:
            tab.recording = api
            tab.login(bob)
            api.connect(tab.connection_id)
        all_at_once(lambda tab: statuses.append(tab.connect(channel="room-1").status_code), tabs)
        assert added(watcher) == [str(bob.pk)] * (round_ + 1)
        all_at_once(lambda tab: statuses.append(tab.disconnect().status_code), tabs)
        assert removed(watcher) == [str(bob.pk)] * (round_ + 1)
    assert statuses == [200] * 40


@pytest.mark.parametrize(("value", "reported"), [("room-(", True), (5, True), ("", False)])
def test_a_presence_pattern_that_does_not_compile_is_reported(settings, value, reported):
    from django_aws_api_gateway_websockets.checks import check_settings_values

    settings.WEBSOCKETS = {"presence_channels": value}
    errors = [e for e in check_settings_values() if "presence_channels" in e.msg]
    assert bool(errors) is reported
    assert [e.id for e in errors] == ["django_aws_api_gateway_websockets.E002"] * len(errors)


def test_a_long_member_list_comes_in_several_messages(
    connect, alice, gateway, api, django_user_model
):
    users = django_user_model.objects.bulk_create(
        django_user_model(username=f"member{i}") for i in range(150)
    )
    for user in users:
        api.connect(f"m{user.pk}=")
    WebSocketSession.objects.bulk_create(
        WebSocketSession(
            connection_id=f"m{user.pk}=", channel_name="room-1", user=user, api_gateway=gateway
        )
        for user in users
    )
    ChannelPresence.objects.bulk_create(
        ChannelPresence(
            channel_name="room-1", user=user, data={"bio": "x" * 1000}, joined_on=timezone.now()
        )
        for user in users
    )
    tab = connect(alice, "room-1")
    tab.send("presence", channel="room-1")
    answers = tab.of_type("presence")
    assert [answer.get("more") for answer in answers] == [True, None]
    assert all(len(message) <= 128 * 1024 for message in tab.recording.messages(tab.connection_id))
    assert [m for answer in answers for m in answer["members"]] == presence("room-1")
    assert len(presence("room-1")) == 151
