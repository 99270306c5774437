"""A Management API double: a real HTTP server on an ephemeral port, in a thread,
that records every post and answers according to a fault plan."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from urllib.parse import unquote

from aiohttp import web

#: Plan entries: an HTTP status, "timeout" (answer 200 after ``slow_seconds``) or
#: "reset" (drop the connection without an answer).
Action = int | str


@dataclass
class Post:
    at: float
    connection_id: str
    raw_path: str
    headers: dict[str, str]  # names in lower case
    body: bytes
    #: The client's address and port: one per HTTP connection.
    peer: tuple[str, int] = ("", 0)
    #: What the double did: a status, "timeout" (delivered, answered late) or "reset".
    action: Action = 200

    @property
    def delivered(self) -> bool:
        return self.action == "timeout" or (isinstance(self.action, int) and self.action < 300)


@dataclass
class ManagementApiDouble:
    latency: float = 0.0
    slow_seconds: float = 1.0
    #: Connection ids answered 410 (after any planned answers).
    gone: set[str] = field(default_factory=set)
    #: Per connection id, the answers to its next posts, in order.
    plan: dict[str, deque[Action]] = field(default_factory=lambda: defaultdict(deque))
    #: The next this-many posts, whoever they are for, are answered 429.
    throttle_next: int = 0
    posts: list[Post] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0

    def start(self) -> ManagementApiDouble:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        async def serve() -> None:
            app = web.Application()
            app.router.add_post("/{stage}/@connections/{connection_id}", self._handle)
            self._runner = web.AppRunner(app, access_log=None)
            await self._runner.setup()
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            await site.start()
            self.port = self._runner.addresses[0][1]
            ready.set()

        def run() -> None:
            self._loop.run_until_complete(serve())
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        ready.wait(5)
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def posts_for(self, connection_id: str) -> list[Post]:
        return [post for post in self.posts if post.connection_id == connection_id]

    def deliveries(self) -> dict[str, int]:
        """Per connection id, how many posts the double accepted."""
        counts: dict[str, int] = defaultdict(int)
        for post in self.posts:
            counts[post.connection_id] += post.delivered
        return counts

    def arrival_times(self) -> list[float]:
        return sorted(post.at for post in self.posts)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await self._answer(request)
        finally:
            self.in_flight -= 1

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        connection_id = unquote(request.match_info["connection_id"])
        headers = {name.lower(): value for name, value in request.headers.items()}
        post = Post(time.monotonic(), connection_id, request.raw_path, headers, body)
        assert request.transport is not None
        post.peer = request.transport.get_extra_info("peername")
        self.posts.append(post)
        if self.latency:
            await asyncio.sleep(self.latency)
        if self.throttle_next > 0:
            self.throttle_next -= 1
            post.action = 429
        elif self.plan[connection_id]:
            post.action = self.plan[connection_id].popleft()
        elif connection_id in self.gone:
            post.action = 410
        if post.action == "reset":
            assert request.transport is not None
            request.transport.abort()
            return web.Response(status=200)
        if post.action == "timeout":
            await asyncio.sleep(self.slow_seconds)
            return web.Response(status=200)
        assert isinstance(post.action, int)
        return web.Response(status=post.action, headers={"x-amzn-RequestId": f"req-{id(post)}"})
