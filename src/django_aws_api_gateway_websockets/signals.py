"""Signal receivers: close sessions whose login or gateway ended; and the signals the
package sends."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import pre_delete
from django.dispatch import Signal, receiver
from django.utils import timezone

from .hashing import session_key_hashes
from .models import ApiGateway, WebSocketSession


@receiver(user_logged_out, dispatch_uid="ws_close_sessions_on_logout")
def close_sessions_on_logout(sender: Any, request: Any = None, **kwargs: Any) -> None:
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if not session_key:
        return
    WebSocketSession.objects.filter(
        connected=True, session_key_hash__in=session_key_hashes(session_key)
    ).update(connected=False, updated_on=timezone.now())


@receiver(pre_delete, sender=ApiGateway, dispatch_uid="ws_close_sessions_of_deleted_gateway")
def close_sessions_of_deleted_gateway(sender: Any, instance: ApiGateway, **kwargs: Any) -> None:
    instance.sessions.filter(connected=True).update(connected=False, updated_on=timezone.now())


#: Sent once when a background send has finished (every batch done), from the worker
#: that finished the last batch: ``sender=SendRecord, record=<the SendRecord>``, with
#: its final counts.
send_completed = Signal()
