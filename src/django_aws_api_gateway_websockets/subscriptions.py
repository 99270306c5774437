"""Subscriptions: the channels a connection follows besides its primary one.

A subscription is checked by the same rules as connecting to the channel (its name
rules and the view's ``can_join_channel``, which the view passes in), and is one
``ChannelSubscription`` row. The limit (``WEBSOCKETS["max_subscriptions"]``) is kept by
the statement that inserts the row; concurrent subscribes of one connection are
serialised on its session row, so a limit of N admits N.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from . import presence
from ._sql import statement, table_and_columns
from .admission import INVALID_CHANNEL
from .conf import get_setting
from .models import ChannelSubscription, WebSocketSession

#: Reason codes of refused channel requests (docs/channels.rst), besides
#: ``invalid_channel``, which a refused connect uses too.
FORBIDDEN = "forbidden"
TOO_MANY_SUBSCRIPTIONS = "too_many_subscriptions"
PRIMARY_CHANNEL = "primary_channel"
NOT_MEMBER = "not_member"


@dataclass(frozen=True)
class ChannelRefusal:
    """Why a channel request was refused: a code and a text for people."""

    reason: str
    message: str


def refused_message(request: str, channel: Any, refusal: ChannelRefusal) -> dict[str, Any]:
    """The ``refused`` message that answers a request (docs/channels.rst)."""
    return {
        "type": "refused",
        "request": request,
        "channel": channel,
        "reason": refusal.reason,
        "message": refusal.message,
    }


def subscribe(
    session: WebSocketSession,
    channel: str,
    *,
    valid: bool,
    allowed: Callable[[], bool],
    presence_data: Callable[[], dict[str, Any]],
) -> ChannelRefusal | None:
    """Subscribe ``session`` to ``channel``; ``None`` when it is now in the channel.

    ``valid`` says whether the name follows the view's channel name rules, ``allowed``
    asks the view's permission rules, ``presence_data`` the view's payload for a
    presence channel. Subscribing again, or to the primary channel, changes nothing.
    """
    if not valid:
        return ChannelRefusal(INVALID_CHANNEL, "Invalid channel name")
    if not allowed():
        return ChannelRefusal(FORBIDDEN, "You may not join this channel")
    if channel == session.channel_name:
        return None
    if not _insert(session, channel, get_setting("max_subscriptions")):
        if ChannelSubscription.objects.filter(session=session, channel_name=channel).exists():
            return None
        return ChannelRefusal(TOO_MANY_SUBSCRIPTIONS, "This connection follows too many channels")
    presence.joined(session, channel, presence_data)
    return None


def unsubscribe(session: WebSocketSession, channel: str) -> ChannelRefusal | None:
    """Take ``session`` out of ``channel``; ``None`` when it has left it."""
    if channel == session.channel_name:
        return ChannelRefusal(PRIMARY_CHANNEL, "The channel the connection opened with stays")
    deleted, _ = ChannelSubscription.objects.filter(session=session, channel_name=channel).delete()
    if not deleted:
        return ChannelRefusal(NOT_MEMBER, "This connection does not follow the channel")
    presence.left(session, channel)
    return None


def is_member(session: WebSocketSession, channel: str) -> bool:
    """Whether ``channel`` is the session's primary channel or one it subscribed to."""
    return (
        channel == session.channel_name
        or ChannelSubscription.objects.filter(session=session, channel_name=channel).exists()
    )


def _insert(session: WebSocketSession, channel: str, limit: int) -> bool:
    """Insert the subscription if the session has fewer than ``limit``; whether a row
    was inserted (not when it exists already or the limit is reached)."""
    sql = statement(("subscribe",), _insert_sql)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with transaction.atomic():
        # The lock makes concurrent subscribes of one connection count one after another.
        list(WebSocketSession.objects.select_for_update().filter(pk=session.pk).values_list("pk"))
        with connection.cursor() as cursor:
            cursor.execute(sql, [session.pk, channel, now, session.pk, limit])
            return cursor.fetchone() is not None


def _insert_sql() -> str:
    table, column = table_and_columns(ChannelSubscription)
    session, channel = column["session"], column["channel_name"]
    return (
        # Identifiers come from the model's metadata; values are parameters.
        f"INSERT INTO {table} ({session}, {channel}, {column['created_on']}) "  # noqa: S608
        f"SELECT %s, %s, %s WHERE (SELECT COUNT(*) FROM {table} WHERE {session} = %s) < %s "
        f"ON CONFLICT ({session}, {channel}) DO NOTHING RETURNING {column['id']}"
    )
