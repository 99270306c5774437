"""History and resume (docs/channels.rst): numbering, retention, send_to_channel, and the
``resume`` and ``history`` handlers through the real view and the recording Management
API. Runs on SQLite and PostgreSQL; the cross-process test needs PostgreSQL."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_aws_api_gateway_websockets import history
from django_aws_api_gateway_websockets.channel_messages import (
    asend_to_channel,
    send_to_channel,
)
from django_aws_api_gateway_websockets.checks import check_settings_values
from django_aws_api_gateway_websockets.models import (
    MAX_MESSAGE_SIZE,
    ApiGateway,
    ChannelMessage,
    ChannelSequence,
    ChannelSubscription,
    SendRecord,
    WebSocketSession,
)
from django_aws_api_gateway_websockets.testing import ApiGatewayRequests, RecordingManagementApi

pytestmark = pytest.mark.urls("tests.channels.history_urls")

ROOT = Path(__file__).resolve().parents[2]
ROOM = "room-1"


@pytest.fixture
def history_on(management_api: RecordingManagementApi, settings: Any) -> RecordingManagementApi:
    """Channels ``room-<n>`` keep history; sending goes to the recording API."""
    settings.WEBSOCKETS = {**settings.WEBSOCKETS, "history_channels": [r"room-\d+"]}
    return management_api


@pytest.fixture
def gateway(db: None) -> ApiGateway:
    return ApiGateway.objects.create(api_name="history tests", api_id="histapi01")


Connect = Callable[..., ApiGatewayRequests]


@pytest.fixture
def connect(client, gateway: ApiGateway, history_on: RecordingManagementApi) -> Connect:
    """Open a connection to the history view in ``channel`` (and in the recorder)."""

    def open_connection(channel: str, path: str = "/ws-history/") -> ApiGatewayRequests:
        ws = ApiGatewayRequests(client, path=path, api_id=gateway.api_id)
        assert ws.connect(channel=channel).status_code == 200
        history_on.connect(ws.connection_id)
        return ws

    return open_connection


def received(api: RecordingManagementApi, ws: ApiGatewayRequests) -> list[Any]:
    return api.json_messages(ws.connection_id)


def session_of(ws: ApiGatewayRequests) -> WebSocketSession:
    return WebSocketSession.objects.get(connection_id=ws.connection_id)


def subscribe(ws: ApiGatewayRequests, channel: str) -> None:
    ChannelSubscription.objects.create(session=session_of(ws), channel_name=channel)


def kept_seqs(channel: str = ROOM) -> list[int]:
    return list(
        ChannelMessage.objects.filter(channel_name=channel)
        .order_by("seq")
        .values_list("seq", flat=True)
    )


def sent(count: int, channel: str = ROOM, start: int = 1) -> None:
    for n in range(start, start + count):
        send_to_channel(channel, {"n": n})


def entries(messages: list[Any]) -> list[tuple[int, Any]]:
    """(seq, data) of every history entry in ``messages``, in order."""
    return [
        (e["seq"], e["data"]) for m in messages if m["type"] == "history" for e in m["messages"]
    ]


# -- sending to a channel -----------------------------------------------------------


def test_a_message_reaches_primary_members_and_subscribers_once_numbered(connect, history_on):
    primary, subscriber, elsewhere = connect(ROOM), connect("lobby"), connect("lobby")
    subscribe(subscriber, ROOM)
    subscribe(primary, ROOM)  # also a subscriber of its primary channel: still once

    first = send_to_channel(ROOM, {"text": "hi"})
    second = send_to_channel(ROOM, {"text": "again"})

    assert len(first.sent) == len(second.sent) == 2
    for ws in (primary, subscriber):
        assert received(history_on, ws) == [
            {"type": "message", "channel": ROOM, "seq": 1, "data": {"text": "hi"}},
            {"type": "message", "channel": ROOM, "seq": 2, "data": {"text": "again"}},
        ]
    assert received(history_on, elsewhere) == []
    assert kept_seqs() == [1, 2]
    assert ChannelSequence.objects.get(channel_name=ROOM).last_seq == 2


def test_a_channel_without_history_sends_seq_null_and_keeps_nothing(connect, history_on):
    ws = connect("lobby")
    with CaptureQueriesContext(connection) as queries:
        send_to_channel("lobby", ["plain"])
    assert received(history_on, ws) == [
        {"type": "message", "channel": "lobby", "seq": None, "data": ["plain"]}
    ]
    assert not ChannelMessage.objects.exists()
    assert not ChannelSequence.objects.exists()
    assert not any("channelmessage" in q["sql"].lower() for q in queries.captured_queries)


def test_data_is_replayed_exactly_as_it_was_sent(connect, history_on):
    from datetime import datetime
    from datetime import timezone as dt_timezone
    from decimal import Decimal
    from uuid import UUID

    ws = connect(ROOM)
    data = {
        "text": "Grüße, 世界 🎉",
        "at": datetime(2026, 12, 1, 10, 0, tzinfo=dt_timezone.utc),
        "price": Decimal("1.10"),
        "id": UUID(int=7),
        "nested": [1, 2.5, None, True, {"k": "v"}],
    }
    send_to_channel(ROOM, data)
    ws.message({"handler": "history", "channel": ROOM})
    live, answer = received(history_on, ws)
    assert answer["messages"][0]["data"] == live["data"]
    assert live["data"]["at"] == "2026-12-01T10:00:00Z"
    assert live["data"]["price"] == "1.10"
    assert live["data"]["text"] == "Grüße, 世界 🎉"


def test_sequences_are_per_channel(history_on, db):
    sent(3, "room-1")
    sent(2, "room-2")
    assert kept_seqs("room-1") == [1, 2, 3]
    assert kept_seqs("room-2") == [1, 2]


def test_numbering_and_keeping_is_one_statement_on_postgres(history_on, db):
    with CaptureQueriesContext(connection) as queries:
        seq = history.keep(ROOM, '{"a": 1}')
    assert seq == 1
    expected = 1 if connection.vendor == "postgresql" else 4  # SQLite: BEGIN, 2, COMMIT
    assert len(queries) == expected, queries.captured_queries


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_row_is_freed_before_the_disk_write(history_on):
    if connection.vendor != "postgresql":
        pytest.skip("synchronous_commit is PostgreSQL's")
    with CaptureQueriesContext(connection) as queries:
        seq = history.keep(ROOM, '{"a": 1}')
    assert seq == 1
    # The numbered insert commits without waiting for the disk; the empty statement
    # after it waits for the disk before keep() returns.
    keep_sql, barrier = (query["sql"] for query in queries.captured_queries)
    assert "set_config('synchronous_commit', 'off', true)" in keep_sql
    assert "pg_current_xact_id()" in barrier
    assert kept_seqs() == [1]


@pytest.mark.django_db(transaction=True)
def test_in_a_transaction_of_the_callers_its_commit_decides(history_on):
    from django.db import transaction

    if connection.vendor != "postgresql":
        pytest.skip("synchronous_commit is PostgreSQL's")
    transaction.set_autocommit(False)  # a transaction opened without atomic()
    try:
        with CaptureQueriesContext(connection) as queries:
            history.keep(ROOM, '{"a": 1}')
        transaction.commit()
    finally:
        transaction.set_autocommit(True)
    (keep_sql,) = (query["sql"] for query in queries.captured_queries)
    assert "synchronous_commit" not in keep_sql
    assert kept_seqs() == [1]


def test_a_rolled_back_number_is_given_again_so_none_is_skipped(history_on, db):
    from django.db import transaction

    history.keep(ROOM, "1")
    taken = []

    def keep_then_fail() -> None:
        with transaction.atomic():
            taken.append(history.keep(ROOM, "2"))
            raise RuntimeError

    with pytest.raises(RuntimeError):
        keep_then_fail()
    assert taken == [2]
    assert history.keep(ROOM, "3") == 2
    assert kept_seqs() == [1, 2]
    assert ChannelMessage.objects.get(seq=2).data == "3"


def test_a_send_to_an_empty_history_channel_costs_two_statements_on_postgres(history_on, db):
    if connection.vendor != "postgresql":
        pytest.skip("the one-statement history insert is PostgreSQL's")
    send_to_channel(ROOM, 0)
    with CaptureQueriesContext(connection) as queries:
        send_to_channel(ROOM, 1)
    # The numbered insert, and the one page of recipients (none).
    assert len(queries) == 2, queries.captured_queries


def test_an_oversized_message_is_refused_before_anything_is_kept(connect, history_on):
    ws = connect(ROOM)
    sent(1)
    # Fits alone in 128 KB, but not in a history answer, which wraps it in more.
    data = "x" * (MAX_MESSAGE_SIZE - 100)
    with pytest.raises(ValueError, match="at most 131072"):
        send_to_channel(ROOM, data)
    assert kept_seqs() == [1]
    assert ChannelSequence.objects.get(channel_name=ROOM).last_seq == 1
    assert [m["seq"] for m in received(history_on, ws)] == [1]


def test_a_channel_name_must_fit_the_column(history_on, db):
    with pytest.raises(ValueError, match="channel"):
        send_to_channel("x" * 129, {})
    with pytest.raises(ValueError, match="channel"):
        send_to_channel("", {})


def test_async_send(connect, history_on):
    from asgiref.sync import async_to_sync

    ws = connect(ROOM)
    # async_to_sync from this thread: the send runs on this thread's connection.
    result = async_to_sync(asend_to_channel)(ROOM, {"async": True})
    assert len(result.sent) == 1
    record = async_to_sync(asend_to_channel)(ROOM, {"async": 2}, background=True)
    assert isinstance(record, SendRecord)
    assert [m["seq"] for m in received(history_on, ws)] == [1, 2]


def test_background_send_goes_through_the_send_record(connect, history_on):
    ws = connect(ROOM)
    record = send_to_channel(ROOM, {"bg": 1}, background=True, message_id=True)
    assert isinstance(record, SendRecord)
    record.refresh_from_db()
    assert record.state == SendRecord.State.FINISHED
    assert record.sent == 1
    (message,) = received(history_on, ws)
    assert message["type"] == "message"
    assert message["seq"] == 1
    assert message["data"] == {"bg": 1}
    assert len(message["message_id"]) == 32
    assert kept_seqs() == [1]


# -- retention ----------------------------------------------------------------------


def test_count_retention_applies_exactly_at_read_time(history_on, settings, db):
    sent(5)
    settings.WEBSOCKETS = {**settings.WEBSOCKETS, "history_max_messages": 3}
    page = history.latest(ROOM, 50)
    assert [m.seq for m in page.messages] == [3, 4, 5]
    assert page.last_seq == 5
    assert history.missed(ROOM, 2).follows(2)
    assert not history.missed(ROOM, 1).follows(1)  # 2 was trimmed
    assert history.missed(ROOM, 1).messages == []  # a reset: nothing read for it
    assert kept_seqs() == [1, 2, 3, 4, 5]  # still there until the cleanup


def test_age_retention_applies_exactly_at_read_time(history_on, db):
    sent(4)
    old = timezone.now() - timedelta(seconds=86400, milliseconds=1)
    ChannelMessage.objects.filter(seq__lte=2).update(sent_at=old)
    page = history.latest(ROOM, 50)
    assert [m.seq for m in page.messages] == [3, 4]
    assert history.missed(ROOM, 2).follows(2)
    assert not history.missed(ROOM, 1).follows(1)


def test_cleanup_deletes_what_retention_excludes_and_numbers_go_on(history_on, settings, db):
    sent(6)
    sent(2, "room-2")
    ChannelMessage.objects.filter(channel_name=ROOM, seq=1).update(
        sent_at=timezone.now() - timedelta(days=2)
    )
    settings.WEBSOCKETS = {**settings.WEBSOCKETS, "history_max_messages": 4}
    call_command("clearWebSocketSessions", stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert kept_seqs() == [3, 4, 5, 6]
    assert kept_seqs("room-2") == [1, 2]

    ChannelMessage.objects.all().delete()  # even with nothing left, no number comes back
    sent(1)
    assert kept_seqs() == [7]


def test_cleanup_reports_what_it_deleted(history_on, settings, db):
    sent(3)
    settings.WEBSOCKETS = {**settings.WEBSOCKETS, "history_max_messages": 1}
    from io import StringIO

    out = StringIO()
    call_command("clearWebSocketSessions", stdout=out)
    assert "Deleted 2 expired channel history messages" in out.getvalue()


# -- resume -------------------------------------------------------------------------


def test_resume_of_100_missed_messages_is_one_query(connect, history_on):
    sent(100)
    ws = connect(ROOM)
    assert ws.message({"handler": "resume", "channels": {ROOM: 100}}).status_code == 200
    history_on.reset()
    history_on.connect(ws.connection_id)

    with CaptureQueriesContext(connection) as queries:
        assert ws.message({"handler": "resume", "channels": {ROOM: 0}}).status_code == 200

    # The session's own statement (every message has it), then the one history query.
    assert len(queries) == 2, [q["sql"] for q in queries.captured_queries]
    assert "channelmessage" in queries.captured_queries[1]["sql"].lower()
    (answer,) = received(history_on, ws)
    assert answer["type"] == "history"
    assert answer["channel"] == ROOM
    assert answer["last_seq"] == 100
    assert entries([answer]) == [(n, {"n": n}) for n in range(1, 101)]
    assert all(e["sent_at"].endswith("Z") for e in answer["messages"])


def test_resume_when_up_to_date_answers_an_empty_history(connect, history_on):
    sent(3)
    ws = connect(ROOM)
    ws.message({"handler": "resume", "channels": {ROOM: 3}})
    assert received(history_on, ws) == [
        {"type": "history", "channel": ROOM, "messages": [], "last_seq": 3}
    ]


def test_resume_answers_are_chunked_under_128_kb_in_order(connect, history_on):
    big = "y" * 30_000
    for n in range(1, 11):
        send_to_channel(ROOM, {"n": n, "pad": big})
    ws = connect(ROOM)
    ws.message({"handler": "resume", "channels": {ROOM: 0}})
    raw = history_on.messages(ws.connection_id)
    assert len(raw) == 3  # four of ~30 KB fit in one
    assert all(len(body) <= MAX_MESSAGE_SIZE for body in raw)
    answers = [json.loads(body) for body in raw]
    assert [seq for seq, _ in entries(answers)] == list(range(1, 11))
    assert {a["last_seq"] for a in answers} == {10}


def test_resume_from_before_the_history_gets_a_reset(connect, history_on, settings):
    sent(5)
    settings.WEBSOCKETS = {**settings.WEBSOCKETS, "history_max_messages": 2}
    ws = connect(ROOM)
    ws.message({"handler": "resume", "channels": {ROOM: 2}})
    assert received(history_on, ws) == [{"type": "reset", "channel": ROOM, "last_seq": 5}]


def test_resume_from_beyond_the_last_number_gets_a_reset(connect, history_on):
    sent(2)
    ws = connect(ROOM)
    ws.message({"handler": "resume", "channels": {ROOM: 9, "room-2": 1}})
    assert received(history_on, ws) == [
        {"type": "reset", "channel": ROOM, "last_seq": 2},
        {
            "type": "refused",
            "request": "resume",
            "channel": "room-2",
            "reason": "not_member",
            "message": "This connection is not in that channel.",
        },
    ]


def test_resume_from_the_largest_number(connect, history_on):
    sent(1)
    ws = connect(ROOM)
    assert ws.message({"handler": "resume", "channels": {ROOM: 2**63 - 1}}).status_code == 200
    assert received(history_on, ws) == [{"type": "reset", "channel": ROOM, "last_seq": 1}]


def test_resume_of_a_never_used_channel(connect, history_on):
    ws = connect(ROOM)
    ws.message({"handler": "resume", "channels": {ROOM: 0}})
    assert received(history_on, ws) == [
        {"type": "history", "channel": ROOM, "messages": [], "last_seq": 0}
    ]


def test_resume_covers_subscribed_channels_in_the_order_asked(connect, history_on):
    sent(2, "room-1")
    sent(3, "room-2")
    ws = connect("room-1")
    subscribe(ws, "room-2")
    with CaptureQueriesContext(connection) as queries:
        ws.message({"handler": "resume", "channels": {"room-2": 1, "room-1": 1}})
    # Session, subscriptions among those asked, one history query per channel.
    assert len(queries) == 4, [q["sql"] for q in queries.captured_queries]
    answers = received(history_on, ws)
    assert [(a["channel"], a["last_seq"]) for a in answers] == [("room-2", 3), ("room-1", 2)]
    assert entries(answers) == [(2, {"n": 2}), (3, {"n": 3}), (2, {"n": 2})]


@pytest.mark.parametrize(
    ("channel", "reason"),
    [("lobby", "no_history"), ("room-9", "not_member"), ("bad name!", "invalid_channel")],
)
def test_resume_refusals(connect, history_on, channel, reason):
    ws = connect("lobby")
    ws.message({"handler": "resume", "channels": {channel: 0}})
    (answer,) = received(history_on, ws)
    assert answer["type"] == "refused"
    assert answer["request"] == "resume"
    assert answer["channel"] == channel
    assert answer["reason"] == reason
    assert answer["message"]


@pytest.mark.parametrize(
    "body",
    [
        {"channels": [ROOM]},
        {"channels": {}},
        {"channels": {ROOM: -1}},
        {"channels": {ROOM: True}},
        {"channels": {ROOM: "3"}},
        {"channels": {ROOM: 1.5}},
        {"channels": {ROOM: 2**63}},
        {"channels": {f"room-{n}": 0 for n in range(102)}},
        {},
    ],
)
def test_malformed_resume_is_400_and_answers_nothing(connect, history_on, body):
    sent(1)
    ws = connect(ROOM)
    response = ws.message({"handler": "resume", **body})
    assert response.status_code == 400
    assert received(history_on, ws) == []


# -- history ------------------------------------------------------------------------


def test_history_gives_the_last_messages_oldest_first(connect, history_on):
    sent(8)
    ws = connect(ROOM)
    ws.message({"handler": "history", "channel": ROOM, "limit": 3})
    (answer,) = received(history_on, ws)
    assert answer["type"] == "history"
    assert answer["last_seq"] == 8
    assert entries([answer]) == [(6, {"n": 6}), (7, {"n": 7}), (8, {"n": 8})]


def test_history_without_limit_gives_up_to_50(connect, history_on):
    sent(60)
    ws = connect(ROOM)
    ws.message({"handler": "history", "channel": ROOM})
    assert [seq for seq, _ in entries(received(history_on, ws))] == list(range(11, 61))


def test_history_is_capped_by_retention(connect, history_on, settings):
    sent(5)
    settings.WEBSOCKETS = {**settings.WEBSOCKETS, "history_max_messages": 2}
    ws = connect(ROOM)
    ws.message({"handler": "history", "channel": ROOM, "limit": 100})
    assert [seq for seq, _ in entries(received(history_on, ws))] == [4, 5]


def test_history_of_a_subscribed_channel(connect, history_on):
    sent(1, "room-2")
    ws = connect("lobby")
    subscribe(ws, "room-2")
    ws.message({"handler": "history", "channel": "room-2", "limit": 5})
    assert entries(received(history_on, ws)) == [(1, {"n": 1})]


@pytest.mark.parametrize(
    ("channel", "reason"),
    [("lobby", "no_history"), ("room-9", "not_member"), ("bad name!", "invalid_channel")],
)
def test_history_refusals(connect, history_on, channel, reason):
    ws = connect("lobby")
    ws.message({"handler": "history", "channel": channel})
    (answer,) = received(history_on, ws)
    assert (answer["type"], answer["request"], answer["reason"]) == ("refused", "history", reason)


@pytest.mark.parametrize(
    "body",
    [
        {"channel": 1},
        {"channel": ROOM, "limit": 0},
        {"channel": ROOM, "limit": True},
        {"channel": ROOM, "limit": "5"},
        {"channel": ROOM, "limit": 10**30},
        {"limit": 5},
    ],
)
def test_malformed_history_is_400(connect, history_on, body):
    ws = connect(ROOM)
    assert ws.message({"handler": "history", **body}).status_code == 400
    assert received(history_on, ws) == []


def test_the_handlers_are_off_unless_the_view_lists_them(connect, history_on):
    ws = connect(ROOM, path="/ws-plain/")
    assert ws.message({"handler": "resume", "channels": {ROOM: 0}}).status_code == 400
    assert ws.message({"handler": "history", "channel": ROOM}).status_code == 400
    assert received(history_on, ws) == []


def test_a_4_1_0_view_keeps_its_own_handler_named_history(connect, history_on):
    ws = connect(ROOM, path="/ws-own/")
    response = ws.message({"handler": "history", "channel": ROOM})
    assert response.status_code == 200
    assert json.loads(response.content) == {"own": True}
    assert received(history_on, ws) == []


def test_the_admin_lists_kept_messages(history_on, admin_client):
    sent(2)
    page = admin_client.get("/admin/django_aws_api_gateway_websockets/channelmessage/")
    assert page.status_code == 200
    assert page.content.count(ROOM.encode()) >= 2
    one = ChannelMessage.objects.get(seq=2)
    detail = admin_client.get(
        f"/admin/django_aws_api_gateway_websockets/channelmessage/{one.pk}/change/"
    )
    assert detail.status_code == 200
    assert b"&quot;n&quot;: 2" in detail.content
    add = admin_client.get("/admin/django_aws_api_gateway_websockets/channelmessage/add/")
    assert add.status_code == 403


def test_a_connection_gone_mid_answer_stops_it(connect, history_on):
    big = "z" * 60_000
    for n in range(4):
        send_to_channel(ROOM, {"n": n, "pad": big})
    ws = connect(ROOM)
    history_on.disconnect(ws.connection_id)
    assert ws.message({"handler": "resume", "channels": {ROOM: 0}}).status_code == 200
    assert not session_of(ws).connected


# -- settings -----------------------------------------------------------------------


def test_history_channels_setting(settings):
    settings.WEBSOCKETS = {"history_channels": r"room-\d+"}
    assert history.keeps_history("room-12")
    assert not history.keeps_history("room-12x")
    settings.WEBSOCKETS = {"history_channels": ["a", "b-.*"]}
    assert history.keeps_history("b-1")
    assert not history.keeps_history("c")
    settings.WEBSOCKETS = {}
    assert not history.keeps_history("room-1")


def test_a_bad_history_pattern_is_reported_and_ignored(settings):
    settings.WEBSOCKETS = {"history_channels": ["room-(", "ok"]}
    (error,) = check_settings_values()
    assert error.id.endswith("E002")
    assert "history_channels" in error.msg
    assert history.keeps_history("ok")
    assert not history.keeps_history("room-(")
    settings.WEBSOCKETS = {"history_channels": 5}
    assert len(check_settings_values()) == 1
    settings.WEBSOCKETS = {"history_channels": ["fine", r"room-\d+"]}
    assert check_settings_values() == []


# -- many processes -----------------------------------------------------------------

SENDERS = 4
PER_SENDER = 150


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_four_processes_sending_at_once_never_reuse_or_skip_a_number(tmp_path):
    database = connection.settings_dict
    url = f"postgres://{database['USER']}@{database['HOST']}:{database['PORT'] or 5432}/"
    env = {**os.environ, "DATABASE_URL": url + database["NAME"]}
    env.pop("TEST_DB_NAME", None)
    go = tmp_path / "go"
    senders = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.channels.sender", ROOM, str(PER_SENDER), str(go)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(SENDERS)
    ]
    go.touch()
    outputs = [sender.communicate(timeout=120)[0].decode() for sender in senders]
    assert [sender.returncode for sender in senders] == [0] * SENDERS, outputs

    total = SENDERS * PER_SENDER
    rows = list(ChannelMessage.objects.filter(channel_name=ROOM).order_by("seq"))
    assert [row.seq for row in rows] == list(range(1, total + 1))
    sent_by = [json.loads(row.data) for row in rows]
    assert len({(d["sender"], d["n"]) for d in sent_by}) == total
    assert len({d["sender"] for d in sent_by}) == SENDERS
    # Each sender's messages are numbered in the order it sent them...
    for pid in {d["sender"] for d in sent_by}:
        assert [d["n"] for d in sent_by if d["sender"] == pid] == list(range(PER_SENDER))
    # ...and the senders really ran at the same time: their numbers interleave.
    switches = sum(1 for a, b in itertools.pairwise(sent_by) if a["sender"] != b["sender"])
    assert switches >= SENDERS
    assert ChannelSequence.objects.get(channel_name=ROOM).last_seq == total
    times = [row.sent_at for row in rows]
    assert times == sorted(times)
