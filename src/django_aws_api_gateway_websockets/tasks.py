"""The package's tasks, where task runners that discover ``<app>.tasks`` modules (Celery's
``autodiscover_tasks``) find them."""

from .messaging.background import requeue_stalled_batches, send_batch

__all__ = ["requeue_stalled_batches", "send_batch"]
