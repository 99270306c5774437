"""Rows that say "connected" for connections that are gone: past API Gateway's two-hour
cap they are marked without asking AWS; silent past its idle timeout they are asked about
with ``GET @connections/{id}`` (the local gateway's @connections API on a real server)
and the gone ones marked, in a fixed number of statements per batch."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_aws_api_gateway_websockets.liveness import check_liveness, probe_sessions
from django_aws_api_gateway_websockets.messaging.connections import probe_connections
from django_aws_api_gateway_websockets.messaging.policy import Verdict
from django_aws_api_gateway_websockets.models import WebSocketSession

from .test_e2e_logout import open_socket, session_of, stack, wait_until


def make(gateway, connection_id: str, *, idle_minutes: float = 0, age_minutes: float = 0):
    session = WebSocketSession.objects.create(connection_id=connection_id, api_gateway=gateway)
    now = timezone.now()
    WebSocketSession.objects.filter(pk=session.pk).update(
        updated_on=now - timedelta(minutes=idle_minutes),
        created_on=now - timedelta(minutes=max(age_minutes, idle_minutes)),
    )
    return session


def connected(*ids: str) -> dict[str, bool]:
    return dict(
        WebSocketSession.objects.filter(connection_id__in=ids).values_list(
            "connection_id", "connected"
        )
    )


def probes(management_api) -> list[str]:
    return [r.connection_id for r in management_api.requests if r.method == "GET"]


def test_sessions_past_the_two_hour_cap_are_marked_without_asking_aws(gateway, management_api):
    make(gateway, "old=", age_minutes=121)
    management_api.connect("old=")  # even if AWS still answered for it
    found = check_liveness()
    assert (found.expired, found.probed) == (1, 0)
    assert connected("old=") == {"old=": False}
    assert management_api.requests == []


def test_silent_sessions_are_probed_and_the_gone_ones_marked(gateway, management_api):
    make(gateway, "alive=", idle_minutes=15)
    make(gateway, "gone=", idle_minutes=15)
    make(gateway, "recent=", idle_minutes=5)
    make(None, "nogateway=", idle_minutes=15)
    management_api.connect("alive=")

    found = check_liveness()

    assert sorted(probes(management_api)) == ["alive=", "gone="]
    assert (found.probed, found.gone, found.failed, found.skipped) == (2, 1, 0, 1)
    assert connected("alive=", "gone=", "recent=", "nogateway=") == {
        "alive=": True,
        "gone=": False,
        "recent=": True,
        "nogateway=": True,
    }


def test_the_idle_timeout_is_a_setting(gateway, management_api, settings):
    make(gateway, "gone=", idle_minutes=3)
    assert check_liveness().probed == 0
    settings.WEBSOCKETS = {**settings.WEBSOCKETS, "session_idle_seconds": 120}
    assert check_liveness().gone == 1


def statements(batch_size: int) -> int:
    with CaptureQueriesContext(connection) as queries:
        check_liveness(batch_size)
    return len(queries)


@pytest.mark.parametrize("count", [5, 60])
def test_statements_per_batch_do_not_grow_with_the_batch(gateway, management_api, count):
    for i in range(count):
        make(gateway, f"gone{i:03d}=", idle_minutes=15)
    # Expiry: one empty page. Probe: one page, the gateway, one UPDATE, the end.
    assert statements(batch_size=100) == 4
    assert not WebSocketSession.objects.filter(connected=True).exists()


def test_the_task_and_the_command(gateway, management_api):
    make(gateway, "gone1=", idle_minutes=15)
    result = probe_sessions.enqueue()
    assert result.return_value == {
        "expired": 0,
        "probed": 1,
        "gone": 1,
        "failed": 0,
        "skipped": 0,
    }
    make(gateway, "gone2=", idle_minutes=15)
    make(gateway, "old=", age_minutes=200)
    out = StringIO()
    call_command("probeWebSocketSessions", "--batch-size", "1", stdout=out)
    assert "Marked 1 sessions older than 7200s" in out.getvalue()
    assert "Probed 1 sessions silent for more than 600s: 1 gone" in out.getvalue()


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_lost_disconnect_is_found_by_the_probe(live_server):
    with stack(live_server, "/ws-open/", drop_disconnect=1.0) as gateway:
        with open_socket(gateway, live_server) as ws:
            session = session_of(ws)
            WebSocketSession.objects.filter(pk=session.pk).update(
                updated_on=timezone.now() - timedelta(minutes=11)
            )
            assert check_liveness().gone == 0  # still open: left alone
        row = (session.pk, session.connection_id, session.api_gateway_id)
        wait_until(lambda: probe_connections([row]) == {session.pk: Verdict.GONE})
        # $disconnect was dropped: Django still believes it is open.
        assert WebSocketSession.objects.get(pk=session.pk).connected
        found = check_liveness()
        assert (found.probed, found.gone) == (1, 1)
        assert not WebSocketSession.objects.get(pk=session.pk).connected
