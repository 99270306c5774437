"""Sessions that stop being connected, whichever way it is found out.

Every path that marks sessions disconnected goes through here: ``$disconnect``
(``sessions.close_session``), a 410 Gone answer to a post (one send, a fan-out, a
background batch), the liveness rules (expired, probed gone), an ended login, a
deleted gateway, the admin's action and the cleanup command. Each sends
:data:`sessions_disconnected` once the rows are marked, so what depends on who is
connected (presence) follows every one of them.
"""

from __future__ import annotations

from datetime import datetime

from django.dispatch import Signal
from django.utils import timezone

from .models import WebSocketSession

#: Sent after sessions were marked disconnected: ``sender=WebSocketSession``,
#: ``pks=[...]`` and, when the caller holds the rows as marked, ``sessions=[...]``.
sessions_disconnected = Signal()


def mark_gone(pks: list[int], now: datetime | None = None) -> int:
    """Mark the sessions disconnected in one statement (``now``: their ``updated_on``)."""
    if not pks:
        return 0
    marked = WebSocketSession.objects.filter(pk__in=pks).update(
        connected=False, updated_on=now or timezone.now()
    )
    sessions_disconnected.send(sender=WebSocketSession, pks=pks)
    return marked


def closed(sessions: list[WebSocketSession]) -> None:
    """Tell the receivers that ``sessions``, as just marked and returned, are closed."""
    sessions_disconnected.send(
        sender=WebSocketSession, pks=[s.pk for s in sessions], sessions=sessions
    )
