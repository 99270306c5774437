"""The database side of a durable background send: the send record and its batches,
leases that pass a batch from a dead worker to a live one, and progress checkpoints.

Every change of a batch is one conditional ``UPDATE``, so two workers never both own a
batch: a claim succeeds only on a pending batch or an expired lease, and a checkpoint
only while the lease is still the caller's.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass, fields
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from .. import (
    conf,
    signals,  # its receivers import this module: read its names at call time
)
from ..models import SendBatch, SendRecord, WebSocketSession
from .recipients import recipient_pages

#: Batches written per INSERT when a send is recorded.
INSERT_BATCHES = 100
#: A pending batch that no worker started within this many leases is enqueued again
#: (its task was lost between the commit and the broker).
PENDING_GRACE_LEASES = 10
#: Claims of one batch after which its remaining recipients are reported as failed
#: (a batch that kills or fails every worker that takes it must not run forever).
MAX_CLAIMS = 5


@dataclass
class Tally:
    """Counts of one stretch of a batch, added to the batch at a checkpoint."""

    sent: int = 0
    gone: int = 0
    failed: int = 0
    throttled: int = 0
    skipped: int = 0
    maybe_duplicated: int = 0

    def increments(self) -> dict[str, Any]:
        return {f.name: F(f.name) + getattr(self, f.name) for f in fields(self)}


COUNT_FIELDS = tuple(f.name for f in fields(Tally))


def lease() -> timedelta:
    return timedelta(seconds=conf.get_setting("background_lease_seconds"))


def in_flight_bound() -> int:
    """Recipients a worker may have posted but not yet recorded (two checkpoints)."""
    return 2 * conf.get_setting("background_checkpoint_every")


def worker_name() -> str:
    """This claim's owner: host, process and a random part (one process may hold two)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def record_send(
    queryset: QuerySet[WebSocketSession], message: str, size: int, **options: Any
) -> tuple[SendRecord, list[int]]:
    """Write the send record and its batches (the connected recipients, chosen now) in
    one transaction; return the record and its batch ids."""
    with transaction.atomic():
        record = SendRecord.objects.create(message=message, **options)
        pending_lease = timezone.now() + lease() * PENDING_GRACE_LEASES
        batches: list[SendBatch] = []
        for index, page in enumerate(recipient_pages(queryset, size)):
            record.recipients += len(page)
            batches.append(
                SendBatch(
                    record=record,
                    index=index,
                    session_ids=[row[0] for row in page],
                    lease_expires_at=pending_lease,
                )
            )
            if len(batches) == INSERT_BATCHES:
                SendBatch.objects.bulk_create(batches)
                batches = []
        SendBatch.objects.bulk_create(batches)
        ids = list(record.batches.order_by("index").values_list("pk", flat=True))
        record.batch_count = len(ids)
        record.save(update_fields=["recipients", "batch_count"])
    if not ids:
        finish_record(record.pk)
        record.refresh_from_db()
    return record, ids


def claim(batch_id: int, worker: str) -> SendBatch | None:
    """Take the batch if it is pending or its lease expired; ``None`` when another
    worker holds it or it is done. A takeover adds the posts the previous worker may
    have had in flight to the batch's ``maybe_duplicated``."""
    now = timezone.now()
    taken = (
        SendBatch.objects.filter(pk=batch_id)
        .filter(
            Q(state=SendBatch.State.PENDING)
            | Q(state=SendBatch.State.RUNNING, lease_expires_at__lt=now)
        )
        .update(
            state=SendBatch.State.RUNNING,
            claimed_by=worker,
            lease_expires_at=now + lease(),
            claims=F("claims") + 1,
        )
    )
    if not taken:
        return None
    batch = SendBatch.objects.select_related("record").get(pk=batch_id)
    unsettled = len(batch.session_ids) - batch.position
    if batch.claims > MAX_CLAIMS:
        # Every worker that took it died or failed: report the rest as failed.
        give_up = Tally(failed=unsettled)
        checkpoint(batch, worker, unsettled, give_up)
        finish_batch(batch, worker)
        return None
    if batch.record.state == SendRecord.State.QUEUED:
        SendRecord.objects.filter(pk=batch.record_id, state=SendRecord.State.QUEUED).update(
            state=SendRecord.State.RUNNING, started_on=now
        )
    if batch.claims > 1 and unsettled:
        bound = min(in_flight_bound(), unsettled)
        SendBatch.objects.filter(pk=batch_id).update(maybe_duplicated=F("maybe_duplicated") + bound)
        batch.maybe_duplicated += bound
    return batch


def claim_next(record_id: int, worker: str) -> SendBatch | None:
    """Take the send's first pending batch that no other worker takes first, if any."""
    pending = SendBatch.objects.filter(record_id=record_id, state=SendBatch.State.PENDING)
    for pk in pending.order_by("index").values_list("pk", flat=True)[:5]:
        batch = claim(pk, worker)
        if batch is not None:
            return batch
    return None


def checkpoint(batch: SendBatch, worker: str, settled: int, tally: Tally) -> bool:
    """Record that ``settled`` more recipients are done, and renew the lease; ``False``
    when the lease was lost (the worker must stop: another one has the batch)."""
    return bool(
        SendBatch.objects.filter(
            pk=batch.pk, claimed_by=worker, state=SendBatch.State.RUNNING
        ).update(
            position=F("position") + settled,
            lease_expires_at=timezone.now() + lease(),
            **tally.increments(),
        )
    )


def finish_batch(batch: SendBatch, worker: str) -> bool:
    done = SendBatch.objects.filter(
        pk=batch.pk, claimed_by=worker, state=SendBatch.State.RUNNING
    ).update(state=SendBatch.State.DONE, lease_expires_at=None, finished_on=timezone.now())
    if done:
        finish_record(batch.record_id)
    return bool(done)


def counts(record_id: int) -> dict[str, int]:
    """The record's counts so far, summed over its batches."""
    sums = SendBatch.objects.filter(record_id=record_id).aggregate(
        **{name: Sum(name) for name in COUNT_FIELDS}
    )
    return {name: sums[name] or 0 for name in COUNT_FIELDS}


def finish_record(record_id: int) -> None:
    """Close the record once no batch is left, and send ``send_completed`` (once)."""
    if SendBatch.objects.filter(record_id=record_id).exclude(state=SendBatch.State.DONE).exists():
        return
    now = timezone.now()
    closed = (
        SendRecord.objects.filter(pk=record_id)
        .exclude(state=SendRecord.State.FINISHED)
        .update(
            state=SendRecord.State.FINISHED,
            finished_on=now,
            started_on=Coalesce("started_on", Value(now)),
            **counts(record_id),
        )
    )
    if closed:
        record = SendRecord.objects.get(pk=record_id)
        signals.send_completed.send(sender=SendRecord, record=record)


def release_stalled(limit: int = 100, but: int | None = None) -> list[SendBatch]:
    """Batches whose worker died (lease expired) or whose task was lost, put back to
    pending with a fresh lease, so each is enqueued again once; ``but`` is the batch
    the caller is about to claim anyway."""
    now = timezone.now()
    stalled = (
        SendBatch.objects.filter(
            state__in=[SendBatch.State.PENDING, SendBatch.State.RUNNING],
            lease_expires_at__lt=now,
        )
        .exclude(pk=but)
        .values_list("pk", flat=True)[:limit]
    )
    released: list[SendBatch] = []
    for pk in list(stalled):
        if (
            SendBatch.objects.filter(pk=pk, lease_expires_at__lt=now)
            .exclude(state=SendBatch.State.DONE)
            .update(state=SendBatch.State.PENDING, claimed_by="", lease_expires_at=now + lease())
        ):
            released.append(SendBatch.objects.select_related("record").get(pk=pk))
    return released
