"""Replaying a channel's history to one connection: the answers to ``resume`` and
``history`` (docs/channels.rst).

Only channels the connection is in (its primary channel, or a subscription) are
answered: one query finds the subscriptions among the channels asked for, none when
only the primary channel is. Each channel's answer is then one query (``history``),
sent in as many ``history`` messages as 128 KB each requires, or a ``reset``.
"""

from __future__ import annotations

from collections.abc import Callable

from . import history
from .channel_messages import history_bodies, refusal_body, reset_body
from .messaging.send import send_encoded_to_session
from .models import ChannelSubscription, WebSocketSession

#: Channels one ``resume`` may name: a connection is in its primary channel and its
#: subscriptions.
MAX_RESUME_CHANNELS = 101
#: Messages a ``history`` request without a ``limit`` gets.
DEFAULT_HISTORY_LIMIT = 50

INVALID_CHANNEL = "invalid_channel"
NOT_MEMBER = "not_member"
NO_HISTORY = "no_history"
_REASONS = {
    INVALID_CHANNEL: "That is not a valid channel name.",
    NOT_MEMBER: "This connection is not in that channel.",
    NO_HISTORY: "That channel keeps no history.",
}


def answer_resume(
    session: WebSocketSession, last_seen: dict[str, int], valid_name: Callable[[str], bool]
) -> None:
    """Send each channel of ``last_seen`` what came after the sequence given for it, in
    order, or a ``reset`` when its history does not reach back that far."""
    members = _joined(session, [channel for channel in last_seen if valid_name(channel)])
    for channel, seq in last_seen.items():
        reason = _refusal(channel, members, valid_name)
        if reason:
            body = refusal_body("resume", channel, reason, _REASONS[reason])
            if not _send(session, [body]):
                return
            continue
        page = history.missed(channel, seq)
        if page.follows(seq):
            bodies = list(history_bodies(channel, page))
        else:
            bodies = [reset_body(channel, page.last_seq)]
        if not _send(session, bodies):
            return


def answer_history(
    session: WebSocketSession, channel: str, limit: int, valid_name: Callable[[str], bool]
) -> None:
    """Send the channel's last ``limit`` kept messages, oldest first."""
    members = _joined(session, [channel] if valid_name(channel) else [])
    reason = _refusal(channel, members, valid_name)
    if reason:
        _send(session, [refusal_body("history", channel, reason, _REASONS[reason])])
        return
    _send(session, list(history_bodies(channel, history.latest(channel, limit))))


def _refusal(channel: str, members: set[str], valid_name: Callable[[str], bool]) -> str:
    if not valid_name(channel):
        return INVALID_CHANNEL
    if channel not in members:
        return NOT_MEMBER
    if not history.keeps_history(channel):
        return NO_HISTORY
    return ""


def _joined(session: WebSocketSession, channels: list[str]) -> set[str]:
    """The channels among ``channels`` the session is in."""
    joined = {channel for channel in channels if channel == session.channel_name}
    others = [channel for channel in channels if channel != session.channel_name]
    if others:
        joined.update(
            ChannelSubscription.objects.filter(
                session=session, channel_name__in=others
            ).values_list("channel_name", flat=True)
        )
    return joined


def _send(session: WebSocketSession, bodies: list[bytes]) -> bool:
    """Post the bodies in order; ``False`` once the connection is found gone."""
    return all(send_encoded_to_session(session, body) is not None for body in bodies)
