"""Which sessions still have a connection behind them.

API Gateway's ``$disconnect`` is best effort, and a crash during ``$connect`` can leave a
row behind, so rows can say "connected" for connections that are gone. Two rules find
them, each in a fixed number of statements per batch:

* No connection outlives API Gateway's two-hour cap (``session_max_age_seconds``):
  older rows are marked disconnected without asking AWS.
* API Gateway closes a connection that is silent for ten minutes
  (``session_idle_seconds``): rows with no activity (``updated_on``) for longer are
  asked about with ``GET @connections/{id}``, and those API Gateway answers 410 Gone for
  are marked disconnected.

:func:`check_liveness` runs both; the ``probeWebSocketSessions`` command and the
:data:`probe_sessions` task run it from any scheduler.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from django.utils import timezone

from .conf import get_setting
from .departures import mark_gone
from .messaging.policy import Verdict
from .messaging.recipients import recipient_pages
from .models import WebSocketSession
from .task_framework import task


@dataclass
class Liveness:
    """What one run found."""

    #: Marked disconnected for being older than API Gateway's cap (no AWS call).
    expired: int = 0
    #: Silent sessions asked about with ``GET @connections/{id}``.
    probed: int = 0
    #: Of those, the ones API Gateway no longer holds, now marked disconnected.
    gone: int = 0
    #: Of those, the ones whose probe failed (left as they are, asked again next run).
    failed: int = 0
    #: Silent sessions without a gateway, which cannot be asked about.
    skipped: int = 0


def expire_sessions(batch_size: int | None = None) -> int:
    """Mark sessions opened longer ago than ``session_max_age_seconds`` disconnected."""
    cutoff = timezone.now() - timedelta(seconds=get_setting("session_max_age_seconds"))
    stale = WebSocketSession.objects.filter(created_on__lt=cutoff)
    size = batch_size or get_setting("send_batch_size")
    return sum(mark_gone([row[0] for row in page]) for page in recipient_pages(stale, size))


def probe_silent_sessions(batch_size: int | None = None, into: Liveness | None = None) -> Liveness:
    """Ask API Gateway about sessions silent for longer than ``session_idle_seconds``
    and mark the gone ones disconnected: a page read and one UPDATE per batch."""
    from .messaging.connections import probe_connections  # AWS code: imported on first use

    result = into or Liveness()
    cutoff = timezone.now() - timedelta(seconds=get_setting("session_idle_seconds"))
    silent = WebSocketSession.objects.filter(updated_on__lt=cutoff)
    for page in recipient_pages(silent, batch_size or get_setting("send_batch_size")):
        reachable = [row for row in page if row[2] is not None]
        result.skipped += len(page) - len(reachable)
        verdicts = probe_connections(reachable)
        result.probed += len(verdicts)
        result.gone += mark_gone([pk for pk, v in verdicts.items() if v is Verdict.GONE])
        result.failed += sum(v is Verdict.FAILED for v in verdicts.values())
    return result


def check_liveness(batch_size: int | None = None) -> Liveness:
    """Expire sessions past the cap, then probe the silent ones."""
    result = Liveness(expired=expire_sessions(batch_size))
    return probe_silent_sessions(batch_size, into=result)


@task()
def probe_sessions(batch_size: int | None = None) -> dict[str, Any]:
    """:func:`check_liveness` as a task of Django's task framework; the result is the
    counts of :class:`Liveness`."""
    return asdict(check_liveness(batch_size))
