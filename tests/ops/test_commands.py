"""The cleanup commands, on the real database."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_aws_api_gateway_websockets.management.commands._batches import (
    delete_in_batches,
    update_in_batches,
)
from django_aws_api_gateway_websockets.models import (
    ConnectionRateLimit,
    RateLimitCounter,
    WebSocketSession,
    WebSocketToken,
)

pytestmark = pytest.mark.django_db


def run(name: str, *args: str) -> str:
    out = StringIO()
    call_command(name, *args, stdout=out)
    return out.getvalue()


def make_sessions(prefix: str, count: int, *, connected: bool, age: timedelta) -> None:
    WebSocketSession.objects.bulk_create(
        WebSocketSession(connection_id=f"{prefix}{i}=", connected=connected) for i in range(count)
    )
    WebSocketSession.objects.filter(connection_id__startswith=prefix).update(
        created_on=timezone.now() - age
    )


def make_token(name: str, user: Any, age: timedelta) -> None:
    WebSocketToken.objects.create(token=name * 64, user=user, session_key="0" * 64)
    WebSocketToken.objects.filter(token=name * 64).update(created_at=timezone.now() - age)


# clearWebSocketSessions


def test_clear_sessions_reaps_stale_then_deletes_disconnected() -> None:
    make_sessions("fresh", 3, connected=True, age=timedelta(minutes=5))
    make_sessions("stale", 4, connected=True, age=timedelta(hours=2, seconds=5))
    make_sessions("closed", 5, connected=False, age=timedelta(minutes=1))

    output = run("clearWebSocketSessions")

    assert "Marked 4 sessions older than 7200s as disconnected" in output
    assert "Deleted 9 disconnected sessions" in output
    remaining = set(WebSocketSession.objects.values_list("connection_id", flat=True))
    assert remaining == {"fresh0=", "fresh1=", "fresh2="}


def test_clear_sessions_uses_the_configured_max_age(settings: Any) -> None:
    settings.WEBSOCKETS = {"session_max_age_seconds": 60}
    make_sessions("young", 2, connected=True, age=timedelta(seconds=10))
    make_sessions("old", 3, connected=True, age=timedelta(seconds=90))

    output = run("clearWebSocketSessions")

    assert "Marked 3 sessions older than 60s as disconnected" in output
    assert WebSocketSession.objects.count() == 2


def test_clear_sessions_with_nothing_to_do() -> None:
    make_sessions("fresh", 2, connected=True, age=timedelta(0))
    output = run("clearWebSocketSessions")
    assert "Marked 0 sessions" in output
    assert "Deleted 0 disconnected sessions" in output
    assert WebSocketSession.objects.count() == 2


def test_clear_sessions_deletes_in_batches() -> None:
    make_sessions("closed", 2500, connected=False, age=timedelta(0))
    with CaptureQueriesContext(connection) as queries:
        output = run("clearWebSocketSessions")
    table = connection.ops.quote_name(WebSocketSession._meta.db_table)
    deletes = [q["sql"] for q in queries if q["sql"].startswith(f"DELETE FROM {table}")]
    # Pages of 1000 keys (one of sessions to expire; then 1000 + 1000 + 500 and none to
    # delete), each deleted by Django's collector in statements of its own size, since
    # subscriptions go with their sessions.
    pages = [q["sql"] for q in queries if q["sql"].endswith("LIMIT 1000")]
    assert len(pages) == 5, pages
    keys = [sql.split(" IN (")[1].count(",") + 1 for sql in deletes]
    assert sum(keys) == 2500, keys
    assert "Deleted 2500 disconnected sessions" in output
    assert not WebSocketSession.objects.exists()


# the batch helpers


def test_batches_cover_every_row_once_and_recheck_conditions() -> None:
    make_sessions("s", 20, connected=True, age=timedelta(0))
    with CaptureQueriesContext(connection) as queries:
        updated = update_in_batches(
            WebSocketSession.objects.filter(connected=True), {"channel_name": "x"}, batch_size=7
        )
    assert updated == 20
    assert len(queries) == 7  # 3 x (select keys + update) + the empty page
    assert WebSocketSession.objects.filter(channel_name="x").count() == 20
    assert delete_in_batches(WebSocketSession.objects.filter(channel_name="nope"), 7) == 0
    assert delete_in_batches(WebSocketSession.objects.all(), batch_size=7) == 20


# cleanupWebSocketTokens


@pytest.fixture
def user(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("tok", "tok@example.com", "pw")


def test_cleanup_tokens_default_age(user: Any) -> None:
    make_token("a", user, timedelta(seconds=299))
    make_token("b", user, timedelta(seconds=301))

    output = run("cleanupWebSocketTokens")

    assert "Successfully deleted 1 expired WebSocket tokens (older than 300s)" in output
    assert list(WebSocketToken.objects.values_list("token", flat=True)) == ["a" * 64]


def test_cleanup_tokens_default_age_follows_a_longer_expiry(user: Any, settings: Any) -> None:
    settings.WEBSOCKETS = {"token_expiry_seconds": 900}
    make_token("a", user, timedelta(seconds=600))
    make_token("b", user, timedelta(seconds=901))

    output = run("cleanupWebSocketTokens")

    assert "(older than 900s)" in output
    assert list(WebSocketToken.objects.values_list("token", flat=True)) == ["a" * 64]


def test_cleanup_tokens_explicit_age(user: Any) -> None:
    make_token("a", user, timedelta(seconds=5))
    make_token("b", user, timedelta(seconds=20))
    output = run("cleanupWebSocketTokens", "--token-age=10")
    assert "deleted 1 expired WebSocket tokens (older than 10s)" in output
    assert WebSocketToken.objects.count() == 1


def test_cleanup_rate_limit_rows_and_counters(user: Any) -> None:
    now = timezone.now()
    for days in (1, 6, 8, 30):
        row = ConnectionRateLimit.objects.create(ip_address="192.0.2.1", user=user)
        ConnectionRateLimit.objects.filter(pk=row.pk).update(
            attempt_time=now - timedelta(days=days)
        )
    RateLimitCounter.objects.create(key="ip:a", updated_at=now - timedelta(minutes=1))
    RateLimitCounter.objects.create(key="ip:b", updated_at=now - timedelta(days=2))

    output = run("cleanupWebSocketTokens")

    assert "Successfully deleted 2 old rate limit records (older than 7 days)" in output
    assert "Successfully deleted 1 expired rate limit counters" in output
    assert ConnectionRateLimit.objects.count() == 2
    assert list(RateLimitCounter.objects.values_list("updated_at", flat=True)) == [
        now - timedelta(minutes=1)
    ]

    output = run("cleanupWebSocketTokens", "--rate-limit-age=0")
    assert "deleted 2 old rate limit records (older than 0 days)" in output
    assert "deleted 1 expired rate limit counters" in output


@pytest.mark.parametrize(
    "argument", ["--token-age=0", "--token-age=-5", "--rate-limit-age=-1", "--token-age=soon"]
)
def test_cleanup_rejects_bad_options(user: Any, argument: str) -> None:
    make_token("a", user, timedelta(days=1))
    with pytest.raises(CommandError):
        run("cleanupWebSocketTokens", argument)
    assert WebSocketToken.objects.count() == 1
