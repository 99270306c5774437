"""The sending loop's HTTP/1.1 connections against a raw server that answers as told:
answers of every framing, broken and silent servers, reuse, and verified TLS."""

from __future__ import annotations

import asyncio
import ssl
import sys
from collections import deque

import pytest
import trustme

from django_aws_api_gateway_websockets.messaging import http_client
from django_aws_api_gateway_websockets.messaging.http_client import ConnectionPool
from django_aws_api_gateway_websockets.messaging.policy import Failure

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nx-amzn-RequestId: r-1\r\n\r\n"


class RawServer:
    """Answers each request with the next scripted reply (bytes, sent in pieces split
    at ``|``; "close" to drop the connection; "silent" to say nothing)."""

    def __init__(self, replies: list[bytes | str], tls: ssl.SSLContext | None = None) -> None:
        self.replies = deque(replies)
        self.requests: list[bytes] = []
        self.peers: list[object] = []
        self.tls = tls

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self.tls)
        port = self.server.sockets[0].getsockname()[1]
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{port}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            self.requests.append(head + await reader.readexactly(length))
            self.peers.append(writer.get_extra_info("peername"))
            reply = self.replies.popleft()
            if reply == "close":
                writer.close()
                return
            if reply == "silent":
                continue
            assert isinstance(reply, bytes)
            for piece in reply.split(b"|"):
                writer.write(piece)
                await writer.drain()
                await asyncio.sleep(0.001)


def run(coroutine: object) -> object:
    return asyncio.run(coroutine)  # type: ignore[arg-type]


async def _posts(server: RawServer, count: int, timeout: float = 1.0) -> list[object]:
    base = await server.start()
    pool = ConnectionPool()
    answers = [
        await pool.post(f"{base}/prod/@connections/c{i}%3D", {"Host": "h"}, b"{}", timeout)
        for i in range(count)
    ]
    pool.close()
    server.server.close()
    return answers


@pytest.mark.parametrize(
    "reply",
    [
        OK,
        b"HTTP/1.1 200 OK\r|\nx-amzn-RequestId: r-1\r\nContent-Length: 0\r\n|\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nx-amzn-RequestId: r-1\r\n\r\n"
        b'4\r\n{"a"|\r\n3;x=y\r\n: 1\r\n1\r\n}\r\n0\r\n|\r\n',
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nx-amzn-requestid: r-1\r\n\r\n"
        b"0\r\nTrailer: t\r\n\r\n",
    ],
    ids=["plain", "split", "chunked", "chunked-trailer"],
)
def test_answers_of_every_framing_are_read_and_the_connection_reused(reply: bytes) -> None:
    server = RawServer([reply, OK])
    assert run(_posts(server, 2)) == [(200, None, "r-1"), (200, None, "r-1")]
    assert len(set(server.peers)) == 1
    first = server.requests[0].decode()
    assert first.startswith("POST /prod/@connections/c0%3D HTTP/1.1\r\nHost: h\r\n")
    assert first.endswith("Content-Length: 2\r\n\r\n{}")


def test_a_body_is_skipped_and_gone_is_reported() -> None:
    gone = b'HTTP/1.1 410 Gone\r\nContent-Length: 18\r\n\r\n{"message":|"Gone"}'
    server = RawServer([gone, OK])
    assert run(_posts(server, 2)) == [(410, None, ""), (200, None, "r-1")]
    assert len(set(server.peers)) == 1


@pytest.mark.parametrize(
    "reply",
    [
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n\r\n",  # no length: the answer ends with the connection
    ],
)
def test_a_connection_the_server_ends_is_not_reused(reply: bytes) -> None:
    server = RawServer([reply, OK])
    assert run(_posts(server, 2)) == [(200, None, ""), (200, None, "r-1")]
    assert len(set(server.peers)) == 2


def test_a_dropped_connection_is_a_reset_and_the_next_post_reconnects() -> None:
    server = RawServer(["close", OK])
    assert run(_posts(server, 2)) == [(None, Failure.RESET, ""), (200, None, "r-1")]


def test_a_malformed_answer_is_a_reset() -> None:
    server = RawServer([b"HTTP/1.1 abc OK\r\n\r\n", OK])
    assert run(_posts(server, 2)) == [(None, Failure.RESET, ""), (200, None, "r-1")]


def test_a_silent_server_times_out_and_its_connection_is_dropped() -> None:
    server = RawServer(["silent", OK])
    answers = run(_posts(server, 2, timeout=0.2))
    assert answers == [(None, Failure.TIMEOUT, ""), (200, None, "r-1")]
    assert len(set(server.peers)) == 2


def test_nothing_listening_is_a_connect_failure() -> None:
    async def post() -> object:
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()
        return await ConnectionPool().post(f"http://127.0.0.1:{port}/p", {}, b"", 1.0)

    assert run(post()) == (None, Failure.CONNECT, "")


def test_idle_connections_expire(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http_client, "IDLE_SECONDS", 0.05)

    async def posts() -> None:
        server = RawServer([OK, OK, OK])
        base = await server.start()
        pool = ConnectionPool()
        await pool.post(f"{base}/a", {}, b"", 1.0)
        await pool.post(f"{base}/a", {}, b"", 1.0)
        await asyncio.sleep(0.1)
        await pool.post(f"{base}/a", {}, b"", 1.0)
        pool.close()
        assert server.peers[0] == server.peers[1] != server.peers[2]

    run(posts())


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


def _server_tls(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return context


def test_tls_is_verified(ca: trustme.CA) -> None:
    async def posts(trusted: bool) -> object:
        server = RawServer([OK], tls=_server_tls(ca))
        base = await server.start()
        client = ssl.create_default_context()
        if trusted:
            ca.configure_trust(client)
        answer = await ConnectionPool(client).post(f"{base}/prod/@connections/x", {}, b"", 1.0)
        server.server.close()
        return answer

    assert run(posts(trusted=True)) == (200, None, "r-1")
    assert run(posts(trusted=False)) == (None, Failure.CONNECT, "")


def test_the_sending_loop_is_uvloops_when_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    uvloop = pytest.importorskip("uvloop")
    from django_aws_api_gateway_websockets.messaging.transport import new_event_loop

    loop = new_event_loop()
    assert isinstance(loop, uvloop.Loop)
    loop.close()
    assert not isinstance(loop, asyncio.BaseEventLoop)
    monkeypatch.setitem(sys.modules, "uvloop", None)  # as if it were not installed
    loop = new_event_loop()
    assert isinstance(loop, asyncio.BaseEventLoop)
    loop.close()
