"""The connection table: which ids exist, since when, and when each must close."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from .config import Limits

#: Close code and reason API Gateway uses when it ends a connection itself.
GOING_AWAY = 1001


class State(Enum):
    #: The handshake is held while Django answers ``$connect``; posts to it get 410.
    PENDING = "pending"
    OPEN = "open"


def new_connection_id() -> str:
    """An id shaped like API Gateway's (16 characters, e.g. ``L0SM9cOFvHcCIhw=``),
    from the alphabet Django's views accept."""
    return base64.urlsafe_b64encode(os.urandom(11)).decode()


@dataclass
class Connection:
    connection_id: str
    source_ip: str
    user_agent: str
    connected_at: float
    last_active_at: float
    state: State = State.PENDING
    #: The I/O layer's object that delivers to this client; the core never touches it.
    sink: Any = field(default=None, repr=False, compare=False)

    def touch(self, now: float) -> None:
        self.last_active_at = now

    def deadline(self, limits: Limits) -> tuple[float | None, str]:
        """When the gateway must close this connection, and why."""
        candidates = []
        if limits.idle_timeout:
            candidates.append((self.last_active_at + limits.idle_timeout, "Idle timeout"))
        if limits.max_duration:
            candidates.append((self.connected_at + limits.max_duration, "Connection duration"))
        if not candidates:
            return None, ""
        return min(candidates)


class ConnectionTable:
    """Live connections by id. A removed id is gone for good, as in AWS."""

    def __init__(self) -> None:
        self._connections: dict[str, Connection] = {}

    def __len__(self) -> int:
        return len(self._connections)

    def __contains__(self, connection_id: object) -> bool:
        return connection_id in self._connections

    def add(self, connection: Connection) -> None:
        if connection.connection_id in self._connections:
            raise ValueError(f"Connection {connection.connection_id} exists already.")
        self._connections[connection.connection_id] = connection

    def get_open(self, connection_id: str) -> Connection | None:
        """The connection if its handshake is complete; ``None`` means 410 Gone."""
        connection = self._connections.get(connection_id)
        return connection if connection is not None and connection.state is State.OPEN else None

    def remove(self, connection_id: str) -> Connection | None:
        return self._connections.pop(connection_id, None)

    def open_connections(self) -> list[Connection]:
        return [c for c in self._connections.values() if c.state is State.OPEN]
