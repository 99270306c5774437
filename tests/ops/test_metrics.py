"""Prometheus metrics, read back from prometheus_client's registry after real traffic:
the local gateway in front of a live server, and a Management API double."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from prometheus_client import REGISTRY

from django_aws_api_gateway_websockets import metrics
from django_aws_api_gateway_websockets.models import ApiGateway, WebSocketSession
from django_aws_api_gateway_websockets.testing import ApiGatewayRequests
from tests.localgateway.test_e2e import (
    fetch_token,
    logged_in_cookie,
    open_socket,
    receive_json,
    session_of,
    stack,
    wait_until,
)
from tests.messaging.double import ManagementApiDouble

KB = 1024


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


class Deltas:
    """Counters are process-wide: compare with their values before the test."""

    def __init__(self, *samples: tuple[str, dict[str, str]]) -> None:
        self.samples = samples
        self.before = [value(name, **labels) for name, labels in samples]

    def __call__(self) -> list[float]:
        now = [value(name, **labels) for name, labels in self.samples]
        return [after - before for after, before in zip(now, self.before, strict=True)]


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_connects_messages_and_a_fanout_through_the_local_gateway(live_server):
    deltas = Deltas(
        ("websockets_tokens_total", {"outcome": "issued", "reason": ""}),
        ("websockets_connects_total", {"outcome": "accepted", "reason": ""}),
        ("websockets_connects_total", {"outcome": "refused", "reason": "token"}),
        ("websockets_messages_total", {"route": "default", "status": "200"}),
        ("websockets_message_units_total", {"direction": "in"}),
        ("websockets_fanout_posts_total", {"verdict": "sent"}),
        ("websockets_message_units_total", {"direction": "out"}),
        ("websockets_event_duration_seconds_count", {"route": "connect"}),
    )
    cookie = logged_in_cookie("alice")
    with stack(live_server, "/ws/") as gateway:
        token = fetch_token(live_server, cookie)
        headers = {"Cookie": cookie}
        query = f"ws_token={token}&channel=room1"
        with open_socket(gateway, live_server, query, additional_headers=headers) as ws:
            session = session_of(ws)
            assert value("websockets_open_sessions", gateway="e2ews") == 1
            message = json.dumps({"action": "chat", "text": "x" * 40 * KB})  # two units
            ws.send([message[: 20 * KB], message[20 * KB :]])  # in frames of at most 32 KB
            receive_json(ws)
            WebSocketSession.objects.filter(connected=True).send_message({"n": "y" * 33 * KB})
            assert len(receive_json(ws)["n"]) == 33 * KB
        wait_until(lambda: not WebSocketSession.objects.filter(connected=True).exists())
        with pytest.raises(Exception, match="400"):
            open_socket(gateway, live_server, query, additional_headers=headers)  # replayed

    tokens, accepted, refused, messages, units_in, sent, units_out, timed = deltas()
    assert (tokens, accepted, refused, messages) == (1, 1, 1, 1)
    assert units_in == 2
    # The fan-out's post and the $default route response's reply are both "sent".
    assert sent >= 1
    assert units_out >= 2
    assert timed == 2
    assert value("websockets_open_sessions", gateway="e2ews") == 0
    # No label value names the connection, the user or the channel.
    for family in REGISTRY.collect():
        for sample in family.samples:
            if family.name.startswith("websockets_"):
                values = " ".join(sample.labels.values())
                for secret in (session.connection_id, "alice", "room1", token):
                    assert secret not in values, sample


@pytest.fixture
def double(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[ManagementApiDouble]:
    server = ManagementApiDouble(slow_seconds=0.6).start()
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    settings.AWS_ACCESS_KEY_ID = "AKIDMETRICS"
    settings.AWS_SECRET_ACCESS_KEY = "metrics-secret"
    settings.AWS_GATEWAY_REGION_NAME = "eu-west-1"
    settings.WEBSOCKETS = {
        "management_endpoint_url": server.url + "/{stage}",
        "send_max_attempts": 2,
        "send_timeout_seconds": 0.3,
    }
    yield server
    server.stop()


@pytest.mark.django_db
def test_fanout_verdicts_sent_gone_throttled_failed(double):
    gateway = ApiGateway.objects.create(api_name="metrics", api_id="abc123", stage_name="prod")
    sessions = WebSocketSession.objects.bulk_create(
        WebSocketSession(connection_id=f"conn{i}=", channel_name="c", api_gateway=gateway)
        for i in range(4)
    )
    double.gone.add("conn1=")
    double.plan["conn2="].extend([429, 429])
    double.plan["conn3="].extend([500, 500])
    verdicts = ["sent", "gone", "throttled", "failed"]
    deltas = Deltas(*(("websockets_fanout_posts_total", {"verdict": v}) for v in verdicts))

    result = WebSocketSession.objects.filter(pk__in=[s.pk for s in sessions]).send_message("hi")

    assert (len(result.sent), len(result.gone), len(result.failed)) == (1, 1, 2)
    assert deltas() == [1, 1, 1, 1]


def test_route_labels_are_bounded(monkeypatch):
    routes = metrics._Routes()
    monkeypatch.setattr(metrics, "MAX_ROUTES", 3)

    assert [routes.label(f"r{i}", 200) for i in range(5)] == ["r0", "r1", "r2", "other", "other"]
    assert routes.label("connect", 400) == "connect"
    assert routes.label("never-answered", 404) == "other"
    assert routes.label("r1", 500) == "r1"


@pytest.mark.django_db
@pytest.mark.urls("tests.localgateway.views")
def test_refused_connects_and_tokens_are_labelled_by_reason(client):
    ApiGateway.objects.create(api_name="ops", api_id="testapi123")
    deltas = Deltas(
        ("websockets_connects_total", {"outcome": "refused", "reason": "origin"}),
        ("websockets_tokens_total", {"outcome": "refused", "reason": "not_authenticated"}),
        ("websockets_messages_total", {"route": "other", "status": "404"}),
    )

    evil = ApiGatewayRequests(client, path="/ws-echo/", origin="https://evil.example")
    assert evil.connect().status_code == 400
    assert client.post("/ws-token/").status_code == 403
    unknown = ApiGatewayRequests(client, path="/ws-echo/").message({"a": 1}, route="x9")
    assert unknown.status_code == 404

    assert deltas() == [1, 1, 1]


@pytest.mark.django_db
def test_metrics_view_serves_the_registry():
    response = metrics.metrics_view(RequestFactory().get("/metrics"))

    assert response.status_code == 200
    assert b"# TYPE websockets_connects_total counter" in response.content
    assert b"websockets_open_sessions" in response.content


def test_without_prometheus_client_every_hook_is_a_no_op():
    code = """
import sys
sys.modules["prometheus_client"] = None
import django
from django.conf import settings
settings.configure()
from django_aws_api_gateway_websockets import metrics
assert not metrics.ENABLED
f = lambda view, request: None
assert metrics.observe_event(f) is f and metrics.observe_token(f) is f
metrics.delivered("sent", 200, 10)
metrics.sent(10, 3)
assert metrics.pacer_wait(0.5) == 0.5
assert metrics.batches_enqueued([1, 2]) == [1, 2]
metrics.batch_completed()
metrics.install()
assert metrics.sent_units() == 0
from django.http import HttpResponse
from django.test import RequestFactory
assert metrics.metrics_view(RequestFactory().get("/metrics")).status_code == 404
print("ok")
"""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)

    assert run.stdout.strip() == "ok", run.stderr


def test_a_malformed_content_length_is_counted_as_one_unit_not_an_error():
    dispatch = metrics.observe_event(lambda view, request, **kwargs: HttpResponse("ok"))
    request = RequestFactory().post("/ws/default", b"x", "text/plain", CONTENT_LENGTH="12abc")
    deltas = Deltas(("websockets_message_units_total", {"direction": "in"}))

    assert dispatch(None, request, route="default").status_code == 200
    assert deltas() == [1]
