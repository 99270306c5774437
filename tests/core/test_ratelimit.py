"""Connection and token limits: fixed windows, per-view overrides, opt-out."""

from __future__ import annotations

from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

import pytest
from django.utils import timezone

from django_aws_api_gateway_websockets import ratelimit
from django_aws_api_gateway_websockets.models import (
    ConnectionRateLimit,
    RateLimitCounter,
    WebSocketSession,
    WebSocketToken,
)
from django_aws_api_gateway_websockets.testing import ApiGatewayRequests
from tests.testapp.views import ChatView, OpenView


def connect_many(client, gateway, count: int, ip: str = "198.51.100.1") -> list[int]:
    return [
        ApiGatewayRequests(client, path="/ws-open/", api_id=gateway.api_id, client_ip=ip)
        .connect()
        .status_code
        for _ in range(count)
    ]


def test_window_start_is_aligned():
    now = datetime(2026, 1, 1, 12, 34, 56, tzinfo=dt_timezone.utc)
    assert ratelimit.window_start(now, 60) == datetime(2026, 1, 1, 12, 34, tzinfo=dt_timezone.utc)
    assert ratelimit.window_start(now, 300) == datetime(2026, 1, 1, 12, 30, tzinfo=dt_timezone.utc)


def test_hit_counts_each_key_in_one_statement(db, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert ratelimit.hit(["a", "b"], 60).counts == {"a": 1, "b": 1}
    assert ratelimit.hit(["a"], 60).counts == {"a": 2}
    assert RateLimitCounter.objects.count() == 2


def test_default_limit_from_settings(client, gateway, settings):
    settings.WEBSOCKETS = {"rate_limit_max_attempts": 3}
    assert connect_many(client, gateway, 5) == [200, 200, 200, 400, 400]
    assert WebSocketSession.objects.count() == 3
    # Another IP has its own allowance.
    assert connect_many(client, gateway, 1, ip="198.51.100.2") == [200]


def test_refusal_body(client, gateway, settings):
    settings.WEBSOCKETS = {"rate_limit_max_attempts": 1}
    connect_many(client, gateway, 1)
    response = ApiGatewayRequests(
        client, path="/ws-open/", api_id=gateway.api_id, client_ip="198.51.100.1"
    ).connect()
    assert (response.status_code, response.content) == (400, b"Too many connection attempts")


def test_per_view_override(client, gateway, monkeypatch):
    monkeypatch.setattr(OpenView, "RATE_LIMIT_MAX_ATTEMPTS", 2)
    assert connect_many(client, gateway, 3) == [200, 200, 400]


def test_opt_out(client, gateway, monkeypatch, settings):
    settings.WEBSOCKETS = {"rate_limit_max_attempts": 1}
    monkeypatch.setattr(OpenView, "RATE_LIMIT_ENABLED", False)
    assert connect_many(client, gateway, 4) == [200] * 4
    assert not RateLimitCounter.objects.exists()


def test_spoofed_forwarded_for_does_not_escape_the_limit(client, gateway, settings):
    settings.WEBSOCKETS = {"rate_limit_max_attempts": 2}
    statuses = [
        ApiGatewayRequests(
            client, path="/ws-open/", api_id=gateway.api_id, client_ip=f"10.9.9.{n}, 198.51.100.1"
        )
        .connect()
        .status_code
        for n in range(4)
    ]
    assert statuses == [200, 200, 400, 400]


def test_window_rolls_over(client, gateway, settings):
    settings.WEBSOCKETS = {"rate_limit_max_attempts": 1}
    assert connect_many(client, gateway, 2) == [200, 400]
    RateLimitCounter.objects.update(window_start=timezone.now() - timedelta(minutes=5))
    assert connect_many(client, gateway, 1) == [200]


def test_user_limit_spans_ips(ws, user, monkeypatch):
    monkeypatch.setattr(ChatView, "RATE_LIMIT_MAX_ATTEMPTS", 2)
    statuses = []
    for n in range(3):
        connection = ApiGatewayRequests(ws.client, api_id=ws.api_id, client_ip=f"198.51.100.{n}")
        statuses.append(connection.connect(token=connection.issue_token(user)).status_code)
    assert statuses == [200, 200, 400]
    # The refused attempt left its token unspent.
    assert WebSocketToken.objects.filter(used=False).count() == 1


def test_refused_attempts_change_nothing(open_ws):
    open_ws.origin = "https://evil.test"
    assert open_ws.connect().status_code == 400
    assert not RateLimitCounter.objects.exists()


def test_compat_recorded_attempts(user):
    assert ConnectionRateLimit.check_rate_limit("192.0.2.1", user, max_attempts=2) == (True, 0)
    ConnectionRateLimit.record_attempt("192.0.2.1", user, successful=True)
    ConnectionRateLimit.record_attempt("192.0.2.9", user)
    assert ConnectionRateLimit.check_rate_limit("192.0.2.1", None, max_attempts=2) == (True, 1)
    assert ConnectionRateLimit.check_rate_limit("192.0.2.1", user, max_attempts=2) == (False, 2)


def test_compat_token_limit(user):
    assert [WebSocketToken.check_rate_limit(user, 2) for _ in range(3)] == [True, True, False]


@pytest.mark.parametrize("days", [7, 0])
def test_cleanup(user, days):
    ConnectionRateLimit.record_attempt("192.0.2.1", user)
    ConnectionRateLimit.objects.update(attempt_time=timezone.now() - timedelta(days=8))
    ratelimit.hit(["fresh"], 60)
    RateLimitCounter.objects.create(key="old", window_start=timezone.now() - timedelta(days=2))
    total, by_model = ConnectionRateLimit.cleanup_old_records(days)
    assert RateLimitCounter.objects.filter(key="old").exists() is False
    assert RateLimitCounter.objects.filter(key="fresh").exists() is (days > 0)
    assert not ConnectionRateLimit.objects.exists()
    assert total == sum(by_model.values())
