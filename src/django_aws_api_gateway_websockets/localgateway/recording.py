"""A recording Management API for tests: the local gateway's ``@connections``
implementation on a real HTTP server (ephemeral port, own thread), with connections
that a test opens and closes and messages kept one by one per connection.

Unlike a mock, it answers as AWS does: 410 for ids that were never opened or are closed,
413 over 128 KB, 429 over the configured rate or when a test asks for it, 403 without a
SigV4 signature, and with ``credentials`` 403 for a signature they do not verify.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from . import httpio
from .config import Credentials, Limits
from .connections import Connection, ConnectionTable, State, new_connection_id
from .limits import rate_limit
from .management import Deliver, Disconnect, ManagementApi, Response, error_response


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    connection_id: str
    status: int
    body: bytes


class _Recorder:
    """Stands where a WebSocket would be: keeps what was delivered."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []

    def send(self, data: bytes) -> None:
        self.messages.append(data)

    def buffered_bytes(self) -> int:
        return 0


class RecordingManagementApi:
    """``start()`` it, point ``WEBSOCKETS["management_endpoint_url"]`` at
    :attr:`endpoint_template`, :meth:`connect` the ids your sessions use, then read
    :meth:`messages`. Any stage is accepted."""

    def __init__(
        self,
        limits: Limits | None = None,
        host: str = "127.0.0.1",
        credentials: Credentials | None = None,
    ) -> None:
        self.limits = limits or Limits()
        self.host = host
        self.port = 0
        self._lock = threading.Lock()
        self._table = ConnectionTable()
        self._api = ManagementApi(
            None, self._table, self.limits, now=time.time(), credentials=credentials
        )
        self._recorders: dict[str, _Recorder] = defaultdict(_Recorder)
        self._forced: list[int] = []
        self.requests: list[RecordedRequest] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    # Lifecycle ---------------------------------------------------------------------

    @property
    def endpoint_template(self) -> str:
        """The value for ``WEBSOCKETS["management_endpoint_url"]``."""
        return f"http://{self.host}:{self.port}/{{stage}}"

    def endpoint(self, stage: str = "production") -> str:
        """An ``endpoint_url`` for a boto3 ``apigatewaymanagementapi`` client."""
        return f"http://{self.host}:{self.port}/{stage}"

    def start(self) -> RecordingManagementApi:
        ready = threading.Event()

        def serve() -> None:
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            self._server = self._loop.run_until_complete(
                asyncio.start_server(self._handle, self.host, 0, limit=httpio.MAX_HEAD_BYTES)
            )
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            self._loop.run_forever()
            self._server.close()
            for writer in list(self._writers):
                writer.close()  # keep-alive connections waiting for a next request
            handlers = asyncio.all_tasks(self._loop)
            if handlers:
                self._loop.run_until_complete(asyncio.wait(handlers, timeout=5))
            self._loop.run_until_complete(self._server.wait_closed())
            self._loop.close()

        self._thread = threading.Thread(target=serve, name="recording-management-api", daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop = self._thread = None

    def __enter__(self) -> RecordingManagementApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget every connection, message, request and forced answer."""
        with self._lock:
            for connection in self._table.open_connections():
                self._table.remove(connection.connection_id)
            self._recorders.clear()
            self._forced.clear()
            self.requests.clear()
            self._api.bucket = rate_limit(
                self.limits.management_rate, self.limits.management_burst, time.time()
            )

    # What tests do -------------------------------------------------------------------

    def connect(
        self,
        connection_id: str | None = None,
        source_ip: str = "203.0.113.7",
        user_agent: str = "Mozilla/5.0",
    ) -> str:
        """Open a connection (as a browser would through API Gateway); returns its id."""
        connection_id = connection_id or new_connection_id()
        now = time.time()
        with self._lock:
            recorder = self._recorders[connection_id]
            connection = Connection(
                connection_id, source_ip, user_agent, now, now, State.OPEN, recorder
            )
            self._table.add(connection)
        return connection_id

    def disconnect(self, connection_id: str) -> None:
        """Close a connection: posts to it get 410 from now on."""
        with self._lock:
            self._table.remove(connection_id)

    def is_connected(self, connection_id: str) -> bool:
        with self._lock:
            return self._table.get_open(connection_id) is not None

    def fail_next(self, status: int = 429, count: int = 1) -> None:
        """Answer the next ``count`` requests with ``status`` (429, 410, 500...)."""
        with self._lock:
            self._forced.extend([status] * count)

    def messages(self, connection_id: str) -> list[bytes]:
        """Every message delivered to the connection, one item per post, in order."""
        with self._lock:
            return list(self._recorders[connection_id].messages)

    def json_messages(self, connection_id: str) -> list[Any]:
        return [json.loads(message) for message in self.messages(connection_id)]

    def all_messages(self) -> dict[str, list[bytes]]:
        with self._lock:
            return {cid: list(r.messages) for cid, r in self._recorders.items() if r.messages}

    # Serving -----------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                request = await httpio.read_request(reader)
                if request is None:
                    return
                body = await httpio.read_body(reader, request, 2 * 1024 * 1024)
                response = self._answer(request, body)
                keep_alive = request.keep_alive
                writer.write(
                    httpio.response_bytes(
                        response.status, response.body, response.headers, keep_alive
                    )
                )
                await writer.drain()
                if not keep_alive:
                    return
        except (httpio.BadRequest, ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            self._writers.discard(writer)
            writer.close()

    def _answer(self, request: httpio.Request, body: bytes) -> Response:
        connection_id = unquote(urlsplit(request.target).path.rsplit("/", 1)[-1])
        with self._lock:
            if self._forced:
                status = self._forced.pop(0)
                response = error_response(
                    status, _ERROR_TYPES.get(status, "InternalServerError"), None
                )
            else:
                response, action = self._api.handle(
                    request.method, request.target, request.lower_headers(), body, time.time()
                )
                if isinstance(action, Deliver):
                    action.connection.sink.send(action.data)
                elif isinstance(action, Disconnect):
                    self._table.remove(action.connection.connection_id)
            self.requests.append(
                RecordedRequest(request.method, connection_id, response.status, body)
            )
        return response


_ERROR_TYPES = {
    403: "ForbiddenException",
    410: "GoneException",
    413: "PayloadTooLargeException",
    429: "LimitExceededException",
}
