"""Connection and token limits: sliding windows, per-view overrides, opt-out."""

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


@pytest.fixture
def clock(monkeypatch):
    """Frozen time: ``clock.now`` is what ``timezone.now()`` answers; move it at will."""

    class Clock:
        now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=dt_timezone.utc)

        def advance(self, seconds: float) -> None:
            self.now += timedelta(seconds=seconds)

    frozen = Clock()
    monkeypatch.setattr(timezone, "now", lambda: frozen.now)
    return frozen


def test_hit_counts_each_key_in_one_statement(db, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert ratelimit.hit(["a", "b"], 5, 60).admitted
    assert ratelimit.hit(["a"], 5, 60).admitted
    assert {row.key: row.admitted for row in RateLimitCounter.objects.all()} == {"a": 2, "b": 1}


def test_sliding_window_20_per_minute(client, gateway, clock):
    """20 at t; the 21st is refused at t+45s (a fixed window would restart at t+60s
    only if t were on the minute) and admitted at t+61s, when the first is a minute old."""
    clock.now = clock.now.replace(second=50)  # 10 seconds before a minute boundary
    assert connect_many(client, gateway, 20) == [200] * 20
    clock.advance(10)  # a new calendar minute: a fixed window would admit 20 more here
    assert connect_many(client, gateway, 1) == [400]
    clock.advance(35)  # t+45s
    assert connect_many(client, gateway, 1) == [400]
    clock.advance(16)  # t+61s: the first 20 have left the window
    assert connect_many(client, gateway, 21) == [200] * 20 + [400]


def test_sliding_window_spread_out(client, gateway, clock, settings):
    settings.WEBSOCKETS = {"rate_limit_max_attempts": 3}
    statuses = []
    for _ in range(3):
        statuses += connect_many(client, gateway, 1)
        clock.advance(20)
    # At t+60s the first admission (t) leaves the window; t+20s and t+40s are still in it.
    statuses += connect_many(client, gateway, 2)
    clock.advance(19)
    statuses += connect_many(client, gateway, 1)
    clock.advance(1)
    statuses += connect_many(client, gateway, 1)
    assert statuses == [200, 200, 200, 200, 400, 400, 200]


def test_custom_40_per_5_minutes(client, gateway, clock, monkeypatch):
    monkeypatch.setattr(OpenView, "RATE_LIMIT_MAX_ATTEMPTS", 40)
    monkeypatch.setattr(OpenView, "RATE_LIMIT_WINDOW_MINUTES", 5)
    assert connect_many(client, gateway, 40) == [200] * 40
    clock.advance(299)
    assert connect_many(client, gateway, 1) == [400]
    clock.advance(1)
    assert connect_many(client, gateway, 41) == [200] * 40 + [400]


def test_refused_attempts_do_not_extend_the_window(client, gateway, clock, settings):
    settings.WEBSOCKETS = {"rate_limit_max_attempts": 2}
    assert connect_many(client, gateway, 2) == [200, 200]
    for _ in range(5):
        clock.advance(10)
        assert connect_many(client, gateway, 1) == [400]
    clock.advance(10)  # t+60s
    assert connect_many(client, gateway, 2) == [200, 200]


def test_retry_after_counts_down_to_the_oldest_admission(db, clock):
    assert ratelimit.hit(["k"], 2, 60).admitted
    clock.advance(15.5)
    assert ratelimit.hit(["k"], 2, 60).admitted
    clock.advance(10)
    refused = ratelimit.hit(["k"], 2, 60)
    assert (refused.admitted, refused.retry_after) == (False, 35)


def test_a_refusing_key_gives_back_the_others(db):
    assert ratelimit.hit(["user"], 1, 60).admitted
    refused = ratelimit.hit(["ip", "user"], 1, 60)
    assert not refused.admitted
    assert RateLimitCounter.objects.get(key="ip").admitted == 0
    assert ratelimit.hit(["ip"], 1, 60).admitted


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
    ratelimit.hit(["fresh"], 5, 60)
    RateLimitCounter.objects.create(key="old", updated_at=timezone.now() - timedelta(days=2))
    total, by_model = ConnectionRateLimit.cleanup_old_records(days)
    assert RateLimitCounter.objects.filter(key="old").exists() is False
    assert RateLimitCounter.objects.filter(key="fresh").exists() is (days > 0)
    assert not ConnectionRateLimit.objects.exists()
    assert total == sum(by_model.values())


@pytest.mark.parametrize(
    ("addresses", "prefix", "admitted"),
    [
        # One customer's /64 is one bucket by default, whatever the interface ids.
        ([f"2001:db8:1:2::{n:x}" for n in range(1, 26)], None, 20),
        ([f"2001:db8:1:2:{n:x}::1" for n in range(1, 26)], None, 20),
        # Other /64s are other customers.
        ([f"2001:db8:1:{n:x}::1" for n in range(1, 26)], None, 25),
        # A shorter prefix groups them again.
        ([f"2001:db8:1:{n:x}::1" for n in range(1, 26)], 48, 20),
        # IPv4 clients keep their own address.
        ([f"198.51.100.{n}" for n in range(1, 26)], None, 25),
    ],
)
def test_ipv6_clients_are_limited_per_network(
    client, gateway, settings, addresses, prefix, admitted
):
    settings.WEBSOCKETS = {"rate_limit_max_attempts": 20}
    if prefix is not None:
        settings.WEBSOCKETS["rate_limit_ipv6_prefix"] = prefix
    statuses = [connect_many(client, gateway, 1, ip=address)[0] for address in addresses]
    assert statuses.count(200) == admitted


def test_ip_key():
    assert ratelimit.ip_key("2001:db8::1", 64) == "2001:db8::/64"
    assert ratelimit.ip_key("2001:db8:0:0:ffff::1", 56) == "2001:db8::/56"
    assert ratelimit.ip_key("::ffff:198.51.100.7", 64) == "198.51.100.7"
    assert ratelimit.ip_key("198.51.100.7", 64) == "198.51.100.7"
