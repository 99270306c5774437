"""Channel history: each message sent to a channel that keeps history gets the channel's
next sequence number and is kept, within the retention settings, for ``resume`` and
``history``.

On PostgreSQL, numbering and keeping a message are one statement: a data-modifying CTE
upserts the channel's sequence row (``ON CONFLICT DO UPDATE ... RETURNING``) and inserts
the message with the number it returned. The upsert locks the row until the statement's
transaction ends, so senders to one channel, in any process, queue on it and get
consecutive numbers; an insert that fails undoes its number with it. A number is thus
never given twice nor skipped. SQLite cannot change data in a CTE: there the upsert and
the insert run in one transaction, which is as safe since SQLite runs one writer at a
time.

The row lock lasts until the commit, and a commit normally waits for the disk: senders
to one channel would queue on each other's disk writes. Outside a transaction of the
caller's, the statement therefore commits without waiting for the disk
(``synchronous_commit`` off for it alone), which frees the row at once, and ``keep``
then waits for the disk with a second, empty statement (``pg_current_xact_id()``, whose
commit flushes everything written before it) before it returns: a number is durable
before anyone is sent its message, and concurrent senders share their disk writes. A
``resume`` that runs in the millisecond between the two may read a message that a crash
of PostgreSQL at that instant would lose.

``sent_at`` is read after the row lock is taken (PostgreSQL's ``clock_timestamp()``), so
it grows with the number: the messages within the age limit are always the newest ones,
and both limits keep an unbroken run of numbers ending at the last one. They apply,
exactly, whenever history is read; the cleanup command deletes what they exclude.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import BigIntegerField, ExpressionWrapper, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from . import conf
from ._sql import counting_upsert, instance_from_row, statement, table_and_columns
from .models import ChannelMessage, ChannelSequence

#: The largest sequence number a channel can reach (a signed 64-bit column).
LARGEST_SEQ = 2**63 - 1


def keeps_history(channel: str) -> bool:
    """Whether ``channel`` matches a pattern of ``WEBSOCKETS["history_channels"]``."""
    pattern = conf.get_channel_pattern("history_channels")
    return pattern is not None and pattern.fullmatch(channel) is not None


def keep(channel: str, data: str) -> int:
    """Number the message ``data`` (its JSON) and keep it in the channel's history;
    its number."""
    if connection.vendor == "postgresql":
        lazy = connection.get_autocommit()  # in a transaction, the caller's commit decides
        with connection.cursor() as cursor:
            sql = statement(("history_keep", lazy), lambda: _keep_sql(lazy))
            cursor.execute(sql, [channel, channel, data])
            (seq,) = cursor.fetchone()
            if lazy:
                cursor.execute("SELECT pg_current_xact_id()")  # waits for the disk
        return int(seq)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(statement(("history_next",), _next_seq_sql), [channel])
            (seq,) = cursor.fetchone()
        sent_at = timezone.now()  # after the write lock: times grow with the numbers
        ChannelMessage.objects.create(channel_name=channel, seq=seq, data=data, sent_at=sent_at)
    return int(seq)


def _next_seq_sql() -> str:
    return counting_upsert(ChannelSequence, ["channel_name"], "last_seq", ["channel_name"])


def _keep_sql(lazy: bool = False) -> str:
    table, column = table_and_columns(ChannelMessage)
    return (
        # Identifiers come from the model's metadata; values are parameters.
        f"WITH numbered AS ({_next_seq_sql()}) "  # noqa: S608
        f"INSERT INTO {table} ({column['channel_name']}, {column['seq']}, "
        f"{column['data']}, {column['sent_at']}) "
        f"SELECT %s, numbered.{table_and_columns(ChannelSequence)[1]['last_seq']}, %s, "
        f"clock_timestamp() FROM numbered "
        + ("WHERE set_config('synchronous_commit', 'off', true) = 'off' " if lazy else "")
        + f"RETURNING {column['seq']}"
    )


@dataclass(frozen=True)
class Page:
    """Kept messages of a channel, oldest first, and the channel's last number (0 when
    nothing was ever numbered)."""

    last_seq: int
    messages: list[ChannelMessage]

    def follows(self, seq: int) -> bool:
        """Whether the page holds everything after ``seq``, up to the last message."""
        if seq >= self.last_seq:
            return seq == self.last_seq
        return bool(self.messages) and self.messages[0].seq == seq + 1


def missed(channel: str, seq: int) -> Page:
    """What came after ``seq``, in one query; ``page.follows(seq)`` is false when the
    history does not reach back that far (the client must reset)."""
    return _read(channel, seq, conf.get_setting("history_max_messages"), reach=seq)


def latest(channel: str, limit: int) -> Page:
    """The last ``limit`` kept messages, in one query."""
    return _read(channel, 0, min(limit, conf.get_setting("history_max_messages")))


def _read(channel: str, after: int, window: int, reach: int = LARGEST_SEQ) -> Page:
    """The kept messages after ``after``, the last ``window`` at most; none at all when
    ``reach`` is older than the window (a resume that will be a reset reads nothing)."""
    cutoff = connection.ops.adapt_datetimefield_value(_age_cutoff())
    params = [after, window, cutoff, reach, window, channel]
    with connection.cursor() as cursor:
        cursor.execute(statement(("history_read",), _read_sql), params)
        rows = cursor.fetchall()
    if not rows:
        return Page(0, [])
    messages = [instance_from_row(ChannelMessage, row[1:]) for row in rows]
    return Page(rows[0][0], [message for message in messages if message is not None])


def _read_sql() -> str:
    sequences, sequence = table_and_columns(ChannelSequence)
    messages, message = table_and_columns(ChannelMessage)
    selected = ", ".join(f"m.{message[f.name]}" for f in ChannelMessage._meta.concrete_fields)
    return (
        # Identifiers come from the models' metadata; values are parameters.
        f"SELECT s.{sequence['last_seq']}, {selected} FROM {sequences} s "  # noqa: S608
        f"LEFT JOIN {messages} m ON m.{message['channel_name']} = s.{sequence['channel_name']} "
        f"AND m.{message['seq']} > %s AND m.{message['seq']} > s.{sequence['last_seq']} - %s "
        f"AND m.{message['sent_at']} >= %s AND %s >= s.{sequence['last_seq']} - %s "
        f"WHERE s.{sequence['channel_name']} = %s ORDER BY m.{message['seq']}"
    )


def _age_cutoff() -> datetime:
    return timezone.now() - timedelta(seconds=conf.get_setting("history_max_age_seconds"))


def expired_messages() -> QuerySet[ChannelMessage]:
    """The kept messages past either retention limit (for the cleanup command)."""
    last = ChannelSequence.objects.filter(channel_name=OuterRef("channel_name")).values("last_seq")
    oldest_kept = ExpressionWrapper(
        Subquery(last[:1]) - conf.get_setting("history_max_messages"),
        output_field=BigIntegerField(),
    )
    return ChannelMessage.objects.filter(Q(sent_at__lt=_age_cutoff()) | Q(seq__lte=oldest_kept))
