"""A fake Management API for benchmarks, meant to run in its own process: answers every
``POST /{stage}/@connections/{id}`` after a fixed latency, 410 for ids containing
"gone", 200 otherwise. A bare asyncio HTTP/1.1 server (keep-alive, no pipelining
needed), over TLS when given a certificate, on uvloop when it is installed, so that the
server is never what a benchmark measures."""

from __future__ import annotations

import asyncio
import multiprocessing.connection
import ssl

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nx-amzn-RequestId: bench\r\n\r\n"
_GONE_BODY = b'{"message":"Gone"}'
GONE = b"HTTP/1.1 410 Gone\r\nx-amzn-ErrorType: GoneException\r\nContent-Length: %d\r\n\r\n%s" % (
    len(_GONE_BODY),
    _GONE_BODY,
)


class _Protocol(asyncio.Protocol):
    def __init__(self, latency: float, counter: list[int]) -> None:
        self.latency = latency
        self.counter = counter
        self.buffer = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        loop = asyncio.get_running_loop()
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end]
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length :]
            request_line = head.split(b"\r\n", 1)[0]
            answer = GONE if b"gone" in request_line else OK
            self.counter[0] += 1
            loop.call_later(self.latency, self._answer, answer)

    def _answer(self, answer: bytes) -> None:
        if not self.transport.is_closing():
            self.transport.write(answer)


def serve(
    latency: float,
    conn: multiprocessing.connection.Connection,
    certificate: tuple[str, str] | None = None,
) -> None:
    """Run until ``conn`` receives anything; send the port first, the count at the end.
    ``certificate`` is (certificate chain file, key file) for TLS."""
    context = None
    if certificate:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*certificate)

    async def main() -> None:
        counter = [0]
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: _Protocol(latency, counter), "127.0.0.1", 0, ssl=context, backlog=1024
        )
        conn.send(server.sockets[0].getsockname()[1])
        await loop.run_in_executor(None, conn.recv)
        conn.send(counter[0])
        server.close()

    try:
        import uvloop
    except ImportError:
        asyncio.run(main())
    else:
        uvloop.run(main())
