"""Fan-out over a real HTTP Management API with injected faults."""

from __future__ import annotations

import threading
import time
from collections import deque

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth.models import Group, User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from django_aws_api_gateway_websockets.models import ApiGateway, WebSocketSession
from tests.messaging.arrivals import max_in_window

from .conftest import assert_signed

pytestmark = pytest.mark.django_db

PLAN = {
    "conn00000=": [429, 429],  # throttled twice, then delivered
    "conn00001=": [500],
    "conn00002=": ["timeout"],  # delivered late, then again: may be duplicated
    "conn00003=": ["reset"],
    "conn00004=": [413],  # too large: never retried
    "conn00005=": [403],
    "conn00006=": ["timeout"] * 4,  # no answer at all: failed, may have arrived
    "conn00007=": [503] * 4,  # answered every time: failed, not delivered
    "conn00008=": ["reset"] * 4,
}
GONE = {"conn00009=", "conn00010="}


def test_every_recipient_is_reported_sent_gone_or_failed(
    management_api, gateway, make_sessions
) -> None:
    make_sessions(40, gateway)
    for connection_id, actions in PLAN.items():
        management_api.plan[connection_id] = deque(actions)
    management_api.gone |= GONE

    result = WebSocketSession.objects.send_message({"type": "news"})

    assert sorted(result.gone) == sorted(GONE)
    assert sorted(result.failed) == [f"conn0000{i}=" for i in (4, 5, 6, 7, 8)]
    assert sorted(result.timed_out) == ["conn00006=", "conn00008="]
    assert len(result.sent) == 40 - 2 - 5
    assert result.recipients == 40
    assert len(result) == len(result.sent)  # the original's list of responses
    delivered = management_api.deliveries()
    for connection_id in result.sent:
        assert delivered[connection_id] >= 1
        if connection_id not in result.maybe_duplicated:
            assert delivered[connection_id] == 1, connection_id
    # a timed-out post was delivered; a reset one was not, but the sender cannot know
    assert sorted(result.maybe_duplicated) == ["conn00002=", "conn00003="]
    assert delivered["conn00002="] == 2
    assert delivered["conn00003="] == 1
    for connection_id in set(result.failed) - set(result.timed_out):
        assert delivered[connection_id] == 0
    assert [p.action for p in management_api.posts_for("conn00004=")] == [413]
    assert len(management_api.posts_for("conn00007=")) == 4  # send_max_attempts
    assert all(len(management_api.posts_for(c)) == 1 for c in GONE)
    assert (
        set(
            WebSocketSession.objects.filter(connected=False).values_list("connection_id", flat=True)
        )
        == GONE
    )
    for post in management_api.posts:  # retries included, across seconds
        assert_signed(post)


def test_gone_sessions_are_marked_with_one_statement_per_page(
    management_api, gateway, make_sessions
) -> None:
    sessions = make_sessions(250, gateway)
    management_api.gone |= {s.connection_id for s in sessions[::5]}

    with CaptureQueriesContext(connection) as queries:
        result = WebSocketSession.objects.send_message({"n": 1}, batch_size=100)

    statements = [q["sql"].split()[0] for q in queries.captured_queries]
    # three pages, one gateway lookup, one UPDATE per page
    assert statements.count("SELECT") == 4
    assert statements.count("UPDATE") == 3
    assert len(statements) == 7
    assert len(result.gone) == 50
    assert len(result.sent) == 200
    gone = WebSocketSession.objects.filter(connected=False)
    assert gone.count() == 50
    assert all(s.updated_on > sessions[0].updated_on for s in gone)


#: Posts that may arrive early or late: a post's trip from permit to the server's clock
#: varies (new connections, a busy machine) by up to this many seconds.
ARRIVAL_JITTER = 0.05


def _within_rate(times: list[float], rate: float, window: float) -> bool:
    allowed = rate / 100 + rate * window + 2 + rate * ARRIVAL_JITTER
    return max_in_window(times, window) <= allowed


def test_the_pacer_keeps_to_the_rate(management_api, gateway, make_sessions, settings) -> None:
    rate = 200
    settings.WEBSOCKETS = {**settings.WEBSOCKETS, "send_rate_per_second": rate}
    make_sessions(200, gateway)

    WebSocketSession.objects.send_message({"n": 1})

    times = management_api.arrival_times()
    assert len(times) == 200
    for window in (0.1, 0.25, 0.5):
        assert _within_rate(times, rate, window), window
    assert times[-1] - times[0] >= (200 - rate / 100) / rate * 0.95


@pytest.mark.django_db(transaction=True)
def test_the_pacer_is_shared_by_concurrent_sends(
    management_api, gateway, make_sessions, settings
) -> None:
    rate = 200
    settings.WEBSOCKETS = {**settings.WEBSOCKETS, "send_rate_per_second": rate}
    make_sessions(100, gateway, channel="a", prefix="a")
    make_sessions(100, gateway, channel="b", prefix="b")
    results = {}

    def send(channel: str) -> None:
        try:
            results[channel] = WebSocketSession.objects.in_channel(channel).send_message({"n": 1})
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=send, args=(c,)) for c in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert len(results["a"]) == len(results["b"]) == 100
    times = management_api.arrival_times()
    for window in (0.1, 0.25, 0.5):
        assert _within_rate(times, rate, window), window
    assert times[-1] - times[0] >= (200 - rate / 100) / rate * 0.95


def test_max_workers_caps_posts_in_flight(management_api, gateway, make_sessions) -> None:
    management_api.latency = 0.02
    make_sessions(30, gateway)
    result = WebSocketSession.objects.send_message({"n": 1}, max_workers=3)
    assert len(result) == 30
    assert management_api.max_in_flight == 3


def test_posts_run_concurrently(management_api, gateway, make_sessions) -> None:
    management_api.latency = 0.05
    make_sessions(200, gateway)
    started = time.monotonic()
    result = WebSocketSession.objects.send_message({"n": 1})
    # one after another this would take 10 s
    assert time.monotonic() - started < 2.0
    assert len(result) == 200
    assert management_api.max_in_flight > 50


def test_only_connected_sessions_of_the_queryset(management_api, gateway, make_sessions) -> None:
    make_sessions(5, gateway, channel="general")
    make_sessions(3, gateway, channel="staff", prefix="staff")
    WebSocketSession.objects.filter(connection_id="staff00001=").update(connected=False)

    result = WebSocketSession.objects.in_channel("staff").send_message({"n": 1})

    assert sorted(result.sent) == ["staff00000=", "staff00002="]
    assert sorted(p.connection_id for p in management_api.posts) == sorted(result.sent)


def test_per_user_helper(management_api, gateway, make_sessions) -> None:
    ada = User.objects.create_user("ada")
    make_sessions(4, gateway)
    WebSocketSession.objects.filter(connection_id__in=["conn00001=", "conn00003="]).update(user=ada)

    result = WebSocketSession.objects.filter(user=ada).send_message({"n": 1})

    assert sorted(result.sent) == ["conn00001=", "conn00003="]


def test_a_join_that_repeats_rows_still_posts_once(management_api, gateway, make_sessions) -> None:
    ada = User.objects.create_user("ada")
    ada.groups.add(Group.objects.create(name="x"), Group.objects.create(name="y"))
    make_sessions(3, gateway)
    WebSocketSession.objects.update(user=ada)

    queryset = WebSocketSession.objects.filter(user__groups__name__in=["x", "y"])
    assert queryset.count() == 6
    result = queryset.send_message({"n": 1}, batch_size=2)

    assert sorted(result.sent) == ["conn00000=", "conn00001=", "conn00002="]
    assert len(management_api.posts) == 3


def test_sessions_without_gateway_are_skipped(management_api, gateway, make_sessions) -> None:
    make_sessions(2, gateway)
    make_sessions(3, None, prefix="orphan")
    result = WebSocketSession.objects.send_message({"n": 1})
    assert result.skipped == 3
    assert len(result) == 2
    assert WebSocketSession.objects.filter(connected=True).count() == 5


def test_each_gateway_gets_its_own_endpoint(management_api, gateway, make_sessions) -> None:
    other = ApiGateway.objects.create(api_name="other", api_id="xyz789", stage_name="")
    make_sessions(2, gateway)
    make_sessions(2, other, prefix="other")
    WebSocketSession.objects.send_message({"n": 1})
    paths = sorted(p.raw_path for p in management_api.posts)
    assert paths == [
        "/prod/@connections/conn00000%3D",
        "/prod/@connections/conn00001%3D",
        "/production/@connections/other00000%3D",
        "/production/@connections/other00001%3D",
    ]


def test_a_sliced_queryset_can_be_sent_to(management_api, gateway, make_sessions) -> None:
    make_sessions(5, gateway)
    result = WebSocketSession.objects.order_by("-pk")[:2].send_message({"n": 1})
    assert sorted(result.sent) == ["conn00003=", "conn00004="]


def test_bad_arguments_fail_before_any_post(management_api, gateway, make_sessions) -> None:
    make_sessions(2, gateway)
    with pytest.raises(ValueError, match="131073 bytes"):
        WebSocketSession.objects.send_message("x" * (128 * 1024 - 1))
    with pytest.raises(ValueError, match="max_workers"):
        WebSocketSession.objects.send_message({"n": 1}, max_workers=0)
    with pytest.raises(ValueError, match="batch_size"):
        WebSocketSession.objects.send_message({"n": 1}, batch_size=0)
    assert management_api.posts == []


def test_nothing_to_send_to(management_api, db) -> None:
    result = WebSocketSession.objects.send_message({"n": 1})
    assert result.recipients == 0
    assert list(result) == []


def test_async_fanout(management_api, gateway, make_sessions) -> None:
    make_sessions(10, gateway)
    management_api.gone.add("conn00004=")
    result = async_to_sync(WebSocketSession.objects.filter(channel_name="general").asend_message)(
        {"n": 1}
    )
    assert len(result) == 9
    assert result.gone == ["conn00004="]
    assert not WebSocketSession.objects.get(connection_id="conn00004=").connected


def test_repeated_sends_reuse_the_connection_pool(management_api, gateway, make_sessions) -> None:
    make_sessions(5, gateway)
    for _ in range(3):
        assert len(WebSocketSession.objects.send_message({"n": 1})) == 5
    assert len(management_api.posts) == 15
    assert len({post.peer for post in management_api.posts}) <= 5  # kept alive, reused
