"""Client CPU of a TLS connection to the fake Management API, with a full handshake and
with TLS session resumption (a ticket from an earlier connection), on asyncio's loop and
on uvloop's: what resuming sessions would save on a send's cold start.

    python benchmarks/tls_resumption.py
    python benchmarks/tls_resumption.py --connections 1000

Each connection is opened (handshake included), carries one post, and is closed, one
after the other; the figure is this process's CPU per connection, best of three rounds.
The session is offered through ``SSLContext.sslobject_class``, which both loops honour.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import ssl
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fake_management_api import serve

POST = b"POST /prod/@connections/x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n"


class _Client(asyncio.Protocol):
    def __init__(self) -> None:
        self.answered: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes) -> None:
        if not self.answered.done():
            self.answered.set_result(None)


def offering(session: list[ssl.SSLSession]) -> type[ssl.SSLObject]:
    """An ``SSLObject`` that offers ``session[0]`` (when there is one) in its handshake."""

    class Resuming(ssl.SSLObject):
        offered = False

        def do_handshake(self) -> None:
            if session and not self.offered:
                self.offered = True
                self.session = session[0]
            super().do_handshake()

    return Resuming


async def connections(port: int, context: ssl.SSLContext, count: int) -> tuple[float, int]:
    """CPU per connection (µs) and how many of them resumed a session."""
    loop = asyncio.get_running_loop()
    started, resumed = time.process_time(), 0
    for _ in range(count):
        transport, client = await loop.create_connection(
            _Client, "127.0.0.1", port, ssl=context, server_hostname="127.0.0.1"
        )
        resumed += transport.get_extra_info("ssl_object").session_reused
        transport.write(POST)
        await client.answered
        transport.close()
    return (time.process_time() - started) / count * 1e6, resumed


async def first_session(port: int, context: ssl.SSLContext) -> ssl.SSLSession:
    """The session of a connection that got an answer (a TLS 1.3 ticket comes after the
    handshake, with the server's first data)."""
    transport, client = await asyncio.get_running_loop().create_connection(
        _Client, "127.0.0.1", port, ssl=context, server_hostname="127.0.0.1"
    )
    transport.write(POST)
    await client.answered
    session = transport.get_extra_info("ssl_object").session
    transport.close()
    return session


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=300)
    args = parser.parse_args()
    import trustme
    import uvloop

    ca = trustme.CA()
    certificate = ca.issue_cert("127.0.0.1")
    chain = Path(tempfile.mkdtemp()) / "server.pem"
    certificate.private_key_and_cert_chain_pem.write_to_path(str(chain))
    ours, theirs = multiprocessing.Pipe()
    server = multiprocessing.Process(
        target=serve, args=(0.0, theirs, (str(chain), str(chain))), daemon=True
    )
    server.start()
    port = ours.recv()
    context = ssl.create_default_context()
    ca.configure_trust(context)
    session: list[ssl.SSLSession] = []
    context.sslobject_class = offering(session)

    async def measure(resume: bool) -> tuple[float, int]:
        session[:] = [await first_session(port, context)] if resume else []
        return await connections(port, context, args.connections)

    runners: dict[str, Callable[[Coroutine[Any, Any, Any]], Any]] = {
        "asyncio": asyncio.run,
        "uvloop": uvloop.run,
    }
    print(f"{args.connections} connections, one post each, client CPU per connection")
    for name, run in runners.items():
        rounds: dict[bool, list[tuple[float, int]]] = {False: [], True: []}
        for _ in range(3):
            for resume in (False, True):
                rounds[resume].append(run(measure(resume)))
        (full, _), (resumed, reused) = (min(rounds[flag]) for flag in (False, True))
        print(
            f"{name:8} full handshake {full:6.0f} µs, resumed {resumed:6.0f} µs "
            f"({reused}/{args.connections} resumed): {full - resumed:.0f} µs saved"
        )
    ours.send("stop")
    ours.recv()
    server.join(5)


if __name__ == "__main__":
    main()
