"""Rate limits that hold under concurrency.

A limit is a fixed-window counter per key (``RateLimitCounter``), incremented by one
``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` statement. The database serialises
increments of one row, so each caller sees a distinct count and a limit of N admits
exactly N per window, however many requests arrive at once. (The original counted rows
and then inserted one, which admitted 28-39 of 60 simultaneous connects at a limit of 20.)

The ``ConnectionRateLimit`` helpers below keep the original's model methods working
for code that calls them directly; the views do not use them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Any

from django.db import connection
from django.db.models import Count, F, Q
from django.utils import timezone

from ._sql import table_and_columns
from .models import ConnectionRateLimit, RateLimitCounter

#: Counters older than this are deleted by the cleanup command whatever its age option.
COUNTER_RETENTION = timedelta(days=1)


def window_start(now: datetime, window_seconds: int) -> datetime:
    """The start of the fixed window of ``window_seconds`` that contains ``now``."""
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % window_seconds, tz=dt_timezone.utc)


@dataclass(frozen=True)
class Hit:
    """The counts after one attempt was counted under ``keys``."""

    keys: tuple[str, ...]
    window_start: datetime
    counts: dict[str, int]

    def within(self, limit: int) -> bool:
        return all(count <= limit for count in self.counts.values())


def hit(keys: list[str], window_seconds: int) -> Hit:
    """Count one attempt for each key in the current window, in one statement.

    Keys are locked in the order given, so callers that pass a shared key first (the
    IP) cannot deadlock each other.
    """
    start = window_start(timezone.now(), window_seconds)
    table, column = table_and_columns(RateLimitCounter)
    key, window, count = column["key"], column["window_start"], column["count"]
    rows = ", ".join(["(%s, %s, 1)"] * len(keys))
    sql = (
        # Identifiers come from the model's metadata; values are parameters.
        f"INSERT INTO {table} ({key}, {window}, {count}) VALUES {rows} "  # noqa: S608
        f"ON CONFLICT ({key}, {window}) DO UPDATE SET {count} = {table}.{count} + 1 "
        f"RETURNING {key}, {count}"
    )
    adapted = connection.ops.adapt_datetimefield_value(start)
    params: list[Any] = []
    for name in keys:
        params += [name, adapted]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        counts = dict(cursor.fetchall())
    return Hit(keys=tuple(keys), window_start=start, counts=counts)


def release(counted: Hit) -> None:
    """Take back an attempt that was refused after it was counted."""
    RateLimitCounter.objects.filter(
        key__in=counted.keys, window_start=counted.window_start, count__gt=0
    ).update(count=F("count") - 1)


def count_connection(ip_address: str, user_id: Any, window_minutes: int) -> Hit:
    """Count a connection for the client IP and, when known, the user."""
    window_seconds = window_minutes * 60
    keys = [f"connect:{window_seconds}:ip:{ip_address}"]
    if user_id is not None:
        keys.append(f"connect:{window_seconds}:user:{user_id}")
    return hit(keys, window_seconds)


def allow_token_issue(user: Any, limit: int) -> bool:
    """Count a token request by ``user``; False once ``limit`` per minute is passed."""
    return hit([f"token:60:user:{user.pk}"], 60).within(limit)


def check_recorded_attempts(
    ip_address: str, user: Any, max_attempts: int, window_minutes: int
) -> tuple[bool, int]:
    """The original's check over ``ConnectionRateLimit`` rows: ``(allowed, count)``."""
    since = timezone.now() - timedelta(minutes=window_minutes)
    user_id = user.pk if user is not None and getattr(user, "is_authenticated", False) else None
    aggregates = {"ip": Count("pk", filter=Q(ip_address=ip_address))}
    if user_id is not None:
        aggregates["user"] = Count("pk", filter=Q(user_id=user_id))
    counts = ConnectionRateLimit.objects.filter(attempt_time__gte=since).aggregate(**aggregates)
    for name in ("ip", "user"):
        if counts.get(name, 0) >= max_attempts:
            return False, counts[name]
    return True, counts["ip"]


def record_attempt(ip_address: str, user: Any, successful: bool) -> ConnectionRateLimit:
    authenticated = user is not None and getattr(user, "is_authenticated", False)
    return ConnectionRateLimit.objects.create(
        ip_address=ip_address, user=user if authenticated else None, successful=successful
    )


def delete_records_older_than(days: int) -> tuple[int, dict[str, int]]:
    """Delete attempt rows older than ``days``, and counters of windows that ended.

    Counters matter only during their window, so they go after a day at most
    (windows are minutes long); Django's delete result for both tables.
    """
    now = timezone.now()
    cutoff = now - timedelta(days=days)
    attempts, by_model = ConnectionRateLimit.objects.filter(attempt_time__lt=cutoff).delete()
    counter_cutoff = max(cutoff, now - COUNTER_RETENTION)
    counters, counter_models = RateLimitCounter.objects.filter(
        window_start__lt=counter_cutoff
    ).delete()
    return attempts + counters, {**by_model, **counter_models}
