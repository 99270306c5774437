"""Fan-out in the background through Django's task framework.

The recipients are split into batches of primary keys, one task each, so any backend
runs them (the database backend, RQ on Redis, Celery) and several workers share a
large send. ``django.tasks`` is used on Django 6 and the ``django_tasks`` backport on
Django 5.2. Without a ``TASKS`` setting the default backend runs each task at once, in
the caller's process.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from .. import conf, metrics
from ..models import WebSocketSession
from .fanout import send_encoded
from .payload import encode_message
from .recipients import recipient_pages

try:
    from django.tasks import task  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # Django < 6
    from django_tasks import task  # type: ignore[no-redef,unused-ignore]


@task()
def send_batch(pks: list[int], message: str, max_workers: int | None = None) -> dict[str, Any]:
    """Send ``message`` (encoded JSON) to the connected sessions among ``pks``; the
    result is ``BroadcastResult.summary()``."""
    queryset = WebSocketSession.objects.filter(pk__in=pks)
    result = send_encoded(queryset, message.encode(), max_workers=max_workers)
    metrics.batch_completed()
    return result.summary()


def enqueue_send(
    queryset: QuerySet[WebSocketSession],
    data: Any,
    *,
    batch_size: int | None = None,
    max_workers: int | None = None,
    queue_name: str | None = None,
    priority: int | None = None,
    backend: str | None = None,
) -> list[Any]:
    """Enqueue one ``send_batch`` task per ``batch_size`` connected sessions of
    ``queryset`` and return their task results.

    The message is encoded (and size-checked) once, here. The sessions are chosen now;
    the tasks read them again when they run, so a session that disconnected meanwhile
    is skipped. With a backend that runs tasks outside the current transaction (RQ,
    Celery), enqueue after the recipients are committed
    (``transaction.on_commit``).
    """
    message = encode_message(data).decode()
    if batch_size is not None and batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if max_workers is not None and max_workers < 1:
        raise ValueError("max_workers must be at least 1")
    choices: dict[str, Any] = {"queue_name": queue_name, "priority": priority, "backend": backend}
    batch_task = send_batch.using(**{k: v for k, v in choices.items() if v is not None})
    size = batch_size or conf.get_setting("send_batch_size")
    return metrics.batches_enqueued(
        [
            batch_task.enqueue([row[0] for row in page], message, max_workers)
            for page in recipient_pages(queryset, size)
        ]
    )
