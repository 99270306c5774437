"""The HTTP calls API Gateway's HTTP_PROXY integration makes to Django, built as data.

Header set (DESIGN 2.1): the connection id mapped into ``connectionId``
(``integration.request.header.connectionId = context.connectionId``), the API id, the
forwarding headers, the gateway secret from a static mapping, and on ``$connect`` the
browser's own handshake headers and query string. Later calls carry
``User-Agent: AmazonAPIGateway_<api-id>``. ``$disconnect`` carries no close code or
reason: an HTTP integration only gets the context variables that data mapping supports,
and ``disconnectStatusCode`` / ``disconnectReason`` are not among them (they reach Lambda
proxy integrations only); the gateway logs them instead.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass

from .config import CONNECT, DISCONNECT, GatewayConfig

SECRET_HEADER = "X-Ws-Gateway-Secret"

#: Client headers never forwarded: hop-by-hop, or ones only API Gateway may set.
_NOT_FORWARDED = frozenset(
    {
        "host",
        "connection",
        "upgrade",
        "content-length",
        "transfer-encoding",
        "keep-alive",
        "te",
        "trailer",
        "proxy-authorization",
        "connectionid",
        "x-forwarded-for",
        "x-forwarded-proto",
        "x-forwarded-port",
        "x-amzn-trace-id",
        "x-amzn-apigateway-api-id",
        SECRET_HEADER.lower(),
    }
)


@dataclass(frozen=True)
class IntegrationRequest:
    route_key: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""


@dataclass(frozen=True)
class ClientInfo:
    """What the gateway knows about the client's side of one connection."""

    connection_id: str
    ip: str
    #: The port and scheme the client reached the gateway on.
    port: int
    scheme: str = "http"


def trace_id(now: float | None = None) -> str:
    """An ``X-Amzn-Trace-Id`` value in AWS's format."""
    seconds = int(time.time() if now is None else now)
    return f"Root=1-{seconds:08x}-{os.urandom(12).hex()}"


def _common_headers(
    config: GatewayConfig, client: ClientInfo, forwarded_for: str | None
) -> list[tuple[str, str]]:
    chain = f"{forwarded_for}, {client.ip}" if forwarded_for else client.ip
    headers = [
        ("connectionId", client.connection_id),
        ("X-Amzn-Apigateway-Api-Id", config.api_id),
        ("X-Forwarded-For", chain),
        ("X-Forwarded-Proto", client.scheme),
        ("X-Forwarded-Port", str(client.port)),
        ("X-Amzn-Trace-Id", trace_id()),
    ]
    if config.gateway_secret:
        headers.append((SECRET_HEADER, config.gateway_secret))
    return headers


def connect_request(
    config: GatewayConfig,
    client: ClientInfo,
    query_string: str,
    client_headers: Iterable[tuple[str, str]],
) -> IntegrationRequest:
    """``$connect``: the browser's handshake headers and query string, plus AWS's own."""
    client_headers = list(client_headers)
    forwarded_for = next(
        (value for name, value in client_headers if name.lower() == "x-forwarded-for"), None
    )
    headers = [(n, v) for n, v in client_headers if n.lower() not in _NOT_FORWARDED]
    headers += _common_headers(config, client, forwarded_for)
    url = config.integration_url(CONNECT)
    if query_string:
        url += ("&" if "?" in url else "?") + query_string
    return IntegrationRequest(CONNECT, url, tuple(headers))


def message_request(
    config: GatewayConfig, client: ClientInfo, route_key: str, body: bytes
) -> IntegrationRequest:
    """A message: its raw body, to the route's integration URL."""
    headers = [*_common_headers(config, client, None), ("User-Agent", config.user_agent)]
    return IntegrationRequest(route_key, config.integration_url(route_key), tuple(headers), body)


def disconnect_request(config: GatewayConfig, client: ClientInfo) -> IntegrationRequest:
    """``$disconnect``: the connection's headers, without a body."""
    headers = [*_common_headers(config, client, None), ("User-Agent", config.user_agent)]
    return IntegrationRequest(DISCONNECT, config.integration_url(DISCONNECT), tuple(headers))
