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

import time
import uuid
from collections import deque
from collections.abc import Iterator, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from .. import conf, metrics
from ..departures import mark_gone
from ..models import SendBatch, SendRecord, WebSocketSession
from ..task_framework import task
from . import records
from .payload import encode_message
from .policy import Verdict
from .recipients import Endpoints
from .results import Delivery
from .transport import BotoBroadcast, Broadcast, SendSettings, Target, get_transport

#: The key of the id stamped on a message when the sender asks for one.
MESSAGE_ID_KEY = "message_id"
#: Batches one ``send_batch`` task runs at most: its own, then pending ones of the same
#: send, so a worker keeps posting across batches instead of draining between tasks
#: (the others' tasks find them done). Bounded, and no batch is added after
#: ``CHAIN_SECONDS``, so that a task ends well within a broker's time limit (RQ's default
#: is 180 s) even under a low account rate.
CHAIN_BATCHES = 8
CHAIN_SECONDS = 10.0


@task()
def send_batch(batch_id: int) -> dict[str, Any]:
    """Run one batch of a background send (or resume it after a crash), then go on with
    the send's next pending batches (up to ``CHAIN_BATCHES`` in all, none added after
    ``CHAIN_SECONDS``). Expired leases of
    other batches are put back in the queue first. Returns the first batch's counts and
    the number of batches run, or ``{"claimed": False}`` when another worker has it or it
    is done."""
    requeue(records.release_stalled(but=batch_id))
    worker = records.worker_name()
    batch = records.claim(batch_id, worker)
    if batch is None:
        return {"claimed": False}
    finished = run_batches(batch, worker)
    batch.refresh_from_db()
    counts = {name: getattr(batch, name) for name in records.COUNT_FIELDS}
    return {"claimed": True, "batches": finished, **counts}


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


@dataclass
class _Stretch:
    """Up to ``background_checkpoint_every`` recipients of a batch, posted together and
    recorded together when they have all settled."""

    batch: SendBatch
    count: int
    tally: records.Tally
    future: Future[list[Delivery]] | None
    last: bool  # the batch's last: it is finished once this one is recorded


def run_batches(batch: SendBatch, worker: str, chain: int = CHAIN_BATCHES) -> int:
    """Post the batch's unsettled recipients, then those of up to ``chain - 1`` more
    pending batches of the same send, two stretches in flight, and record each stretch as
    it settles (in order). The next batch is claimed and its recipients read while the
    current one's last stretches are still posting, so the posts do not pause between
    batches. A batch whose lease is lost is left to its new owner and nothing more is
    claimed. Returns the number of batches finished."""
    sender = get_transport().open(SendSettings.from_conf(concurrency=batch.record.max_workers))
    in_flight: deque[_Stretch] = deque()
    lost: set[int] = set()
    finished = 0
    try:
        for stretch in _stretches(batch, worker, chain, sender, lost):
            in_flight.append(stretch)
            if len(in_flight) >= 2:
                finished += _settle(worker, in_flight.popleft(), lost)
        while in_flight:
            finished += _settle(worker, in_flight.popleft(), lost)
    finally:
        sender.close()
    return finished


def _stretches(
    batch: SendBatch,
    worker: str,
    chain: int,
    sender: Broadcast | BotoBroadcast,
    lost: set[int],
) -> Iterator[_Stretch]:
    """Post the stretches of ``batch`` and of the batches claimed after it, one at a
    time as the caller asks for the next (so at most two are in flight)."""
    every = conf.get_setting("background_checkpoint_every")
    body = batch.record.message.encode()
    deadline = time.monotonic() + CHAIN_SECONDS
    for taken in range(chain):
        if taken:
            if lost or time.monotonic() > deadline:
                return
            next_batch = records.claim_next(batch.record_id, worker)
            if next_batch is None:
                return
            batch = next_batch
        todo = batch.session_ids[batch.position :]
        targets = _targets(todo)
        starts = range(0, len(todo), every) or range(1)  # a resumed, all-settled batch
        for start in starts:
            if batch.pk in lost:
                break
            count = min(every, len(todo) - start)
            pks = todo[start : start + count]
            posts = [targets[pk] for pk in pks if pk in targets]
            # The rest are skipped: disconnected, deleted, or without a gateway.
            tally = records.Tally(skipped=count - len(posts))
            future = sender.add(posts, body) if posts else None
            yield _Stretch(batch, count, tally, future, last=start == starts[-1])


def _targets(pks: list[int]) -> dict[int, Target]:
    """The connected sessions among ``pks`` that have a gateway, by primary key."""
    rows = list(
        WebSocketSession.objects.filter(pk__in=pks, connected=True).values_list(
            "pk", "connection_id", "api_gateway_id"
        )
    )
    return {address[0]: Target(*address) for address in Endpoints().address(rows)}


def _settle(worker: str, stretch: _Stretch, lost: set[int]) -> int:
    """Wait for the stretch's posts and record them; 1 when that finished its batch."""
    tally = stretch.tally
    deliveries = stretch.future.result() if stretch.future is not None else []
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
    batch = stretch.batch
    if batch.pk in lost:
        return 0
    if not records.checkpoint(batch, worker, stretch.count, tally):
        lost.add(batch.pk)
        return 0
    if not stretch.last or not records.finish_batch(batch, worker):
        return 0
    metrics.batch_completed()
    return 1


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
