"""What ``$connect`` decides: token, login still valid, limits, channel; then the session.

:func:`admit` takes a validated :class:`~.events.Event` and returns the new
``WebSocketSession`` or a :class:`Refusal`; the view only adapts HTTP. Its writes
(spend the token, count the attempt, insert the session) run in one transaction: one
commit instead of three, the latency of a connect on a database whose commits wait for
the disk. What a refusal must undo is decided by how the transaction ends:

* a server failure (any exception, a duplicate connection id), a stale login or the
  limit rolls back: the token and the count are given back;
* an attempt that passed the connection limit and is then refused for another reason
  (a forbidden channel, a refusing hook) still counts, as in 4.1.0, so nobody can probe
  protected channels without limit: the token is put back and the count committed.

Rows are locked in one order (the token, the limit's IP key, its user key, the
session's connection id) and held until the commit, so concurrent connects wait for
each other and never deadlock. The Django session (is the login still valid?) is read
by the statement that spends the token when Django's database store keeps it, saving a
round trip and the ORM's query; other stores load it before the transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.base import SessionBase
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import connection, transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from ._sql import statement, table_and_columns
from .events import Event
from .hashing import hash_session_key, hash_user_auth
from .models import ApiGateway, WebSocketSession
from .presence import is_presence_channel
from .ratelimit import count_connection
from .sessions import open_session
from .tokens import consume_token, restore_token

logger = logging.getLogger(__name__)

#: Machine-readable reasons of refusals. The token view answers with the first five
#: (a contract of the JavaScript client), the connect route uses the same codes.
NOT_AUTHENTICATED = "not_authenticated"
FORBIDDEN_CHANNEL = "forbidden_channel"
INVALID_CHANNEL = "invalid_channel"
BAD_ORIGIN = "bad_origin"
RATE_LIMITED = "rate_limited"
METHOD_NOT_ALLOWED = "method_not_allowed"
INVALID_TOKEN = "invalid_token"
REFUSED = "refused"
DUPLICATE_CONNECTION = "duplicate_connection"
#: All of them: the only values a ``reason`` label of a metric can take.
REASONS = frozenset(
    {
        NOT_AUTHENTICATED,
        FORBIDDEN_CHANNEL,
        INVALID_CHANNEL,
        BAD_ORIGIN,
        RATE_LIMITED,
        METHOD_NOT_ALLOWED,
        INVALID_TOKEN,
        REFUSED,
        DUPLICATE_CONNECTION,
    }
)


@dataclass(frozen=True)
class Refusal:
    """Why a connection is not admitted: an HTTP status, 4.1.0's plain-text message and a
    machine-readable reason."""

    status: int
    message: str
    reason: str
    #: Seconds until a rate-limited client may try again (0 otherwise).
    retry_after: int = 0


@dataclass(frozen=True)
class Policy:
    """The view's connection rules."""

    use_token: bool
    token_max_age: int
    #: Connections per window; ``None`` when the view does not limit connections.
    limit: int | None
    window_minutes: int
    ipv6_prefix: int


@dataclass(frozen=True)
class Caller:
    """Who is behind the handshake: the Django session of its cookie, and for views
    without tokens the user Django's middleware found."""

    session_key: str
    session: SessionBase | None
    user: Any = None


#: The view's own checks (permissions, channel, hook), given the user: a refusal or None.
Checks = Callable[[Any], "Refusal | None"]


def login_is_current(session: SessionBase | None, user: Any) -> bool:
    """Whether ``session`` is still the login of the active ``user``: what
    ``django.contrib.auth.get_user`` verifies on every request (the session names the
    user and a configured backend, and holds the user's current auth hash)."""
    if session is None or user is None or not getattr(user, "is_active", True):
        return False
    stored_id = session.get(SESSION_KEY)
    backend = session.get(BACKEND_SESSION_KEY)
    if stored_id is None or backend not in settings.AUTHENTICATION_BACKENDS:
        return False
    if str(stored_id) != user._meta.pk.value_to_string(user):
        return False
    get_hash = getattr(user, "get_session_auth_hash", None)
    if get_hash is None:
        return True
    stored_hash = session.get(HASH_SESSION_KEY)
    if not stored_hash:
        return False
    fallbacks = getattr(user, "get_session_auth_fallback_hash", None)
    candidates = [get_hash(), *(fallbacks() if fallbacks is not None else ())]
    return any(constant_time_compare(stored_hash, candidate) for candidate in candidates)


def _session_read(session: SessionBase | None) -> tuple[str, list[Any]] | None:
    """The data of a Django session kept by Django's database store and not loaded yet,
    as a scalar subquery (with its parameters) for the statement that spends the token;
    ``None`` for other stores, which load it themselves."""
    if (
        not isinstance(session, DatabaseSessionStore)
        or type(session).load is not DatabaseSessionStore.load
        or hasattr(session, "_session_cache")
        or not session.session_key
    ):
        return None
    model = session.model
    sql = statement(("session_read", model._meta.label), lambda: _session_read_sql(model))
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    return sql, [session.session_key, now]


def _session_read_sql(model: Any) -> str:
    table, column = table_and_columns(model)
    return (
        # Identifiers come from the model's metadata; values are parameters.
        f"(SELECT {column['session_data']} FROM {table} "  # noqa: S608
        f"WHERE {column['session_key']} = %s AND {column['expire_date']} > %s)"
    )


def _session_loaded(session: SessionBase, data: str | None) -> None:
    """Give ``session`` the data read for it, as its store's ``load()`` would have: an
    unknown or expired session is empty and loses its key."""
    if data is None:
        session._session_key = None  # type: ignore[attr-defined]
    session._session_cache = session.decode(data) if data is not None else {}  # type: ignore[attr-defined]
    session.accessed = True


#: Refusals that keep the attempt's count (the token is given back by a statement).
_COUNTED = frozenset({FORBIDDEN_CHANNEL, REFUSED})


def admit(
    event: Event,
    channel: str,
    gateway: ApiGateway | None,
    policy: Policy,
    caller: Caller,
    checks: Checks,
) -> WebSocketSession | Refusal:
    """Admit the connection of ``event`` to ``channel``, or say why not."""
    read = None
    if policy.use_token:
        if not caller.session_key:
            return Refusal(400, "Invalid session", NOT_AUTHENTICATED)
        read = _session_read(caller.session)
        if read is None and caller.session is not None:
            # Read before the transaction, so no lock waits on it (SQLite locks the
            # whole database from the first write to the commit).
            caller.session.get(SESSION_KEY)

    def decide() -> WebSocketSession | Refusal:
        if policy.use_token:
            consumed = consume_token(event.ws_token, caller.session_key, policy.token_max_age, read)
            if consumed is None:
                return Refusal(400, "Invalid or expired token", INVALID_TOKEN)
            if read is not None and caller.session is not None:
                _session_loaded(caller.session, consumed.extra)
            user = consumed.user
            if not login_is_current(caller.session, user):
                return Refusal(400, "Invalid session", NOT_AUTHENTICATED)
        else:
            known = caller.user
            user = known if known is not None and known.is_authenticated else None
        user_id = user.pk if user is not None else None
        if policy.limit is not None:
            counted = count_connection(
                event.client_ip, user_id, policy.limit, policy.window_minutes, policy.ipv6_prefix
            )
            if not counted.admitted:
                return Refusal(
                    400,
                    "Too many connection attempts",
                    RATE_LIMITED,
                    retry_after=counted.retry_after,
                )
        refusal = checks(user)
        if refusal is not None:
            return refusal
        session = open_session(
            event.connection_id,
            channel,
            user_id,
            gateway,
            hash_session_key(caller.session_key) if caller.session_key else "",
            hash_user_auth(user) if user is not None else "",
            presence=user_id is not None and is_presence_channel(channel),
        )
        if session is None:
            logger.warning("Refused a duplicate connection id")
            return Refusal(409, "Duplicate connection ID", DUPLICATE_CONNECTION)
        return session

    if not policy.use_token and policy.limit is None:
        # The session's insert is the only write: nothing to undo, no transaction.
        return decide()
    # An exception rolls back and goes on: the token and the count are given back.
    with transaction.atomic():
        decision = decide()
        if isinstance(decision, Refusal):
            if decision.reason in _COUNTED and policy.use_token:
                restore_token(event.ws_token)
            elif decision.reason not in _COUNTED:
                transaction.set_rollback(True)
    return decision
