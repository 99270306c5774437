"""What a local gateway serves: one API's routes and stage, and AWS's limits.

Plain data, no I/O and no Django, so the command line, an ``ApiGateway`` row and tests
can all build one.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

CONNECT = "$connect"
DISCONNECT = "$disconnect"
DEFAULT = "$default"


@dataclass(frozen=True)
class Limits:
    """AWS's WebSocket API limits, on by default; ``None`` or ``0`` turns one off."""

    #: Largest frame a client may send, in bytes (AWS: 32 KB, close 1009).
    frame_bytes: int | None = 32 * 1024
    #: Largest message a client may send or the Management API may post (AWS: 128 KB).
    message_bytes: int | None = 128 * 1024
    #: Seconds without a message before the gateway closes the connection (AWS: 10 min).
    idle_timeout: float | None = 600.0
    #: Seconds a connection may live at most (AWS: 2 h).
    max_duration: float | None = 7200.0
    #: New connections per second, and the burst allowed (AWS: 500 per account and region).
    connect_rate: float | None = 500.0
    connect_burst: int = 500
    #: ``@connections`` requests per second, and the burst (AWS: 10,000 and 5,000, shared).
    management_rate: float | None = 10_000.0
    management_burst: int = 5_000
    #: Seconds to wait for Django before answering as an integration timeout (AWS: 29 s).
    integration_timeout: float = 29.0
    #: Bytes queued to one client before posts to it get 429 (its buffer is full).
    client_buffer_bytes: int = 4 * 1024 * 1024
    #: Seconds a new TCP connection has to send a complete request (a WebSocket handshake
    #: or a Management API call) before it is closed: half-open handshakes hold nothing.
    handshake_timeout: float | None = 10.0
    #: Seconds an HTTP keep-alive connection may wait for its next request (boto3 and the
    #: package reuse theirs well within this; aiohttp drops its own after 15 s).
    keepalive_timeout: float | None = 60.0
    #: TCP connections held at once (WebSockets, handshakes and Management API calls);
    #: the next one is answered 503 and closed. AWS has no such cap: this one protects
    #: the machine running the gateway.
    max_connections: int | None = 10_000


@dataclass(frozen=True)
class Credentials:
    """The key Django signs its Management API calls with: in strict mode the gateway
    verifies every signature against it, as AWS verifies them against IAM's."""

    access_key: str
    secret_key: str = field(repr=False)
    #: The region signatures must be scoped to (``None``: whatever the caller signed for).
    region: str | None = None


@dataclass(frozen=True)
class GatewayConfig:
    """One WebSocket API as API Gateway would run it, with HTTP_PROXY integrations."""

    #: Django's WebSocket view without the route slug, with the trailing slash, e.g.
    #: ``http://127.0.0.1:8000/ws/``: ``$connect`` posts to ``...ws/connect``.
    target_base_url: str
    api_id: str = "local"
    stage: str = "local"
    route_selection_expression: str = "$request.body.action"
    #: Additional route keys and their integration URLs.
    routes: dict[str, str] = field(default_factory=dict)
    #: Route keys with a route response: the integration's answer goes back to the client.
    route_responses: frozenset[str] = frozenset()
    #: Sent as ``X-Ws-Gateway-Secret`` on every integration call when set.
    gateway_secret: str | None = None
    #: Fraction (0 to 1) of ``$disconnect`` calls dropped, to rehearse best-effort delivery.
    drop_disconnect: float = 0.0
    limits: Limits = field(default_factory=Limits)
    #: Strict mode: verify ``@connections`` signatures against these credentials (``None``:
    #: any well-formed signature is accepted).
    credentials: Credentials | None = None
    #: Integration connections kept open to Django.
    integration_pool_size: int = 100

    def __post_init__(self) -> None:
        if not self.target_base_url.startswith(("http://", "https://")):
            raise ValueError("The target base URL must start with http:// or https://.")
        if not 0.0 <= self.drop_disconnect <= 1.0:
            raise ValueError("drop_disconnect is a fraction between 0 and 1.")
        if not self.stage or "/" in self.stage:
            raise ValueError("The stage is one non-empty path segment.")

    @property
    def base_url(self) -> str:
        return (
            self.target_base_url
            if self.target_base_url.endswith("/")
            else self.target_base_url + "/"
        )

    def integration_url(self, route_key: str) -> str:
        """The URL API Gateway posts to for ``route_key``."""
        if route_key in self.routes:
            return self.routes[route_key]
        slug = {CONNECT: "connect", DISCONNECT: "disconnect", DEFAULT: "default"}[route_key]
        return self.base_url + slug

    @property
    def user_agent(self) -> str:
        """The ``User-Agent`` of every integration call after ``$connect``."""
        return f"AmazonAPIGateway_{self.api_id}"


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach ``host`` (``""``, ``0.0.0.0`` and ``::`` mean
    every interface; a name other than ``localhost`` may resolve anywhere)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
