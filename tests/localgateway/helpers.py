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
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import ReadOnlyCredentials

from django_aws_api_gateway_websockets.localgateway import Credentials, GatewayConfig, Limits
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
    """Fake Django and a gateway in front of it, in the running loop, verifying
    signatures against the test credentials (strict mode) unless told otherwise.

    ``route_paths`` maps additional route keys to paths on the fake Django.
    """
    config.setdefault("credentials", CREDENTIALS)
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


#: The credentials the test gateways verify signatures against (strict mode).
ACCESS_KEY = "AKIDLOCAL"
SECRET_KEY = "local"
CREDENTIALS = Credentials(ACCESS_KEY, SECRET_KEY, "us-east-1")


def management_client(endpoint: str, secret: str = SECRET_KEY) -> Any:
    """Unchanged boto3, the test credentials, no retries (so 429 is seen, not retried)."""
    return boto3.session.Session(
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=secret, region_name="us-east-1"
    ).client(
        "apigatewaymanagementapi",
        endpoint_url=endpoint,
        config=Config(retries={"total_max_attempts": 1}),
    )


def sigv4_headers(
    method: str,
    url: str,
    body: bytes = b"",
    *,
    secret: str = SECRET_KEY,
    amz_date: str | None = None,
) -> dict[str, str]:
    """botocore's SigV4 headers for one request, at ``amz_date`` (``20000101T000000Z``)
    or now; ``url`` is sent as is, so ``%40connections`` stays encoded."""
    request = AWSRequest(method=method, url=url, data=body)
    signer = SigV4Auth(ReadOnlyCredentials(ACCESS_KEY, secret, None), "execute-api", "us-east-1")
    if amz_date is None:
        signer.add_auth(request)
    else:
        request.context["timestamp"] = amz_date
        signer._modify_request_before_signing(request)
        canonical = signer.canonical_request(request)
        signature = signer.signature(signer.string_to_sign(request, canonical), request)
        signer._inject_signature_to_request(request, signature)
    return dict(request.headers.items())


def logged_disconnect(caplog: Any, connection_id: str) -> str:
    """The code and reason the gateway logged for the connection's ``$disconnect``
    (``"1000 'Connection Closed Normally'"``): AWS gives them to Lambda integrations
    only, so the gateway logs them instead of sending them to Django."""
    for record in caplog.records:
        message = record.getMessage()
        if message.startswith("DISCONNECT") and connection_id in message:
            return message.split(connection_id, 1)[1].split(" -> ")[0].strip()
    raise AssertionError(f"no $disconnect logged for {connection_id}")
