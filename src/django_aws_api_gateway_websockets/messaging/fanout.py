"""Fan-out: one message to every connected session of a queryset.

The message is encoded once. Recipients are read a page at a time in the caller's
thread while the previous page is being posted on the sending loop, so the database
and the network overlap and memory stays flat. Gone sessions are marked disconnected
with one statement per page.
"""

from __future__ import annotations

import logging
from collections import deque
from concurrent.futures import Future
from typing import Any

from asgiref.sync import sync_to_async
from django.db.models import QuerySet

from .. import conf, metrics
from ..departures import mark_gone
from ..models import WebSocketSession
from .payload import encode_message
from .policy import Verdict
from .recipients import Endpoints, recipient_pages
from .results import BroadcastResult, Delivery
from .transport import SendSettings, Target, get_transport

logger = logging.getLogger(__name__)

#: Pages posted at once: one being posted while the next is read.
PAGES_IN_FLIGHT = 2


def send_to_queryset(
    queryset: QuerySet[WebSocketSession],
    data: Any,
    *,
    max_workers: int | None = None,
    batch_size: int | None = None,
) -> BroadcastResult:
    """Send ``data`` to every connected session in ``queryset``.

    ``max_workers`` caps the posts in flight for this send (the process-wide cap is
    ``WEBSOCKETS["send_concurrency"]``); ``batch_size`` is the page size. Raises
    ``ValueError`` before any post when the message is over 128 KB. A recipient never
    raises: each ends up in the result as sent, gone or failed.
    """
    return send_encoded(
        queryset, encode_message(data), max_workers=max_workers, batch_size=batch_size
    )


def send_encoded(
    queryset: QuerySet[WebSocketSession],
    body: bytes,
    *,
    max_workers: int | None = None,
    batch_size: int | None = None,
) -> BroadcastResult:
    """``send_to_queryset`` for a message already encoded by ``encode_message``."""
    if max_workers is not None and max_workers < 1:
        raise ValueError("max_workers must be at least 1")
    if batch_size is not None and batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    settings = SendSettings.from_conf(concurrency=max_workers)
    size = batch_size or conf.get_setting("send_batch_size")
    result = BroadcastResult()
    endpoints = Endpoints()
    broadcast = get_transport().open(settings)
    in_flight: deque[Future[list[Delivery]]] = deque()
    try:
        for page in recipient_pages(queryset, size):
            targets = [Target(*address) for address in endpoints.address(page)]
            result.skipped += len(page) - len(targets)
            if not targets:
                continue
            in_flight.append(broadcast.add(targets, body))
            if len(in_flight) >= PAGES_IN_FLIGHT:
                _settle(in_flight.popleft().result(), result)
        while in_flight:
            _settle(in_flight.popleft().result(), result)
    finally:
        broadcast.close()
    metrics.sent(len(body), len(result.sent))
    if result.skipped:
        logger.warning("Skipped %d connected session(s) without an API gateway", result.skipped)
    if result.failed:
        logger.warning(
            "Could not deliver to %d of %d session(s) (%d unanswered, may have arrived)",
            len(result.failed),
            result.recipients,
            len(result.timed_out),
        )
    return result


def _settle(deliveries: list[Delivery], result: BroadcastResult) -> None:
    mark_gone([d.pk for d in deliveries if d.verdict is Verdict.GONE])
    for delivery in deliveries:
        result.record(delivery)


async def asend_to_queryset(
    queryset: QuerySet[WebSocketSession], data: Any, **options: Any
) -> BroadcastResult:
    """``send_to_queryset`` for async code; the caller's loop keeps running meanwhile."""
    return await sync_to_async(send_to_queryset)(queryset, data, **options)
