"""Helpers: a real HTTP server standing in for Django's views, the local gateway in front of it,
and boto3 clients for the gateway's Management API; all on ephemeral ports."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

import boto3
from aiohttp import web
from botocore.config import Config

from django_aws_api_gateway_websockets.localgateway import GatewayConfig, Limits
from django_aws_api_gateway_websockets.localgateway.server import LocalGateway

Responder = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Call:
    route: str
    query: str
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeDjango:
    """Answers ``POST /ws/{route}`` (and ``/custom/{route}``) and keeps every call."""

    calls: list[Call] = field(default_factory=list)
    responders: dict[str, Responder] = field(default_factory=dict)
    port: int = 0
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/ws/"

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        route = request.match_info["route"]
        self.calls.append(
            Call(route, request.query_string, dict(request.headers), await request.read())
        )
        self.arrived.set()
        responder = self.responders.get(route)
        if responder is not None:
            return await responder(request)
        return web.json_response({})

    def routes(self) -> list[str]:
        return [call.route for call in self.calls]

    def last(self, route: str) -> Call:
        return [call for call in self.calls if call.route == route][-1]

    async def wait_for(self, route: str, timeout: float = 5.0) -> Call:
        async def poll() -> Call:
            while route not in self.routes():
                self.arrived.clear()
                await self.arrived.wait()
            return self.last(route)

        return await asyncio.wait_for(poll(), timeout)


@contextlib.asynccontextmanager
async def running(
    limits: Limits | None = None,
    route_paths: dict[str, str] | None = None,
    target: str | None = None,
    **config: Any,
) -> AsyncIterator[tuple[LocalGateway, FakeDjango]]:
    """Fake Django and a gateway in front of it, in the running loop.

    ``route_paths`` maps additional route keys to paths on the fake Django.
    """
    fake = FakeDjango()
    app = web.Application()
    app.router.add_post("/ws/{route}", fake._handle)
    app.router.add_post("/custom/{route}", fake._handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    fake.port = runner.addresses[0][1]
    routes = {key: fake.url(path) for key, path in (route_paths or {}).items()}
    gateway_config = GatewayConfig(target or fake.base_url, routes=routes, **config)
    if limits is not None:
        gateway_config = replace(gateway_config, limits=limits)
    gateway = LocalGateway(gateway_config, port=0)
    await gateway.start()
    try:
        yield gateway, fake
    finally:
        await gateway.stop()
        await runner.cleanup()


def management_client(endpoint: str) -> Any:
    """Unchanged boto3, dummy credentials, no retries (so 429 is seen, not retried)."""
    return boto3.session.Session(
        aws_access_key_id="AKIDLOCAL", aws_secret_access_key="local", region_name="us-east-1"
    ).client(
        "apigatewaymanagementapi",
        endpoint_url=endpoint,
        config=Config(retries={"total_max_attempts": 1}),
    )
