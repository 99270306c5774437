"""The local gateway's I/O: one asyncio server for browsers' WebSockets and for the
Management API, and an HTTP client for the integration calls to Django.

Decisions (route selection, limits, the connection table, headers, ``@connections``
answers) live in the Sans-I/O modules beside this one; this module only moves bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp
from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.server import ServerProtocol

from ..logfilters import redact_tokens
from . import httpio
from .config import DEFAULT, GatewayConfig, is_loopback
from .connections import GOING_AWAY, Connection, ConnectionTable, State, new_connection_id
from .integration import (
    ClientInfo,
    IntegrationRequest,
    connect_request,
    disconnect_request,
    message_request,
)
from .limits import admits, rate_limit
from .management import Deliver, Disconnect, ManagementApi
from .routing import RouteSelector, select_route

logger = logging.getLogger("django_aws_api_gateway_websockets.localgateway")
#: websockets' own per-connection messages ("connection open") would drown the event log.
protocol_logger = logging.getLogger("django_aws_api_gateway_websockets.localgateway.protocol")
protocol_logger.setLevel(logging.WARNING)

_DATA = (Opcode.TEXT, Opcode.BINARY, Opcode.CONT)

#: Seconds a client gets to answer the gateway's close frame before the socket is cut.
CLOSE_GRACE = 5.0

#: AWS refuses binary frames from clients: "API Gateway rejects it and disconnects the
#: client with code 1003" (developer guide, "Binary media types for WebSocket APIs").
UNSUPPORTED_DATA = 1003

#: The reason ``$disconnect`` reports after ``DELETE @connections/{id}``, as AWS words it.
DELETED_REASON = "Connection Closed Normally"

#: Seconds a connection over the cap gets to send its request before its 503.
REFUSAL_GRACE = 1.0


TIMED_OUT = "timed out"


@dataclass(frozen=True)
class IntegrationResult:
    status: int | None  # None: Django could not be reached or did not answer in time
    headers: dict[str, str]
    body: bytes
    error: str = ""


class WebSocketSink:
    """Writes frames for one client through ``websockets``' Sans-I/O protocol."""

    def __init__(
        self, protocol: ServerProtocol, writer: asyncio.StreamWriter, frame_bytes: int | None
    ) -> None:
        self.protocol = protocol
        self.writer = writer
        self.frame_bytes = frame_bytes or 0
        self.eof_sent = False
        self.close_deadline: float | None = None
        #: The code and reason ``$disconnect`` reports when the gateway's own differ.
        self.reported_status: tuple[int, str] | None = None

    def flush(self) -> None:
        for chunk in self.protocol.data_to_send():
            if chunk:
                self.writer.write(chunk)
            else:
                self.eof_sent = True
                if self.writer.can_write_eof():
                    self.writer.write_eof()

    def send(self, data: bytes) -> None:
        """One message, split into frames of at most ``frame_bytes`` as AWS does."""
        try:
            data.decode()
            first = self.protocol.send_text
        except UnicodeDecodeError:
            first = self.protocol.send_binary
        size = self.frame_bytes or len(data) or 1
        chunks = [data[i : i + size] for i in range(0, len(data), size)] or [b""]
        first(chunks[0], fin=len(chunks) == 1)
        for index, chunk in enumerate(chunks[1:], start=2):
            self.protocol.send_continuation(chunk, fin=index == len(chunks))
        self.flush()

    def close(self, code: int, reason: str, now: float) -> None:
        if self.close_deadline is None:
            self.protocol.send_close(code, reason)
            self.close_deadline = now + CLOSE_GRACE
            self.flush()

    def buffered_bytes(self) -> int:
        transport = self.writer.transport
        return transport.get_write_buffer_size() if transport is not None else 0


def _buffered(connection: Connection) -> int:
    return connection.sink.buffered_bytes() if connection.sink is not None else 0


class LocalGateway:
    """API Gateway for one WebSocket API, on one host and port.

    ``await start()`` binds (port 0 picks a free one), ``await stop()`` closes every
    connection with 1001 and stops.
    """

    def __init__(
        self,
        config: GatewayConfig,
        host: str = "127.0.0.1",
        port: int = 8001,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.host = host
        self.port = port
        self.clock = clock
        self.selector = RouteSelector.parse(config.route_selection_expression)
        self.route_keys = {*config.routes, DEFAULT}
        self.table = ConnectionTable()
        now = clock()
        self.management = ManagementApi(
            config.stage, self.table, config.limits, _buffered, now, config.credentials
        )
        self.connect_bucket = rate_limit(
            config.limits.connect_rate, config.limits.connect_burst, now
        )
        self._server: asyncio.Server | None = None
        self._session: aiohttp.ClientSession | None = None
        self._handlers: dict[asyncio.Task[None], asyncio.StreamWriter] = {}
        self._websocket_handlers: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        """Where browsers connect."""
        return f"ws://{self.host}:{self.port}/{self.config.stage}"

    @property
    def management_endpoint(self) -> str:
        """The ``endpoint_url`` for boto3 (``WEBSOCKETS["management_endpoint_url"]``)."""
        return f"http://{self.host}:{self.port}/{self.config.stage}"

    async def start(self) -> None:
        # Bind first: a port in use raises OSError with nothing left to close.
        self._server = await asyncio.start_server(
            self._handle, self.host, self.port, limit=httpio.MAX_HEAD_BYTES
        )
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self.config.integration_pool_size),
            # Counted from the call reaching Django, as in AWS: waiting here for one of
            # the pool's connections is the local gateway's own queue, not Django's time.
            timeout=aiohttp.ClientTimeout(
                sock_connect=self.config.limits.integration_timeout,
                sock_read=self.config.limits.integration_timeout,
            ),
            skip_auto_headers=("User-Agent", "Content-Type", "Accept", "Accept-Encoding"),
            auto_decompress=False,
        )
        self.port = self._server.sockets[0].getsockname()[1]
        if not is_loopback(self.host):
            logger.warning(
                "Listening on %s, beyond this machine: anyone who can reach it can open "
                "WebSockets to your Django and call the Management API%s. Use --host "
                "127.0.0.1 unless you mean it.",
                self.host,
                "" if self.config.credentials else " with any signature (no --verify-signatures)",
            )
        logger.info("Local gateway for API %s on %s", self.config.api_id, self.url)
        logger.info("Management API at %s/@connections/{id}", self.management_endpoint)
        logger.info("Integration base %s", self.config.base_url)

    async def serve_forever(self) -> None:
        assert self._server is not None, "start() first"
        await self._server.serve_forever()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        now = self.clock()
        for connection in self.table.open_connections():
            connection.sink.close(GOING_AWAY, "Going away", now)
        for task, writer in self._handlers.items():
            if task not in self._websocket_handlers:
                writer.close()  # a keep-alive connection waiting for its next request
        if self._handlers:
            _, pending = await asyncio.wait(list(self._handlers), timeout=CLOSE_GRACE + 1)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
        if self._session is not None:
            await self._session.close()

    # Connections -----------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        limits = self.config.limits
        if limits.max_connections and len(self._handlers) >= limits.max_connections:
            await self._refuse(reader, writer)
            return
        self._handlers[task] = writer
        peer = writer.get_extra_info("peername")
        ip = peer[0] if peer else "127.0.0.1"
        first = True
        try:
            while True:
                try:
                    timeout = limits.handshake_timeout if first else limits.keepalive_timeout
                    try:
                        request = await asyncio.wait_for(httpio.read_request(reader), timeout)
                    except asyncio.TimeoutError:
                        if first:
                            raise httpio.BadRequest(408, "Request Timeout") from None
                        return  # an idle keep-alive connection
                    if request is None:
                        return
                    first = False
                    if request.is_websocket:
                        self._websocket_handlers.add(task)
                        await self._websocket(request, reader, writer, ip)
                        return
                    if not await self._http(request, reader, writer):
                        return
                except httpio.BadRequest as exc:
                    writer.write(httpio.response_bytes(exc.status, exc.message.encode(), (), False))
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            self._handlers.pop(task, None)
            self._websocket_handlers.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _refuse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """503 for a connection over the cap, after its request head if it comes quickly
        (closing on unread bytes would reset the connection before the answer is read)."""
        with contextlib.suppress(Exception):
            await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), REFUSAL_GRACE)
        logger.info("%-10s over the cap of %d connections -> 503", "REFUSED", len(self._handlers))
        body = b'{"message":"Too many connections"}'
        with contextlib.suppress(Exception):
            writer.write(httpio.response_bytes(503, body, (), keep_alive=False))
            await writer.drain()
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()

    async def _http(
        self, request: httpio.Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """One plain HTTP request; returns whether the connection stays open."""
        max_body = max(2 * (self.config.limits.message_bytes or 0), 1024 * 1024)
        try:
            body = await asyncio.wait_for(
                httpio.read_body(reader, request, max_body), self.config.limits.handshake_timeout
            )
        except asyncio.TimeoutError:
            raise httpio.BadRequest(408, "Request Timeout") from None
        if not self.management.is_management_path(request.target):
            status, text = (426, "Upgrade Required") if request.method == "GET" else (403, "")
            body_text = json.dumps({"message": text or "Missing Authentication Token"}).encode()
            writer.write(httpio.response_bytes(status, body_text, (), request.keep_alive))
            await writer.drain()
            return request.keep_alive
        now = self.clock()
        response, action = self.management.handle(
            request.method, request.target, request.lower_headers(), body, now
        )
        if isinstance(action, Deliver):
            action.connection.sink.send(action.data)
        elif isinstance(action, Disconnect):
            self.table.remove(action.connection.connection_id)
            action.connection.sink.reported_status = (1000, DELETED_REASON)
            action.connection.sink.close(1000, "", now)
        connection_id = request.target.rsplit("/", 1)[-1]
        logger.info(
            "%-10s @connections/%s (%d B) -> %d",
            request.method,
            connection_id,
            len(body),
            response.status,
        )
        writer.write(
            httpio.response_bytes(
                response.status, response.body, response.headers, request.keep_alive
            )
        )
        await writer.drain()
        return request.keep_alive

    async def _websocket(
        self,
        request: httpio.Request,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        ip: str,
    ) -> None:
        limits = self.config.limits
        protocol = ServerProtocol(
            max_size=(limits.message_bytes, limits.frame_bytes), logger=protocol_logger
        )
        sink = WebSocketSink(protocol, writer, limits.frame_bytes)
        protocol.receive_data(request.raw_head)
        events = protocol.events_received()
        handshake = events[0] if events else None
        if not isinstance(handshake, Request):  # websockets could not parse it and answered
            sink.flush()
            return
        accept = protocol.accept(handshake)
        if accept.status_code != 101:
            protocol.send_response(accept)
            sink.flush()
            return
        path, _, query = request.target.partition("?")
        if path.rstrip("/") not in ("", f"/{self.config.stage}"):
            await self._reject(sink, 403, b'{"message":"Forbidden"}', f"unknown path {path}")
            return
        now = self.clock()
        if not admits(self.connect_bucket, now):
            await self._reject(sink, 429, b'{"message":"Too Many Requests"}', "connect rate")
            return
        connection_id = new_connection_id()
        while connection_id in self.table:
            connection_id = new_connection_id()
        user_agent = request.header("user-agent")
        connection = Connection(connection_id, ip, user_agent, now, now, State.PENDING, sink)
        self.table.add(connection)
        client = ClientInfo(connection_id, ip, self.port)
        result = await self._call(connect_request(self.config, client, query, request.headers))
        self._log_call("CONNECT", connection_id, f"from {ip} {_redact(request.target)}", result)
        if result.status is None or not 200 <= result.status < 300:
            self.table.remove(connection_id)
            status = result.status or (504 if result.error == TIMED_OUT else 502)
            await self._reject(sink, status, result.body, "")
            return
        subprotocol = result.headers.get("sec-websocket-protocol")
        if subprotocol:
            accept.headers["Sec-WebSocket-Protocol"] = subprotocol
        protocol.send_response(accept)
        sink.flush()
        connection.state = State.OPEN
        connection.touch(self.clock())
        await self._serve(connection, client, reader, sink)

    async def _reject(self, sink: WebSocketSink, status: int, body: bytes, why: str) -> None:
        response = sink.protocol.reject(status, body.decode("utf-8", "replace"))
        sink.protocol.send_response(response)
        sink.flush()
        if why:
            logger.info("%-10s %s -> %d", "REJECTED", why, status)
        await sink.writer.drain()

    async def _serve(
        self,
        connection: Connection,
        client: ClientInfo,
        reader: asyncio.StreamReader,
        sink: WebSocketSink,
    ) -> None:
        protocol = sink.protocol
        parts: list[bytes] = []
        in_flight: set[asyncio.Task[None]] = set()
        try:
            while not sink.eof_sent:
                deadline, why = connection.deadline(self.config.limits)
                if sink.close_deadline is not None:
                    deadline, why = sink.close_deadline, "close timeout"
                timeout = None if deadline is None else max(0.0, deadline - self.clock())
                try:
                    data = await asyncio.wait_for(reader.read(65536), timeout)
                except asyncio.TimeoutError:
                    if sink.close_deadline is not None:
                        break
                    self.table.remove(connection.connection_id)
                    logger.info("%-10s %s: %s", "CLOSING", connection.connection_id, why)
                    sink.close(GOING_AWAY, "Going away", self.clock())
                    continue
                if not data:
                    protocol.receive_eof()
                    break
                protocol.receive_data(data)
                for frame in protocol.events_received():
                    if not isinstance(frame, Frame) or frame.opcode not in _DATA:
                        continue
                    if sink.close_deadline is not None:
                        break  # closing: what the client sends now is not forwarded
                    if frame.opcode is Opcode.BINARY:
                        self.table.remove(connection.connection_id)
                        sink.close(UNSUPPORTED_DATA, "", self.clock())
                        break
                    parts.append(bytes(frame.data))
                    if frame.fin:
                        body, parts = b"".join(parts), []
                        connection.touch(self.clock())
                        task = asyncio.create_task(self._message(connection, client, body))
                        in_flight.add(task)
                        task.add_done_callback(in_flight.discard)
                sink.flush()
                await sink.writer.drain()
        except OSError:  # ConnectionError, and ENOTCONN when the peer is already gone
            pass
        finally:
            self.table.remove(connection.connection_id)
        if in_flight:
            await asyncio.wait(in_flight, timeout=self.config.limits.integration_timeout)
        code, reason = sink.reported_status or _close_status(protocol)
        await self._disconnect(client, code, reason)

    async def _message(self, connection: Connection, client: ClientInfo, body: bytes) -> None:
        route_key = select_route(self.selector, body, self.route_keys)
        result = await self._call(message_request(self.config, client, route_key, body))
        self._log_call("MESSAGE", client.connection_id, f"{route_key} ({len(body)} B)", result)
        if connection.connection_id not in self.table:
            return
        if result.status is None:
            timed_out = result.error == TIMED_OUT
            reply = {
                # AWS's words for an integration over its timeout, and for any other failure.
                "message": "Endpoint request timed out" if timed_out else "Internal server error",
                "connectionId": client.connection_id,
                "requestId": str(uuid.uuid4()),
            }
            connection.sink.send(json.dumps(reply).encode())
        elif route_key in self.config.route_responses and result.body:
            connection.sink.send(result.body)

    async def _disconnect(self, client: ClientInfo, code: int, reason: str) -> None:
        label = f"{code} {reason!r}"
        if random.random() < self.config.drop_disconnect:
            logger.info(
                "%-10s %s %s -> dropped (best-effort rehearsal)",
                "DISCONNECT",
                client.connection_id,
                label,
            )
            return
        result = await self._call(disconnect_request(self.config, client))
        self._log_call("DISCONNECT", client.connection_id, label, result)

    async def _call(self, request: IntegrationRequest) -> IntegrationResult:
        assert self._session is not None, "start() first"
        try:
            async with self._session.post(
                request.url, data=request.body, headers=list(request.headers)
            ) as response:
                body = await response.read()
                headers = {name.lower(): value for name, value in response.headers.items()}
                return IntegrationResult(response.status, headers, body)
        except asyncio.TimeoutError:
            return IntegrationResult(None, {}, b"", TIMED_OUT)
        except aiohttp.ClientError as exc:
            return IntegrationResult(None, {}, b"", str(exc) or type(exc).__name__)

    def _log_call(
        self, event: str, connection_id: str, detail: str, result: IntegrationResult
    ) -> None:
        outcome = str(result.status) if result.status is not None else f"failed: {result.error}"
        logger.info("%-10s %s %s -> %s", event, connection_id, detail, outcome)
        if result.status is not None and result.status >= 400:
            logger.info("%-10s Django said: %s", "", result.body[:200].decode("utf-8", "replace"))


def _close_status(protocol: ServerProtocol) -> tuple[int, str]:
    """The code and reason ``$disconnect`` reports, as API Gateway words them."""
    if protocol.close_rcvd is not None:
        code = int(protocol.close_rcvd.code)
        if code == 1005:
            return code, "Client-side close frame status not set"
        return code, protocol.close_rcvd.reason
    if protocol.close_sent is not None:
        return int(protocol.close_sent.code), protocol.close_sent.reason
    return 1006, "Connection closed abnormally"


def _redact(target: str) -> str:
    """The request target with its single-use token hidden: logs outlive tokens' secrecy."""
    return redact_tokens(target)
