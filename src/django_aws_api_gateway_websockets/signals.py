"""Signal receivers: close sessions whose login or gateway ended; and the signals the
package sends."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_save, pre_delete
from django.dispatch import Signal, receiver

from .departures import mark_gone
from .models import ApiGateway
from .revocation import end_login, user_saved


@receiver(user_logged_out, dispatch_uid="ws_close_sessions_on_logout")
def close_sessions_on_logout(sender: Any, request: Any = None, **kwargs: Any) -> None:
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if session_key:
        end_login(session_key)


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="ws_close_stale_logins")
def close_stale_logins(
    sender: Any,
    instance: Any,
    created: bool = False,
    update_fields: Any = None,
    raw: bool = False,
    **kwargs: Any,
) -> None:
    if not raw:  # fixtures being loaded
        user_saved(instance, created, update_fields)


@receiver(pre_delete, sender=ApiGateway, dispatch_uid="ws_close_sessions_of_deleted_gateway")
def close_sessions_of_deleted_gateway(sender: Any, instance: ApiGateway, **kwargs: Any) -> None:
    mark_gone(list(instance.sessions.filter(connected=True).values_list("pk", flat=True)))


#: Sent once when a background send has finished (every batch done), from the worker
#: that finished the last batch: ``sender=SendRecord, record=<the SendRecord>``, with
#: its final counts.
send_completed = Signal()
