"""Sending to a channel, and the channel messages about history (docs/channels.rst).

``send_to_channel`` numbers and keeps the message when the channel keeps history (one
statement, see ``history``), then posts ``{"type": "message", "channel", "seq",
"data"}`` to every connection in the channel, primary members and subscribers once
each, through the fan-out (or the background fan-out). The data is encoded once: the
kept JSON is spliced into every message that carries it, including later ``history``
answers, which is also why a message is refused up front when its history answer could
not fit in API Gateway's 128 KB.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Literal, overload

from asgiref.sync import sync_to_async
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import CharField

from . import history
from .messaging.background import enqueue_send
from .messaging.fanout import send_encoded
from .messaging.results import BroadcastResult
from .models import MAX_MESSAGE_SIZE, ChannelMessage, SendRecord, WebSocketSession

#: As wide as any ``sent_at`` of a history entry.
WIDEST_SENT_AT = "2026-12-01T10:00:00.000Z"
#: As wide as the id ``message_id=True`` stamps on a background send.
WIDEST_MESSAGE_ID = "0" * 32


def _json(value: Any) -> bytes:
    return json.dumps(value, cls=DjangoJSONEncoder).encode()


def message_body(channel: str, seq: int | None, data: bytes, message_id: str = "") -> bytes:
    """``{"type": "message", "channel", "seq", "data"}`` around the encoded ``data``."""
    stamp = b', "message_id": ' + _json(message_id) if message_id else b""
    return b'{"type": "message", "channel": %s, "seq": %s, "data": %s%s}' % (
        _json(channel),
        _json(seq),
        data,
        stamp,
    )


def history_entry(seq: int, data: bytes, sent_at: str) -> bytes:
    return b'{"seq": %d, "data": %s, "sent_at": %s}' % (seq, data, _json(sent_at))


def history_bodies(channel: str, page: history.Page) -> Iterator[bytes]:
    """The ``history`` messages of ``page``: as few as fit in 128 KB each, in order, and
    one with no messages when the page is empty."""
    head = b'{"type": "history", "channel": %s, "messages": [' % _json(channel)
    tail = b'], "last_seq": %d}' % page.last_seq
    entries: list[bytes] = []
    size = len(head) + len(tail)
    for message in page.messages:
        entry = _entry_of(message)
        if entries and size + 2 + len(entry) > MAX_MESSAGE_SIZE:
            yield head + b", ".join(entries) + tail
            entries, size = [], len(head) + len(tail)
        size += len(entry) + (2 if entries else 0)
        entries.append(entry)
    if entries or not page.messages:
        yield head + b", ".join(entries) + tail


def _entry_of(message: ChannelMessage) -> bytes:
    sent_at = DjangoJSONEncoder().default(message.sent_at)
    return history_entry(message.seq, message.data.encode(), sent_at)


def reset_body(channel: str, last_seq: int) -> bytes:
    return b'{"type": "reset", "channel": %s, "last_seq": %d}' % (_json(channel), last_seq)


def refusal_body(request: str, channel: str, reason: str, message: str) -> bytes:
    return _json(
        {
            "type": "refused",
            "request": request,
            "channel": channel,
            "reason": reason,
            "message": message,
        }
    )


def _check_size(channel: str, data: bytes, kept: bool, message_id: bool) -> None:
    """``ValueError`` unless every message that may carry ``data`` fits in 128 KB."""
    widest = [
        message_body(channel, history.LARGEST_SEQ, data, WIDEST_MESSAGE_ID if message_id else "")
    ]
    if kept:
        entry = history_entry(history.LARGEST_SEQ, data, WIDEST_SENT_AT)
        widest.append(
            b'{"type": "history", "channel": %s, "messages": [%s], "last_seq": %d}'
            % (_json(channel), entry, history.LARGEST_SEQ)
        )
    size = max(len(body) for body in widest)
    if size > MAX_MESSAGE_SIZE:
        raise ValueError(
            f"Message exceeds AWS limit: with its channel envelope it takes {size} bytes of "
            f"UTF-8 JSON, API Gateway accepts at most {MAX_MESSAGE_SIZE}."
        )


def _check_channel(channel: Any) -> None:
    field = ChannelMessage._meta.get_field("channel_name")
    max_length = field.max_length if isinstance(field, CharField) and field.max_length else 0
    if not isinstance(channel, str) or not channel or len(channel) > max_length:
        raise ValueError(f"A channel name is a string of 1 to {max_length} characters.")


@overload
def send_to_channel(
    channel: str, data: Any, *, background: Literal[False] = False, **options: Any
) -> BroadcastResult: ...


@overload
def send_to_channel(
    channel: str, data: Any, *, background: Literal[True], **options: Any
) -> SendRecord: ...


def send_to_channel(
    channel: str, data: Any, *, background: bool = False, **options: Any
) -> BroadcastResult | SendRecord:
    """Send ``data`` to every connection in ``channel`` (its primary members and its
    subscribers), numbered and kept first when the channel keeps history.

    ``options`` are those of ``send_message`` (``max_workers``, ``batch_size``), or with
    ``background=True`` those of ``send_message_in_background``, which then gives its
    send record. Raises ``ValueError``, before anything is kept or sent, when the
    message would be over 128 KB. Inside a transaction, call it with
    ``background=True``: its posts wait for the commit, where a direct send would post a
    number that a rollback then gives to the next message.
    """
    _check_channel(channel)
    encoded = _json(data)
    kept = history.keeps_history(channel)
    _check_size(channel, encoded, kept, bool(background and options.get("message_id")))
    seq = history.keep(channel, encoded.decode()) if kept else None
    recipients = WebSocketSession.objects.in_channel(channel)
    if background:
        message = {"type": "message", "channel": channel, "seq": seq, "data": data}
        return enqueue_send(recipients, message, **options)
    return send_encoded(recipients, message_body(channel, seq, encoded), **options)


@overload
async def asend_to_channel(
    channel: str, data: Any, *, background: Literal[False] = False, **options: Any
) -> BroadcastResult: ...


@overload
async def asend_to_channel(
    channel: str, data: Any, *, background: Literal[True], **options: Any
) -> SendRecord: ...


async def asend_to_channel(
    channel: str, data: Any, *, background: bool = False, **options: Any
) -> BroadcastResult | SendRecord:
    """``send_to_channel`` for async code; the caller's loop keeps running meanwhile."""
    if background:
        return await sync_to_async(
            lambda: send_to_channel(channel, data, background=True, **options)
        )()
    return await sync_to_async(send_to_channel)(channel, data, **options)
