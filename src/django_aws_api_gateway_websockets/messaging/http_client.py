"""Kept-alive HTTP/1.1 connections to the Management API, for the sending loop.

A post is small and its answer is a status line and a few headers, so a general HTTP
client spends most of a post's CPU on machinery these requests never use. Here a
request is one ``write`` of bytes built from a template, and an answer is parsed just
far enough to know its status, its request id and where it ends. One request at a time
per connection (the Management API speaks HTTP/1.1 only); idle connections are reused
newest first and dropped after ``IDLE_SECONDS``.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import deque
from urllib.parse import urlsplit

from .policy import Failure

#: How long an idle connection is kept for reuse (below the usual server-side idle
#: timeouts, so that a reused connection is rarely one the server is closing).
IDLE_SECONDS = 10.0

#: An answer: status (``None`` without one), why there was none, the request id.
Answer = tuple["int | None", "Failure | None", str]


class _AnswerError(Exception):
    """The connection cannot carry an answer: it broke, or the answer is malformed."""


class HttpConnection(asyncio.Protocol):
    """One connection; ``request`` sends a request and waits for its answer."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self._buffer = bytearray()
        self._waiter: asyncio.Future[tuple[int, str]] | None = None
        self._head: tuple[int, str, int, bool] | None = None  # status, id, length, chunked
        self._reusable = True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._settle(_AnswerError("connection lost"))

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    @property
    def reusable(self) -> bool:
        return self._reusable and self.open

    @property
    def open(self) -> bool:
        """Neither side has begun to close the connection."""
        return not (self.closed or self.transport is None or self.transport.is_closing())

    async def request(self, data: bytes, timeout: float) -> tuple[int, str]:
        """Write ``data`` (a whole request) and return the answer's status and id."""
        assert self.transport is not None
        loop = asyncio.get_running_loop()
        self._waiter = waiter = loop.create_future()
        self._head, self._reusable = None, True
        self.transport.write(data)
        timer = loop.call_later(timeout, self._settle, TimeoutError())
        try:
            return await waiter
        finally:
            timer.cancel()
            self._waiter = None

    def data_received(self, data: bytes) -> None:
        if self._waiter is None:  # nothing was asked
            self.close()
            return
        self._buffer += data
        try:
            self._parse()
        except (ValueError, IndexError):
            self._settle(_AnswerError("malformed answer"))
            self.close()

    def _parse(self) -> None:
        buffer = self._buffer
        if self._head is None:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            lines = bytes(buffer[:end]).split(b"\r\n")
            del buffer[: end + 4]
            status = int(lines[0].split(b" ", 2)[1])
            length, chunked, request_id = -1, False, ""
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"transfer-encoding":
                    chunked = b"chunked" in value.lower()
                elif name == b"x-amzn-requestid":
                    request_id = value.strip().decode("latin-1")
                elif name == b"connection" and b"close" in value.lower():
                    self._reusable = False
            if chunked:
                length = -1
            elif length < 0:
                # Without a length the answer ends when the connection does; the
                # Management API always sends one, so such a connection is not reused.
                length, self._reusable = 0, False
            self._head = (status, request_id, length, chunked)
        status, request_id, length, chunked = self._head
        if chunked:
            if not self._drop_chunks():
                return
        elif len(buffer) < length:
            return
        else:
            del buffer[:length]
        if buffer:  # bytes after the answer: nothing was asked for them
            self._reusable = False
        self._head = None
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result((status, request_id))

    def _drop_chunks(self) -> bool:
        """Consume complete chunks; whether the last one (and its trailers) arrived."""
        buffer = self._buffer
        while True:
            end = buffer.find(b"\r\n")
            if end < 0:
                return False
            size = int(bytes(buffer[:end]).split(b";", 1)[0], 16)
            if size == 0:
                trailer_end = buffer.find(b"\r\n\r\n", end)
                if trailer_end < 0:
                    return False
                del buffer[: trailer_end + 4]
                return True
            if len(buffer) < end + 2 + size + 2:
                return False
            del buffer[: end + 2 + size + 2]

    def _settle(self, error: Exception) -> None:
        self._reusable = False
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(error)


class ConnectionPool:
    """Idle connections per origin (``scheme://host:port``), on one event loop."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self._idle: dict[str, deque[HttpConnection]] = {}
        # Certificates verified against the system's trust store, as any HTTPS client.
        self._tls = tls or ssl.create_default_context()
        self._origins: dict[str, tuple[str, str, int, bool]] = {}

    def _origin(self, url: str) -> tuple[str, str, int, bool]:
        """(origin, host name, port, TLS) of ``url``, remembered per origin."""
        origin = url[: url.index("/", url.index("//") + 2)]
        found = self._origins.get(origin)
        if found is None:
            parts = urlsplit(origin)
            tls = parts.scheme == "https"
            host = parts.hostname or ""
            found = self._origins[origin] = (origin, host, parts.port or (443 if tls else 80), tls)
        return found

    async def _acquire(self, url: str, timeout: float) -> tuple[str, HttpConnection]:
        origin, host, port, tls = self._origin(url)
        idle = self._idle.get(origin)
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            if now - connection.idle_since > IDLE_SECONDS:
                connection.close()
                for stale in idle:  # the others have been idle even longer
                    stale.close()
                idle.clear()
            elif connection.open:
                return origin, connection
        loop = asyncio.get_running_loop()
        _, connection = await asyncio.wait_for(
            loop.create_connection(
                HttpConnection,
                host,
                port,
                ssl=self._tls if tls else None,
                server_hostname=host if tls else None,
            ),
            timeout,
        )
        return origin, connection

    def _release(self, origin: str, connection: HttpConnection) -> None:
        if connection.reusable:
            connection.idle_since = time.monotonic()
            self._idle.setdefault(origin, deque()).append(connection)
        else:
            connection.close()

    async def post(self, url: str, headers: dict[str, str], body: bytes, timeout: float) -> Answer:
        """``POST url``; the answer, or why there was none."""
        try:
            origin, connection = await self._acquire(url, timeout)
        except (OSError, TimeoutError, asyncio.TimeoutError):  # ssl.SSLError is an OSError
            return None, Failure.CONNECT, ""
        path = url[len(origin) :]
        lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        head = f"POST {path} HTTP/1.1\r\n{lines}Content-Length: {len(body)}\r\n\r\n"
        try:
            status, request_id = await connection.request(head.encode("latin-1") + body, timeout)
        except (TimeoutError, asyncio.TimeoutError):
            connection.close()
            return None, Failure.TIMEOUT, ""
        except _AnswerError:
            connection.close()
            return None, Failure.RESET, ""
        self._release(origin, connection)
        return status, None, request_id

    def close(self) -> None:
        for idle in self._idle.values():
            for connection in idle:
                connection.close()
        self._idle.clear()
