"""Posting to the Management API: one event loop per process, in a daemon thread.

Every send in the process, from sync or async code, from any thread, runs its posts on
this loop. So the HTTP connection pool, the concurrency limit and the pacer are shared
by all sends, and no caller's own event loop is ever used or blocked by it. The caller
hands over batches of targets and waits for their deliveries
(``concurrent.futures.Future``); database work stays in the caller's thread.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import os
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp
from yarl import URL

from .. import conf, metrics
from ..tokenbucket import TokenBucket
from .policy import Failure, Verdict, backoff_delay, judge
from .results import Delivery
from .signing import ManagementApiSigner


@dataclass(frozen=True, slots=True)
class Target:
    pk: int
    connection_id: str
    url: str
    host: str


@dataclass(frozen=True, slots=True)
class Batch:
    """Targets that share a body and a signer (credentials are refreshed per batch)."""

    targets: Sequence[Target]
    body: bytes
    signer: ManagementApiSigner


@dataclass(frozen=True)
class SendSettings:
    rate: float
    concurrency: int
    max_attempts: int
    timeout: float

    @classmethod
    def from_conf(cls, concurrency: int | None = None) -> SendSettings:
        process_limit = conf.get_setting("send_concurrency")
        return cls(
            rate=float(conf.get_setting("send_rate_per_second")),
            concurrency=min(concurrency or process_limit, process_limit),
            max_attempts=conf.get_setting("send_max_attempts"),
            timeout=conf.get_float_setting("send_timeout_seconds"),
        )


class Pacer:
    """Hands out the token bucket's tokens to posts, first come first served.

    A post takes a token the moment it may go; when none is left it queues, and one
    dispatcher wakes as tokens come and lets the queue through. Tokens are counted at
    the time they are handed out, so a late wake-up never lets through more than the
    bucket allows.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, rate: float) -> None:
        self._loop = loop
        self.bucket = TokenBucket.for_rate(rate, loop.time())
        self._queue: deque[asyncio.Future[None]] = deque()
        self._dispatcher: asyncio.Task[None] | None = None

    async def permit(self) -> None:
        if not self._queue and self.bucket.take(self._loop.time()):
            return
        waiter = self._loop.create_future()
        self._queue.append(waiter)
        if self._dispatcher is None or self._dispatcher.done():
            self._dispatcher = self._loop.create_task(self._dispatch())
        await waiter

    async def _dispatch(self) -> None:
        while self._queue:
            now = self._loop.time()
            while self._queue and (self._queue[0].done() or self.bucket.take(now)):
                waiter = self._queue.popleft()
                if not waiter.done():
                    waiter.set_result(None)
            if self._queue:
                await asyncio.sleep(metrics.pacer_wait(self.bucket.wait_time(self._loop.time())))


class Sender:
    """The process's sending loop and what it shares: HTTP pool, slots and pacer."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._session: aiohttp.ClientSession | None = None
        self._pacer: Pacer | None = None
        self._slots = asyncio.Semaphore(1)
        self._slot_count = 0
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="websocket-sender", daemon=True
        )
        self._thread.start()

    def open(self, settings: SendSettings) -> Broadcast:
        """Start a send whose batches are posted with ``settings``."""
        return Broadcast(self, settings)

    def _configure(self, settings: SendSettings) -> None:
        if self._pacer is None:
            self._pacer = Pacer(self.loop, settings.rate)
        self._pacer.bucket.set_rate(settings.rate, self.loop.time())
        limit = conf.get_setting("send_concurrency")
        if limit != self._slot_count:
            self._slots, self._slot_count = asyncio.Semaphore(limit), limit
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0, ttl_dns_cache=300),
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False,
                skip_auto_headers=("Accept", "Accept-Encoding", "Content-Type"),
            )

    async def _post(
        self, url: str, headers: dict[str, str], body: bytes, timeout: aiohttp.ClientTimeout
    ) -> tuple[int | None, Failure | None, str]:
        assert self._session is not None
        try:
            async with self._session.post(
                URL(url, encoded=True), data=body, headers=headers, timeout=timeout
            ) as response:
                await response.read()
                return response.status, None, response.headers.get("x-amzn-RequestId", "")
        except asyncio.TimeoutError:
            return None, Failure.TIMEOUT, ""
        except aiohttp.ClientConnectorError:
            return None, Failure.CONNECT, ""
        except aiohttp.ClientError:  # a broken connection or an unreadable answer
            return None, Failure.RESET, ""

    async def deliver(
        self, target: Target, batch: Batch, settings: SendSettings, timeout: aiohttp.ClientTimeout
    ) -> Delivery:
        """Post to one connection until a verdict other than "retry"."""
        assert self._pacer is not None
        attempt, uncertain = 0, False
        while True:
            attempt += 1
            async with self._slots:
                await self._pacer.permit()
                headers = batch.signer.headers_for(target.url, target.host, batch.body)
                status, failure, request_id = await self._post(
                    target.url, headers, batch.body, timeout
                )
            uncertain = uncertain or (failure is not None and failure.ambiguous)
            verdict = judge(status, failure, attempt, settings.max_attempts)
            if verdict is Verdict.RETRY:
                await asyncio.sleep(backoff_delay(attempt))
                continue
            return Delivery(
                target.pk, target.connection_id, verdict, attempt, status, uncertain, request_id
            )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class Broadcast:
    """One send: a fixed number of workers on the loop take targets from a queue, so
    batches flow without a pause between them and the send never exceeds its
    concurrency. Use from the caller's thread: ``add`` batches, then ``close``."""

    def __init__(self, sender: Sender, settings: SendSettings) -> None:
        self._sender = sender
        self._settings = settings
        # Per socket operation rather than ``total``: the same bound for requests this
        # small (connect, then wait for the answer), at a fraction of the CPU per post.
        self._timeout = aiohttp.ClientTimeout(
            sock_connect=settings.timeout, sock_read=settings.timeout
        )
        self._queue: asyncio.Queue[tuple[Target, Batch, _Pending]] | None = None
        self._workers: list[asyncio.Task[None]] = []

    def add(self, batch: Batch) -> concurrent.futures.Future[list[Delivery]]:
        """Queue ``batch``; the future gives its deliveries once all are final."""
        future: concurrent.futures.Future[list[Delivery]] = concurrent.futures.Future()
        self._sender.loop.call_soon_threadsafe(self._enqueue, batch, future)
        return future

    def close(self) -> None:
        self._sender.loop.call_soon_threadsafe(self._stop)

    def _enqueue(self, batch: Batch, future: concurrent.futures.Future[list[Delivery]]) -> None:
        if self._queue is None:
            self._sender._configure(self._settings)
            self._queue = asyncio.Queue()
        if not batch.targets:
            future.set_result([])
            return
        pending = _Pending(len(batch.targets), future)
        for target in batch.targets:
            self._queue.put_nowait((target, batch, pending))
        # As many workers as there are targets waiting, up to the send's concurrency:
        # a message to a room of five starts five.
        wanted = min(self._settings.concurrency, len(self._workers) + self._queue.qsize())
        while len(self._workers) < wanted:
            self._workers.append(self._sender.loop.create_task(self._work()))

    async def _work(self) -> None:
        assert self._queue is not None
        while True:
            target, batch, pending = await self._queue.get()
            try:
                delivery = await self._sender.deliver(target, batch, self._settings, self._timeout)
            except Exception as error:  # a bug must fail the caller, not hang it
                pending.fail(error)
            else:
                pending.done(delivery)

    def _stop(self) -> None:
        for worker in self._workers:
            worker.cancel()


class _Pending:
    """The deliveries of one batch still outstanding."""

    def __init__(self, count: int, future: concurrent.futures.Future[list[Delivery]]) -> None:
        self.remaining = count
        self.deliveries: list[Delivery] = []
        self.future = future

    def done(self, delivery: Delivery) -> None:
        self.deliveries.append(delivery)
        self.remaining -= 1
        if self.remaining == 0 and not self.future.done():
            self.future.set_result(self.deliveries)

    def fail(self, error: BaseException) -> None:
        if not self.future.done():
            self.future.set_exception(error)


_lock = threading.Lock()
_sender: Sender | None = None
_sender_pid = 0


def get_sender() -> Sender:
    """The process's sender, started on first use (and again in a forked child, whose
    copy of the parent's thread does not run)."""
    global _sender, _sender_pid
    with _lock:
        if _sender is None or _sender_pid != os.getpid():
            _sender, _sender_pid = Sender(), os.getpid()
        return _sender


@atexit.register
def _shut_down() -> None:
    sender = _sender
    if sender is not None and _sender_pid == os.getpid():
        with contextlib.suppress(concurrent.futures.TimeoutError, RuntimeError):
            asyncio.run_coroutine_threadsafe(sender.close(), sender.loop).result(timeout=5)
        sender.loop.call_soon_threadsafe(sender.loop.stop)
