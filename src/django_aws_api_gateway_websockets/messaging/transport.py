"""Posting to the Management API: one event loop per process, in a daemon thread.

Every send in the process, from sync or async code, from any thread, runs its posts on
this loop. So the HTTP connection pool, the concurrency limit and the pacer are shared
by all sends, and no caller's own event loop is ever used or blocked by it. The caller
hands over batches of targets and waits for their deliveries
(``concurrent.futures.Future``); database work stays in the caller's thread.

When a test double stands between the package and AWS (a replaced
``models.get_boto3_client`` or ``models.boto3``, moto's ``mock_aws``, a botocore
``Stubber``), the posts go through a boto3 client instead, one ``post_to_connection`` per
recipient, so the double sees them; ``get_transport`` makes that choice, once per send.
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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from botocore import exceptions as boto_errors
from botocore.handlers import BUILTIN_HANDLERS

from .. import aws, conf, metrics, models
from ..tokenbucket import TokenBucket
from .http_client import Answer, ConnectionPool
from .policy import Failure, Verdict, backoff_delay, judge
from .recipients import new_signer
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


#: What a broadcast's ``add`` returns: the batch's deliveries, once all are final.
Deliveries = concurrent.futures.Future[list[Delivery]]


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


class Pacing(Protocol):
    """What the sending loop needs from a pacer (one per process, used on its loop)."""

    async def permit(self) -> None: ...

    def set_rate(self, rate: float) -> None: ...


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

    def set_rate(self, rate: float) -> None:
        self.bucket.set_rate(rate, self._loop.time())

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


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's loop when it is installed (its TLS, in C, costs a fraction of asyncio's
    per post), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


class Sender:
    """The process's sending loop and what it shares: connections, slots and pacer."""

    def __init__(self) -> None:
        self.loop = new_event_loop()
        self._pool: ConnectionPool | None = None
        self._pacer: Pacing | None = None
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
            from .accountpacer import pacer_for  # it builds on Pacer, from this module

            self._pacer = pacer_for(self.loop, settings.rate)
        self._pacer.set_rate(settings.rate)
        limit = conf.get_setting("send_concurrency")
        if limit != self._slot_count:
            self._slots, self._slot_count = asyncio.Semaphore(limit), limit
        if self._pool is None:
            self._pool = ConnectionPool()

    async def deliver(self, target: Target, batch: Batch, settings: SendSettings) -> Delivery:
        """Post to one connection until a verdict other than "retry"."""
        assert self._pacer is not None
        assert self._pool is not None
        attempt, uncertain = 0, False
        while True:
            attempt += 1
            async with self._slots:
                await self._pacer.permit()
                headers = batch.signer.headers_for(target.url, target.host, batch.body)
                answer: Answer = await self._pool.post(
                    target.url, headers, batch.body, settings.timeout
                )
            status, failure, request_id = answer
            uncertain = uncertain or (failure is not None and failure.ambiguous)
            verdict = judge(status, failure, attempt, settings.max_attempts)
            if verdict is Verdict.RETRY:
                await asyncio.sleep(backoff_delay(attempt))
                continue
            return Delivery(
                target.pk, target.connection_id, verdict, attempt, status, uncertain, request_id
            )

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None


class Broadcast:
    """One send: a fixed number of workers on the loop take targets from a queue, so
    batches flow without a pause between them and the send never exceeds its
    concurrency. Use from the caller's thread: ``add`` batches, then ``close``."""

    def __init__(self, sender: Sender, settings: SendSettings) -> None:
        self._sender = sender
        self._settings = settings
        self._queue: asyncio.Queue[tuple[Target, Batch, _Pending]] | None = None
        self._workers: list[asyncio.Task[None]] = []

    def add(self, targets: Sequence[Target], body: bytes) -> Deliveries:
        """Queue posts of ``body`` to ``targets`` (signed with credentials read now, in
        the caller's thread); the future gives their deliveries once all are final."""
        future: concurrent.futures.Future[list[Delivery]] = concurrent.futures.Future()
        if not targets:
            future.set_result([])
            return future
        batch = Batch(targets, body, new_signer(targets[0].url))
        self._sender.loop.call_soon_threadsafe(self._enqueue, batch, future)
        return future

    def close(self) -> None:
        self._sender.loop.call_soon_threadsafe(self._stop)

    def _enqueue(self, batch: Batch, future: concurrent.futures.Future[list[Delivery]]) -> None:
        if self._queue is None:
            self._sender._configure(self._settings)
            self._queue = asyncio.Queue()
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
                delivery = await self._sender.deliver(target, batch, self._settings)
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


class BotoBroadcast:
    """One send through a boto3 ``apigatewaymanagementapi`` client per endpoint, from
    ``models.get_boto3_client`` as the original called it, over a few threads. No
    retries of its own: the client's retry configuration applies, as it did."""

    def __init__(self, settings: SendSettings) -> None:
        self._threads = min(settings.concurrency, BOTO_THREADS)
        self._clients: dict[str, Any] = {}

    def add(self, targets: Sequence[Target], body: bytes) -> Deliveries:
        future: concurrent.futures.Future[list[Delivery]] = concurrent.futures.Future()
        data = body.decode()
        clients = [self._client(target.url) for target in targets]
        with ThreadPoolExecutor(max(1, min(self._threads, len(targets)))) as pool:
            future.set_result(list(pool.map(_post_with, clients, targets, [data] * len(targets))))
        return future

    def close(self) -> None:
        self._clients.clear()

    def _client(self, url: str) -> Any:
        endpoint = url[: url.rindex("/@connections/")]
        if endpoint not in self._clients:
            factory = models.get_boto3_client  # at call time, so a patch takes effect
            self._clients[endpoint] = factory("apigatewaymanagementapi", endpoint_url=endpoint)
        return self._clients[endpoint]


#: Threads of a send through boto3: the original's default ``max_workers``.
BOTO_THREADS = 10


def _post_with(client: Any, target: Target, data: str) -> Delivery:
    """One ``post_to_connection``, judged like the engine's posts."""
    status: int | None
    failure: Failure | None = None
    request_id = ""
    response = None
    try:
        response = client.post_to_connection(Data=data, ConnectionId=target.connection_id)
    except boto_errors.ClientError as error:
        meta = error.response.get("ResponseMetadata", {})
        status, request_id = meta.get("HTTPStatusCode"), meta.get("RequestId", "")
        if error.response.get("Error", {}).get("Code") == "GoneException":
            status = 410
    except (boto_errors.ConnectTimeoutError, boto_errors.EndpointConnectionError):
        status, failure = None, Failure.CONNECT
    except boto_errors.ReadTimeoutError:
        status, failure = None, Failure.TIMEOUT
    except boto_errors.BotoCoreError:  # no credentials, a broken connection...
        status, failure = None, Failure.RESET
    else:
        meta = response.get("ResponseMetadata", {}) if isinstance(response, dict) else {}
        status, request_id = meta.get("HTTPStatusCode", 200), meta.get("RequestId", "")
    verdict = judge(status, failure, 1, 1)
    uncertain = failure is not None and failure.ambiguous
    return Delivery(
        target.pk, target.connection_id, verdict, 1, status, uncertain, str(request_id), response
    )


class BotoTransport:
    """``Sender.open``'s counterpart for sends that must go through boto3."""

    def open(self, settings: SendSettings) -> BotoBroadcast:
        return BotoBroadcast(settings)


def _intercepted() -> bool:
    """Whether something that tests put between the package and AWS must see the posts:
    a replaced ``models.get_boto3_client`` or ``models.boto3`` (a patch puts it in the
    module's namespace; the package's own are resolved by ``models.__getattr__``), an
    enabled ``before-send`` handler among botocore's built-ins (moto's ``mock_aws``), or
    a ``Stubber`` on a client from the factory."""
    if {"get_boto3_client", "boto3"} & vars(models).keys():
        return True
    for handler in _before_send_handlers():
        if getattr(handler, "enabled", True):
            return True
    return aws.stubbed_client_exists()


_before_send: tuple[int, list[Any]] = (-1, [])


def _before_send_handlers() -> list[Any]:
    """botocore's built-in ``before-send`` handlers, looked for again only when the list
    grows (moto adds its handler when it is imported)."""
    global _before_send
    if _before_send[0] != len(BUILTIN_HANDLERS):
        found = [entry[1] for entry in BUILTIN_HANDLERS if entry[0].startswith("before-send")]
        _before_send = (len(BUILTIN_HANDLERS), found)
    return _before_send[1]


def get_transport() -> Sender | BotoTransport:
    """Where this send's posts go: the process's sending loop, or boto3 when a test
    double must see them. Checked once per send."""
    return BotoTransport() if _intercepted() else get_sender()


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
        with contextlib.suppress(RuntimeError):  # the loop is already closed
            sender.loop.call_soon_threadsafe(sender.close)
            sender.loop.call_soon_threadsafe(sender.loop.stop)
