"""Rate limits that hold under concurrency: at most N admitted in any window of W.

Each key (``connect:60:20:ip:198.51.100.7``) has one ``RateLimitCounter`` row whose
``hits`` keep the timestamps of its last N admissions, oldest first. An attempt is one
``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` statement: the row gains the attempt's
entry (and drops its oldest) only if fewer than N entries are younger than W, that is if
the N-th most recent admission is at least W old. The database serialises updates of a
row, so a limit of N admits exactly N in any window of W, however many requests arrive
at once, on SQLite and PostgreSQL. (4.1.0 counted rows and then inserted one, which
admitted 28-39 of 60 simultaneous connects at a limit of 20.)

The ``ConnectionRateLimit`` helpers below keep the original's model methods working
for code that calls them directly; the views do not use them.
"""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone

from ._sql import statement, table_and_columns
from .batches import delete_in_batches
from .models import RATE_LIMIT_ENTRY_WIDTH, ConnectionRateLimit, RateLimitCounter

#: Rows untouched for this long are deleted by the cleanup command whatever its age
#: option (windows are minutes long).
COUNTER_RETENTION = timedelta(days=1)

#: Digits of the timestamp at the start of each entry.
_TIMESTAMP_WIDTH = 16


def _microseconds(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


@dataclass(frozen=True)
class Watch:
    """A key read (never changed) along with an attempt: is its limit reached?"""

    key: str
    limit: int
    window_seconds: int


@dataclass(frozen=True)
class Hit:
    """One attempt counted under ``keys``: admitted, or refused with a retry-after."""

    keys: tuple[str, ...]
    #: The attempt's entry, as stored in the rows that admitted it.
    entry: str
    #: The keys whose rows admitted the attempt (all of them when it was admitted).
    admitted_keys: tuple[str, ...]
    #: Seconds until a refused attempt could be admitted (0 when admitted).
    retry_after: int = 0
    #: Seconds until the watched key would admit an attempt (0 when it would now).
    watched_retry_after: int = 0

    @property
    def admitted(self) -> bool:
        return len(self.admitted_keys) == len(self.keys)


def _retry_after(hits: str, limit: int, window_us: int, now_us: int) -> int:
    """Seconds until a key with ``hits`` admits again: 0 when it would now, else until
    the N-th most recent admission leaves the window (at least 1)."""
    if len(hits) < limit * RATE_LIMIT_ENTRY_WIDTH:
        return 0
    oldest = int(hits[len(hits) - limit * RATE_LIMIT_ENTRY_WIDTH :][:_TIMESTAMP_WIDTH])
    remaining = oldest + window_us - now_us
    return 0 if remaining <= 0 else max(1, -(-remaining // 1_000_000))


def hit(keys: list[str], limit: int, window_seconds: int, watch: Watch | None = None) -> Hit:
    """Count one attempt under every key, in one statement; refused if any key is full.

    Keys are locked in the order given, so callers that pass a shared key first (the
    IP) cannot deadlock each other. When one key refuses, the keys that admitted give
    their entry back (a second statement, on that refusal only). ``watch`` is read in
    the same statement (its row is created empty if missing, never changed).
    """
    now = timezone.now()
    now_us = _microseconds(now)
    window_us = window_seconds * 1_000_000
    entry = f"{now_us:0{_TIMESTAMP_WIDTH}d}{secrets.token_hex(4)}"
    full = limit * RATE_LIMIT_ENTRY_WIDTH
    keep = (limit - 1) * RATE_LIMIT_ENTRY_WIDTH
    cutoff = f"{now_us - window_us:0{_TIMESTAMP_WIDTH}d}"
    row_count = len(keys) + (watch is not None)
    sql = statement(("hit", row_count), lambda: _hit_sql(row_count))
    adapted = connection.ops.adapt_datetimefield_value(now)
    params: list[Any] = []
    for name in keys:
        params += [name, entry, adapted]
    if watch is not None:
        params += [watch.key, "", adapted]
    params += [full, full, cutoff, keep, keep]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        returned = dict(cursor.fetchall())
    watched = 0
    if watch is not None:
        watched = _retry_after(
            returned[watch.key], watch.limit, watch.window_seconds * 1_000_000, now_us
        )
    admitted = tuple(name for name in keys if returned[name].endswith(entry))
    if len(admitted) == len(keys):
        return Hit(tuple(keys), entry, admitted, watched_retry_after=watched)
    retry = max(
        _retry_after(returned[name], limit, window_us, now_us)
        for name in keys
        if name not in admitted
    )
    release(Hit(tuple(keys), entry, admitted))
    return Hit(tuple(keys), entry, (), retry_after=max(retry, 1), watched_retry_after=watched)


def _hit_sql(row_count: int) -> str:
    table, column = table_and_columns(RateLimitCounter)
    key, hits, updated = column["key"], column["hits"], column["updated_at"]
    current = f"{table}.{hits}"
    counted = f"excluded.{hits} <> ''"  # a watched row inserts no entry
    rows = ", ".join(["(%s, %s, %s)"] * row_count)
    return (
        # Identifiers come from the model's metadata; values are parameters.
        f"INSERT INTO {table} ({key}, {hits}, {updated}) VALUES {rows} "  # noqa: S608
        f"ON CONFLICT ({key}) DO UPDATE SET "
        f"{hits} = CASE WHEN {counted} AND (length({current}) < %s "
        f"OR substr({current}, length({current}) - %s + 1, {_TIMESTAMP_WIDTH}) <= %s) "
        f"THEN (CASE WHEN length({current}) > %s "
        f"THEN substr({current}, length({current}) - %s + 1) ELSE {current} END) "
        f"|| excluded.{hits} ELSE {current} END, "
        f"{updated} = CASE WHEN {counted} THEN excluded.{updated} ELSE {table}.{updated} END "
        f"RETURNING {key}, {hits}"
    )


def release(counted: Hit) -> None:
    """Give back an attempt's entry (a server failure after it was admitted)."""
    if not counted.admitted_keys:
        return
    table, column = table_and_columns(RateLimitCounter)
    hits = column["hits"]
    marks = ", ".join(["%s"] * len(counted.admitted_keys))
    sql = (
        # Identifiers come from the model's metadata; values are parameters.
        f"UPDATE {table} SET {hits} = replace({hits}, %s, '') "  # noqa: S608
        f"WHERE {column['key']} IN ({marks})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [counted.entry, *counted.admitted_keys])


def ip_key(ip_address: str, ipv6_prefix: int) -> str:
    """The address an IP is limited under: IPv6 clients by their network prefix
    (one customer gets a whole /64), IPv4 clients by their address."""
    address = ipaddress.ip_address(ip_address)
    if address.version == 6 and address.ipv4_mapped is None:
        network = ipaddress.ip_network(f"{address}/{ipv6_prefix}", strict=False)
        return str(network)
    return str(address.ipv4_mapped or address) if address.version == 6 else str(address)


def _connection_scope(limit: int, window_minutes: int) -> str:
    return f"connect:{window_minutes * 60}:{limit}"


def count_connection(
    ip_address: str, user_id: Any, limit: int, window_minutes: int, ipv6_prefix: int
) -> Hit:
    """Count a connection for the client IP (or its IPv6 network) and, when known,
    the user."""
    scope = _connection_scope(limit, window_minutes)
    keys = [f"{scope}:ip:{ip_key(ip_address, ipv6_prefix)}"]
    if user_id is not None:
        keys.append(f"{scope}:user:{user_id}")
    return hit(keys, limit, window_minutes * 60)


def connection_limit(user_id: Any, limit: int, window_minutes: int) -> Watch:
    """The user's connection limit, to watch while counting something else."""
    scope = _connection_scope(limit, window_minutes)
    return Watch(f"{scope}:user:{user_id}", limit, window_minutes * 60)


def count_token_issue(user: Any, limit: int, watch: Watch | None = None) -> Hit:
    """Count a token request by ``user``: at most ``limit`` in any 60 seconds."""
    return hit([f"token:60:{limit}:user:{user.pk}"], limit, 60, watch)


def allow_token_issue(user: Any, limit: int) -> bool:
    """Count a token request by ``user``; False once ``limit`` per minute is passed."""
    return count_token_issue(user, limit).admitted


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
    """Delete attempt rows older than ``days``, and counters untouched for a day (or for
    ``days``, if shorter), in batches.

    A counter matters only during its window (minutes long), so it goes after a day at
    most. The count and the count per model, as Django's ``delete()`` gives them.
    """
    now = timezone.now()
    cutoff = now - timedelta(days=days)
    attempts = delete_in_batches(ConnectionRateLimit.objects.filter(attempt_time__lt=cutoff))
    counter_cutoff = max(cutoff, now - COUNTER_RETENTION)
    counters = delete_in_batches(RateLimitCounter.objects.filter(updated_at__lt=counter_cutoff))
    return attempts + counters, {
        ConnectionRateLimit._meta.label: attempts,
        RateLimitCounter._meta.label: counters,
    }
