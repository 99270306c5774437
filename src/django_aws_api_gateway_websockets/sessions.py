"""Opening, finding and closing ``WebSocketSession`` rows, one statement each.

These are the only writes on the event path, so each is a single statement: a message
counts itself and reads session and user together, ``$disconnect`` closes and returns
the row, each in one ``UPDATE ... RETURNING``.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from ._sql import instance_from_row, related_columns, statement, table_and_columns
from .departures import closed, mark_gone
from .models import ApiGateway, WebSocketSession


def open_session(
    connection_id: str,
    channel_name: str,
    user_id: Any,
    gateway: ApiGateway | None,
    session_key_hash: str,
    auth_hash: str,
    presence: bool = False,
) -> WebSocketSession | None:
    """Insert the row of a new connection; ``None`` if the connection id exists.

    ``ON CONFLICT DO NOTHING`` instead of catching an ``IntegrityError``: an error
    would abort an enclosing transaction (``ATOMIC_REQUESTS``) and the caller still
    has to undo the token it spent.
    """
    now = timezone.now()
    session = WebSocketSession(
        connection_id=connection_id,
        channel_name=channel_name,
        user_id=user_id,
        api_gateway=gateway,
        session_key_hash=session_key_hash,
        auth_hash=auth_hash,
        presence=presence,
        created_on=now,
        updated_on=now,
    )
    values = [
        field.get_db_prep_save(getattr(session, field.attname), connection)
        for field in _inserted_fields()
    ]
    sql = statement(("open_session",), _open_sql)
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    if row is None:
        return None
    session.pk = row[0]
    session._state.adding = False
    session._state.db = connection.alias
    return session


def _inserted_fields() -> list[Any]:
    return [field for field in WebSocketSession._meta.concrete_fields if not field.primary_key]


def _open_sql() -> str:
    table, column = table_and_columns(WebSocketSession)
    fields = _inserted_fields()
    return (
        # Identifiers come from the model's metadata; values are parameters.
        f"INSERT INTO {table} "  # noqa: S608
        f"({', '.join(column[field.name] for field in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) "
        f"ON CONFLICT ({column['connection_id']}) DO NOTHING "
        f"RETURNING {column['id']}"
    )


def load_session(
    connection_id: str, gateway: ApiGateway | None, count: bool = True
) -> WebSocketSession | None:
    """The open session of this connection on this gateway, with its user, in one
    statement.

    With ``count`` the statement is an ``UPDATE ... RETURNING`` that also counts the
    message (``request_count``) and records its time (``updated_on``, the last
    activity); without, a plain ``SELECT``.
    """
    params: list[Any] = [connection_id, True]
    if gateway is not None:
        params.append(gateway.pk)
    if count:
        params.insert(0, connection.ops.adapt_datetimefield_value(timezone.now()))
    user_model = get_user_model()
    sql = statement(
        ("load_session", user_model._meta.label, gateway is None, count),
        lambda: _load_sql(gateway is None, count),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    split = len(WebSocketSession._meta.concrete_fields)
    session = instance_from_row(WebSocketSession, row[:split])
    if session is None:
        return None
    user = instance_from_row(user_model, row[split:])
    if user is not None:
        session.user = user  # cached on the session: reading it costs no query
    if gateway is not None:
        session.api_gateway = gateway
    return session


def _load_sql(without_gateway: bool, count: bool) -> str:
    table, column = table_and_columns(WebSocketSession)
    selected = [f"{table}.{column[field.name]}" for field in WebSocketSession._meta.concrete_fields]
    selected += related_columns(get_user_model(), f"{table}.{column['user']}")
    where = (
        f"{column['connection_id']} = %s AND {column['connected']} = %s "
        f"AND {column['api_gateway']} {'IS NULL' if without_gateway else '= %s'}"
    )
    if count:
        return (
            # Identifiers come from the model's metadata; values are parameters.
            f"UPDATE {table} SET {column['request_count']} = "  # noqa: S608
            f"{column['request_count']} + 1, {column['updated_on']} = %s "
            f"WHERE {where} RETURNING {', '.join(selected)}"
        )
    return f"SELECT {', '.join(selected)} FROM {table} WHERE {where} LIMIT 1"  # noqa: S608


def close_session(connection_id: str, gateway: ApiGateway | None) -> WebSocketSession | None:
    """Mark the connection's session disconnected and return it (``None`` if unknown),
    in one ``UPDATE ... RETURNING``."""
    # Outside a transaction of the caller's, on PostgreSQL, the statement commits without
    # waiting for the disk: $disconnect is best effort, and a row a crash leaves
    # connected is what a lost $disconnect leaves, which liveness probes settle.
    lazy_commit = connection.vendor == "postgresql" and connection.get_autocommit()
    sql = statement(
        ("close_session", gateway is None, lazy_commit),
        lambda: _close_sql(gateway is None, lazy_commit),
    )
    params: list[Any] = [
        False,
        connection.ops.adapt_datetimefield_value(timezone.now()),
        connection_id,
    ]
    if gateway is not None:
        params.append(gateway.pk)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    session = instance_from_row(WebSocketSession, row)
    if session is None:
        return None
    if gateway is not None:
        session.api_gateway = gateway
    closed([session])
    return session


def _close_sql(without_gateway: bool, lazy_commit: bool) -> str:
    table, column = table_and_columns(WebSocketSession)
    concrete = WebSocketSession._meta.concrete_fields
    return (
        # Identifiers come from the model's metadata; values are parameters.
        f"UPDATE {table} SET {column['connected']} = %s, "  # noqa: S608
        f"{column['updated_on']} = %s "
        f"WHERE {column['connection_id']} = %s "
        f"AND {column['api_gateway']} {'IS NULL' if without_gateway else '= %s'} "
        # Local to the statement's own transaction: asynchronous commit for this write.
        + ("AND set_config('synchronous_commit', 'off', true) = 'off' " if lazy_commit else "")
        + f"RETURNING {', '.join(column[field.name] for field in concrete)}"
    )


def end_session(session: WebSocketSession) -> None:
    """Mark one session disconnected (its login ended)."""
    now = timezone.now()
    mark_gone([session.pk], now)
    session.connected, session.updated_on = False, now


def move_session(session: WebSocketSession, channel_name: str, presence: bool = False) -> None:
    """Put the session in another channel (``presence``: one that keeps presence)."""
    now = timezone.now()
    changes: dict[str, Any] = {"channel_name": channel_name, "updated_on": now}
    if presence and not session.presence:
        changes["presence"] = session.presence = True
    WebSocketSession.objects.filter(pk=session.pk).update(**changes)
    session.channel_name = channel_name
    session.updated_on = now
