"""Single-use connect tokens: issue, consume (one atomic statement), clean up.

The browser gets a random 64-hex token; the database keeps only its SHA-256, so a leak
of the table (or of a backup) gives no usable token. A token is bound to a keyed hash
of the Django session key and carries the user's auth hash, so consuming it tells the
connect view everything it needs without loading the user.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from ._sql import instance_from_row, related_columns, statement, table_and_columns
from .batches import delete_in_batches
from .hashing import hash_session_key, hash_user_auth, session_key_hashes
from .models import WebSocketToken

TOKEN_PATTERN = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class ConsumedToken:
    """What a spent token proves: who (loaded by the same statement), and their auth hash
    when it was issued."""

    user_id: Any
    auth_hash: str
    #: The token's user as the database holds it now (``None`` if deleted).
    user: Any = None
    #: The value of the caller's extra expression (see :func:`consume_token`).
    extra: Any = None


def hash_token(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode()).hexdigest()


def issue_token(user: Any, session_key: str) -> WebSocketToken:
    """Store a new token for ``user`` bound to ``session_key``.

    The returned row's ``token`` attribute holds the raw token to give the client;
    the database holds its hash. Do not save the returned row again.
    """
    raw = secrets.token_hex(32)
    row = WebSocketToken.objects.create(
        token=hash_token(raw),
        user=user,
        session_key=hash_session_key(session_key),
        auth_hash=hash_user_auth(user),
    )
    row.token = raw
    return row


@sensitive_variables("token_value")
def consume_token(
    token_value: Any,
    session_key: str,
    max_age_seconds: int,
    extra: tuple[str, list[Any]] | None = None,
) -> ConsumedToken | None:
    """Spend the token if it is unused, fresh and bound to this session.

    One ``UPDATE ... RETURNING`` statement, which also reads the token's user: of any
    number of concurrent consumers exactly one gets the row. Session-key hashes made
    with ``SECRET_KEY_FALLBACKS`` are accepted, so rotating the key does not void
    tokens in flight. ``extra`` (a scalar SQL expression and its parameters) is read by
    the same statement, saving the caller a round trip.
    """
    if not isinstance(token_value, str) or not TOKEN_PATTERN.fullmatch(token_value):
        return None
    if not session_key:
        return None
    hashes = session_key_hashes(session_key)
    cutoff = timezone.now() - timedelta(seconds=max_age_seconds)
    user_model = get_user_model()
    extra_sql = extra[0] if extra is not None else None
    sql = statement(
        ("consume_token", user_model._meta.label, len(hashes), extra_sql),
        lambda: _consume_sql(user_model, len(hashes), extra_sql),
    )
    params = [
        True,
        hash_token(token_value),
        False,
        connection.ops.adapt_datetimefield_value(cutoff),
        *hashes,
        *(extra[1] if extra is not None else ()),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    user_end = len(row) - (extra is not None)
    return ConsumedToken(
        user_id=row[0],
        auth_hash=row[1],
        user=instance_from_row(user_model, row[2:user_end]),
        extra=row[user_end] if extra is not None else None,
    )


def _consume_sql(user_model: Any, hash_count: int, extra_sql: str | None) -> str:
    table, column = table_and_columns(WebSocketToken)
    returned = [column["user"], column["auth_hash"]]
    returned += related_columns(user_model, f"{table}.{column['user']}")
    if extra_sql is not None:
        returned.append(extra_sql)
    return (
        # Identifiers come from the model's metadata; values are parameters.
        f"UPDATE {table} SET {column['used']} = %s "  # noqa: S608
        f"WHERE {column['token']} = %s AND {column['used']} = %s "
        f"AND {column['created_at']} >= %s "
        f"AND {column['session_key']} IN ({', '.join(['%s'] * hash_count)}) "
        f"RETURNING {', '.join(returned)}"
    )


@sensitive_variables("token_value")
def restore_token(token_value: str) -> None:
    """Make a token spent by a connect that was then refused usable again."""
    WebSocketToken.objects.filter(token=hash_token(token_value), used=True).update(used=False)


@sensitive_variables("token_value")
def consume_token_user(token_value: Any, session_key: str, max_age_seconds: int = 60) -> Any:
    """The token's user if the token was valid and is now spent, else ``None``."""
    consumed = consume_token(token_value, session_key, max_age_seconds)
    return consumed.user if consumed is not None else None


def delete_tokens_older_than(max_age_seconds: int) -> tuple[int, dict[str, int]]:
    """Delete tokens (used or not) created more than ``max_age_seconds`` ago, in batches;
    the count and the count per model, as Django's ``delete()`` gives them."""
    cutoff = timezone.now() - timedelta(seconds=max_age_seconds)
    deleted = delete_in_batches(WebSocketToken.objects.filter(created_at__lt=cutoff))
    return deleted, {WebSocketToken._meta.label: deleted}
