"""Presence: who is in a channel, announced when a user's first connection joins and
their last one leaves.

The channels that keep presence match ``WEBSOCKETS["presence_channels"]``. A member is a
logged-in user with at least one connected session in the channel (primary or
subscribed), so presence follows the sessions and their liveness rules: a session
found gone by any path (:mod:`.departures`) leaves, whether ``$disconnect`` came or
not. A member is one ``ChannelPresence`` row, which holds the payload the view chose
(``presence_data``) and exists from the first joining connection to the last leaving
one; the row is what makes a second tab join without a second ``member_added``:

* joining upserts the row (one statement, which locks it until the join's commit);
  the statement that makes it announces ``member_added``;
* leaving locks the user's rows, then, in a statement of its own (so it sees every
  join committed meanwhile), deletes those with no connected session left in their
  channel and announces ``member_removed`` for each.

Announcements go out after the commit, to every connection in the channel but the one
joining (its answer is ``subscribed``, and it can ask for ``presence``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from functools import partial
from typing import Any, cast

from django.db import connection, models, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.dispatch import receiver
from django.utils import timezone

from ._sql import counting_upsert, statement
from .conf import get_channel_pattern, get_setting
from .departures import sessions_disconnected
from .models import MAX_MESSAGE_SIZE, ChannelPresence, ChannelSubscription, WebSocketSession

logger = logging.getLogger(__name__)

DATA_FIELD = cast("models.JSONField[Any]", ChannelPresence._meta.get_field("data"))


def is_presence_channel(channel: str) -> bool:
    pattern = get_channel_pattern("presence_channels")
    return pattern is not None and pattern.fullmatch(channel) is not None


def presence(channel: str) -> list[dict[str, Any]]:
    """The members of ``channel``, first joined first: ``[{"user": "42", "data": {...}}]``
    (the user's primary key as a string, and the payload the view chose)."""
    rows = (
        ChannelPresence.objects.filter(channel_name=channel)
        .filter(Exists(_member_sessions()))
        .order_by("joined_on", "pk")
        .values_list("user_id", "data")
    )
    return [{"user": str(user_id), "data": data} for user_id, data in rows]


def presence_messages(channel: str) -> list[dict[str, Any]]:
    """The ``presence`` answer for ``channel``: one message, or, for a list over API
    Gateway's 128 KB, several, all but the last with ``"more": true``."""
    members = presence(channel)
    envelope = {"type": "presence", "channel": channel, "members": [], "more": True}
    room = MAX_MESSAGE_SIZE - len(json.dumps(envelope).encode())
    pages: list[list[dict[str, Any]]] = [[]]
    used = 0
    for member in members:
        size = len(json.dumps(member).encode()) + 2  # and its ", "
        if pages[-1] and used + size > room:
            pages.append([])
            used = 0
        pages[-1].append(member)
        used += size
    last = len(pages) - 1
    return [
        {
            "type": "presence",
            "channel": channel,
            "members": page,
            **({"more": True} if i < last else {}),
        }
        for i, page in enumerate(pages)
    ]


def joined(
    session: WebSocketSession, channel: str, presence_data: Callable[[], dict[str, Any]]
) -> None:
    """``session`` is now in ``channel`` (its membership is written): make its user a
    member if the channel keeps presence, announcing the user if they are new there."""
    if session.user_id is None or not is_presence_channel(channel):
        return
    if not session.presence:
        WebSocketSession.objects.filter(pk=session.pk).update(presence=True)
        session.presence = True
    data = _capped(presence_data())
    if _upsert(channel, session.user_id, data) == 1:
        member = {"user": str(session.user_id), "data": data}
        message = {"type": "member_added", "channel": channel, "member": member}
        transaction.on_commit(partial(_announce, channel, message, session.pk))


def left(session: WebSocketSession, channel: str) -> None:
    """``session`` is no longer in ``channel``: its user leaves if no other connection of
    theirs is in it."""
    if session.presence and session.user_id is not None and is_presence_channel(channel):
        settle(ChannelPresence.objects.filter(user_id=session.user_id, channel_name=channel))


def settle(members: QuerySet[ChannelPresence]) -> int:
    """Remove the ``members`` no connected session keeps in their channel, announcing
    each; how many left."""
    with transaction.atomic():
        locked = list(members.select_for_update().order_by("pk").values_list("pk", flat=True))
        if not locked:
            return 0
        gone = list(
            ChannelPresence.objects.filter(pk__in=locked)
            .exclude(Exists(_member_sessions()))
            .values_list("pk", "channel_name", "user_id")
        )
        if gone:
            ChannelPresence.objects.filter(pk__in=[row[0] for row in gone]).delete()
        for _, channel, user_id in gone:
            member = {"user": str(user_id)}
            message = {"type": "member_removed", "channel": channel, "member": member}
            transaction.on_commit(partial(_announce, channel, message, None))
    return len(gone)


def settle_everyone() -> int:
    """Remove every member no connected session keeps (left behind by a process that
    died between marking its sessions and settling presence); how many left."""
    return settle(ChannelPresence.objects.exclude(Exists(_member_sessions())))


@receiver(sessions_disconnected, dispatch_uid="ws_presence_sessions_disconnected")
def _sessions_disconnected(
    sender: Any, pks: list[int], sessions: list[WebSocketSession] | None = None, **kwargs: Any
) -> None:
    if sessions is not None:
        users = {s.user_id for s in sessions if s.presence and s.user_id is not None}
        if users:
            settle(ChannelPresence.objects.filter(user_id__in=users))
    elif get_channel_pattern("presence_channels") is not None:
        flagged = WebSocketSession.objects.filter(pk__in=pks, presence=True, user__isnull=False)
        settle(ChannelPresence.objects.filter(user_id__in=flagged.values("user_id")))


def _member_sessions() -> QuerySet[WebSocketSession]:
    """The connected sessions of the outer row's user in the outer row's channel."""
    subscribed = ChannelSubscription.objects.filter(
        session=OuterRef("pk"), channel_name=OuterRef(OuterRef("channel_name"))
    )
    return WebSocketSession.objects.filter(user_id=OuterRef("user_id"), connected=True).filter(
        Q(channel_name=OuterRef("channel_name")) | Exists(subscribed)
    )


def _capped(data: Any) -> dict[str, Any]:
    """The view's payload if it is a JSON object within the size limit, else ``{}``."""
    limit = get_setting("presence_payload_max_bytes")
    try:
        size = len(json.dumps(data, separators=(",", ":")).encode())
    except (TypeError, ValueError):
        size = None
    if not isinstance(data, dict) or size is None or size > limit:
        logger.error(
            "presence_data must return a JSON object of at most %d bytes; the member's "
            "payload is left empty",
            limit,
        )
        return {}
    return data


def _upsert(channel: str, user_id: Any, data: dict[str, Any]) -> int:
    """Make or join the user's membership row; the joins it counts (1: it was made)."""
    values = [
        channel,
        user_id,
        DATA_FIELD.get_db_prep_save(data, connection),
        connection.ops.adapt_datetimefield_value(timezone.now()),
    ]
    with connection.cursor() as cursor:
        cursor.execute(statement(("presence_upsert",), _upsert_sql), values)
        return int(cursor.fetchone()[0])


def _upsert_sql() -> str:
    return counting_upsert(
        ChannelPresence,
        ["channel_name", "user"],
        "joins",
        ["channel_name", "user", "data", "joined_on"],
    )


def _announce(channel: str, message: dict[str, Any], but: int | None) -> None:
    recipients = WebSocketSession.objects.in_channel(channel)
    if but is not None:
        recipients = recipients.exclude(pk=but)
    try:
        recipients.send_message(message)
    except Exception:  # the membership stands; only the announcement is lost
        logger.exception("Could not announce %s in %r", message["type"], channel)
