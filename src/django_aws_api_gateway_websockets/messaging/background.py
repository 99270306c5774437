"""Durable fan-out in the background through Django's task framework.

``enqueue_send`` writes a send record and its batches (the recipients chosen now)
before it returns, then enqueues one ``send_batch`` task per batch, so any backend runs
them (the database backend, RQ on Redis, Celery) and several workers share a large
send. A worker holds a batch under a lease and records its progress every few posts;
when it dies, the lease expires and another worker resumes the batch where the record
says. So delivery is at least once, and the record says how many recipients may have
the message twice. ``django.tasks`` is used on Django 6 and the ``django_tasks``
backport on Django 5.2. Without a ``TASKS`` setting the default backend runs each task
at once, in the caller's process.
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Mapping
from concurrent.futures import Future
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from .. import conf, metrics
from ..models import SendBatch, SendRecord, WebSocketSession
from . import records
from .endpoint import connection_url
from .payload import encode_message
from .policy import Verdict
from .recipients import Endpoints, mark_gone
from .results import Delivery
from .transport import SendSettings, Target, get_transport

try:
    from django.tasks import task  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # Django < 6
    from django_tasks import task  # type: ignore[no-redef,unused-ignore]

#: The key of the id stamped on a message when the sender asks for one.
MESSAGE_ID_KEY = "message_id"


@task()
def send_batch(batch_id: int) -> dict[str, Any]:
    """Run one batch of a background send (or resume it after a crash). Expired
    leases of other batches are put back in the queue first. Returns the batch's
    counts, or ``{"claimed": False}`` when another worker has it or it is done."""
    requeue(records.release_stalled(but=batch_id))
    worker = records.worker_name()
    batch = records.claim(batch_id, worker)
    if batch is None:
        return {"claimed": False}
    run_batch(batch, worker)
    metrics.batch_completed()
    batch.refresh_from_db()
    return {"claimed": True, **{name: getattr(batch, name) for name in records.COUNT_FIELDS}}


@task()
def requeue_stalled_batches() -> int:
    """Enqueue again the batches whose worker died; the number enqueued."""
    return requeue(records.release_stalled())


def requeue(batches: list[SendBatch]) -> int:
    for batch in batches:
        _batch_task(batch.record).enqueue(batch.pk)
    return len(batches)


def _batch_task(record: SendRecord) -> Any:
    """``send_batch`` with the task options the send was enqueued with."""
    options: dict[str, Any] = {"priority": record.priority}
    if record.queue_name:
        options["queue_name"] = record.queue_name
    if record.backend:
        options["backend"] = record.backend
    return send_batch.using(**{k: v for k, v in options.items() if v is not None})


def run_batch(batch: SendBatch, worker: str) -> None:
    """Post the batch's unsettled recipients, two checkpoints' worth in flight, and
    record each stretch as it settles (in order) until the batch is done or the lease
    is lost."""
    every = conf.get_setting("background_checkpoint_every")
    todo = batch.session_ids[batch.position :]
    targets = _targets(todo)
    body = batch.record.message.encode()
    sender = get_transport().open(SendSettings.from_conf(concurrency=batch.record.max_workers))
    in_flight: deque[tuple[int, records.Tally, Future[list[Delivery]] | None]] = deque()
    try:
        for start in range(0, len(todo), every):
            stretch = [targets[pk] for pk in todo[start : start + every] if pk in targets]
            # The rest are skipped: disconnected, deleted, or without a gateway.
            tally = records.Tally(skipped=min(every, len(todo) - start) - len(stretch))
            future = None
            if stretch:
                future = sender.add(stretch, body)
            in_flight.append((min(every, len(todo) - start), tally, future))
            if len(in_flight) >= 2 and not _settle(batch, worker, in_flight.popleft()):
                return
        while in_flight:
            if not _settle(batch, worker, in_flight.popleft()):
                return
    finally:
        sender.close()
    records.finish_batch(batch, worker)


def _targets(pks: list[int]) -> dict[int, Target]:
    """The connected sessions among ``pks`` that have a gateway, by primary key."""
    rows = list(
        WebSocketSession.objects.filter(pk__in=pks, connected=True).values_list(
            "pk", "connection_id", "api_gateway_id"
        )
    )
    by_gateway = Endpoints().resolve(row[2] for row in rows)
    return {
        pk: Target(pk, cid, connection_url(by_gateway[gw][0], cid), by_gateway[gw][1])
        for pk, cid, gw in rows
        if gw in by_gateway
    }


def _settle(
    batch: SendBatch,
    worker: str,
    posted: tuple[int, records.Tally, Future[list[Delivery]] | None],
) -> bool:
    count, tally, future = posted
    deliveries = future.result() if future is not None else []
    mark_gone([d.pk for d in deliveries if d.verdict is Verdict.GONE])
    for delivery in deliveries:
        if delivery.verdict is Verdict.SENT:
            tally.sent += 1
            tally.maybe_duplicated += delivery.uncertain
        elif delivery.verdict is Verdict.GONE:
            tally.gone += 1
        elif delivery.status == 429:
            tally.throttled += 1
        else:
            tally.failed += 1
    return records.checkpoint(batch, worker, count, tally)


def enqueue_send(
    queryset: QuerySet[WebSocketSession],
    data: Any,
    *,
    message_id: bool = False,
    batch_size: int | None = None,
    max_workers: int | None = None,
    queue_name: str | None = None,
    priority: int | None = None,
    backend: str | None = None,
) -> SendRecord:
    """Record a send of ``data`` to the connected sessions of ``queryset`` and enqueue
    one ``send_batch`` task per ``batch_size`` of them; return the send record.

    The message is encoded (and size-checked) once, here, and the recipients chosen
    now; a session that disconnects before its batch runs is skipped. With
    ``message_id=True`` the message (a dict) gets a ``"message_id"`` key, the same for
    every recipient, that clients use to drop a duplicate. The tasks are enqueued when
    the caller's transaction commits (at once outside one, and with the immediate
    backend, which runs them in this process and so sees the uncommitted record).
    """
    if batch_size is not None and batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if max_workers is not None and max_workers < 1:
        raise ValueError("max_workers must be at least 1")
    stamp = ""
    if message_id:
        if not isinstance(data, Mapping) or MESSAGE_ID_KEY in data:
            raise ValueError(f"message_id=True needs a dict without a {MESSAGE_ID_KEY!r} key")
        stamp = uuid.uuid4().hex
        data = {**data, MESSAGE_ID_KEY: stamp}
    message = encode_message(data).decode()
    size = batch_size or conf.get_setting("background_batch_size")
    record, batch_ids = records.record_send(
        queryset,
        message,
        size,
        message_id=stamp,
        backend=backend or "",
        queue_name=queue_name or "",
        priority=priority,
        max_workers=max_workers,
    )
    if batch_ids:
        batch_task = _batch_task(record)

        def enqueue_batches() -> None:
            metrics.batches_enqueued([batch_task.enqueue(pk) for pk in batch_ids])

        if _runs_in_process(batch_task):
            enqueue_batches()  # same connection: the batches are visible before commit
        else:
            transaction.on_commit(enqueue_batches)
    return record


def _runs_in_process(batch_task: Any) -> bool:
    """Whether the task backend runs tasks at once, here (the default, and tests')."""
    return type(batch_task.get_backend()).__name__ == "ImmediateBackend"
