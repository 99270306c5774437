"""Ending the connections of a login that ended: logout, password change, deactivation.

A connection lives as long as the Django login behind it. When that login ends, the
user's unused tokens are spent and the sessions are marked disconnected at once, in
the caller's transaction (a rolled-back change closes nothing); the connections
themselves are closed through the Management API (``DELETE @connections/{id}``) by a
task enqueued after commit, so the request does not wait for API Gateway (with the
task framework's default immediate backend the task runs at commit, in process).

A password change keeps the connections of the Django session that made it when
:class:`~django_aws_api_gateway_websockets.middleware.LoginRevocationMiddleware` is
installed and the view keeps that session (``update_session_auth_hash``), as Django
does; every other connection of the user with the old password ends.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import Any

from django.contrib.auth import HASH_SESSION_KEY
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.crypto import constant_time_compare

from .departures import mark_gone
from .hashing import hash_session_key, hash_user_auth, session_key_hashes, user_auth_hashes
from .messaging.policy import Verdict
from .models import WebSocketSession, WebSocketToken
from .task_framework import task

logger = logging.getLogger(__name__)

#: The request being handled, set by ``LoginRevocationMiddleware``.
current_request: ContextVar[HttpRequest | None] = ContextVar("websockets_request", default=None)

#: User fields whose change can end a login.
LOGIN_FIELDS = frozenset({"password", "is_active"})


def end_login(session_key: str) -> int:
    """The Django session ``session_key`` ended (logout): spend its tokens, close its
    connections. The number of sessions closed."""
    hashes = session_key_hashes(session_key)
    WebSocketToken.objects.filter(session_key__in=hashes, used=False).update(used=True)
    return _close(WebSocketSession.objects.filter(session_key_hash__in=hashes))


def end_stale_logins(user: Any) -> int:
    """Close what ``user`` opened under a login that no longer stands: everything when
    the user is inactive, else what was opened before the password last changed."""
    tokens = WebSocketToken.objects.filter(user=user, used=False)
    sessions = WebSocketSession.objects.filter(user=user)
    if user.is_active:
        current = user_auth_hashes(user)
        if not current:  # a user model without auth hashes: nothing can be stale
            return 0
        # An empty hash was stored for a user model without auth hashes: never stale.
        tokens = tokens.exclude(auth_hash__in=[*current, ""])
        sessions = sessions.exclude(auth_hash__in=[*current, ""])
    tokens.update(used=True)
    return _close(sessions)


def keep_login(user: Any, old_session_key: str, new_session_key: str) -> int:
    """Carry the connections of Django session ``old_session_key`` over to its new key
    and the user's new auth hash (the session that changed the password stays)."""
    return WebSocketSession.objects.filter(
        user=user, connected=True, session_key_hash__in=session_key_hashes(old_session_key)
    ).update(session_key_hash=hash_session_key(new_session_key), auth_hash=hash_user_auth(user))


def user_saved(user: Any, created: bool, update_fields: Any) -> None:
    """React to a saved user: a changed password or a deactivation ends logins."""
    if created or (update_fields is not None and not LOGIN_FIELDS & set(update_fields)):
        return
    request = current_request.get()
    if request is not None and user.is_active and _own_session(request, user):
        # Decided once the view is done: it may keep its session (Django's
        # update_session_auth_hash), and then that session's connections stay.
        changed = request.__dict__.setdefault("_websockets_changed_users", {})
        changed[user.pk] = type(user)
        return
    end_stale_logins(user)


def settle_request(request: HttpRequest, old_session_key: str | None) -> None:
    """End the logins a password change in ``request`` ended, keeping the request's own
    session when the view kept it."""
    changed: dict[Any, Any] = getattr(request, "_websockets_changed_users", {})
    for pk, model in changed.items():
        user = model._default_manager.filter(pk=pk).first()  # as committed
        if user is None:
            continue
        session = request.session  # type: ignore[attr-defined]
        new_key = session.session_key
        if (
            old_session_key
            and new_key
            and user.is_active
            and constant_time_compare(
                session.get(HASH_SESSION_KEY, ""), user.get_session_auth_hash()
            )
        ):
            keep_login(user, old_session_key, new_key)
        end_stale_logins(user)


def _own_session(request: HttpRequest, user: Any) -> bool:
    session = getattr(request, "session", None)
    request_user = getattr(request, "user", None)
    return bool(
        session is not None
        and session.session_key
        and request_user is not None
        and request_user.is_authenticated
        and request_user.pk == user.pk
    )


def _close(sessions: QuerySet[WebSocketSession]) -> int:
    rows = list(
        sessions.filter(connected=True).values_list("pk", "connection_id", "api_gateway_id")
    )
    if not rows:
        return 0
    mark_gone([row[0] for row in rows])
    reachable = [list(row) for row in rows if row[2] is not None]
    if reachable:
        transaction.on_commit(lambda: _enqueue_close(reachable))
    return len(rows)


def _enqueue_close(rows: list[list[Any]]) -> None:
    try:
        close_connections_task.enqueue(rows)
    except Exception:  # the rows are closed already; the sockets end at 2 h at worst
        logger.exception("Could not enqueue closing %d connection(s)", len(rows))


@task()
def close_connections_task(rows: list[list[Any]]) -> dict[str, int]:
    """``DELETE @connections/{id}`` for each ``[pk, connection_id, gateway_id]``."""
    from .messaging.connections import close_connections  # AWS code: imported on first use

    try:
        verdicts = close_connections((row[0], row[1], row[2]) for row in rows)
    except Exception:
        logger.exception("Could not close %d connection(s)", len(rows))
        raise
    return {
        "closed": sum(v is Verdict.SENT for v in verdicts.values()),
        "gone": sum(v is Verdict.GONE for v in verdicts.values()),
        "failed": sum(v is Verdict.FAILED for v in verdicts.values()),
    }
