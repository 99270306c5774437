"""Untrusted integration request -> a validated :class:`Event`.

Everything API Gateway (or anyone who can reach the Django URL) sends is checked here,
once: headers, connection id, client IP, channel, token and body. Inner code receives
typed, valid values. No database access and no Django request object: the inputs are
plain mappings, so this is cheap to run before anything else and easy to test.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.http.request import HttpHeaders, split_domain_port

from .logfilters import TOKEN_KEY

#: Connection ids are API Gateway's base64-like ids; anything else is forged.
CONNECTION_ID_PATTERN = re.compile(r"[A-Za-z0-9_=-]{1,128}")

#: Deeper message bodies are refused: no handler needs them, and code that walks a body
#: recursively (serialisers, loggers) could fail on them.
MAX_BODY_DEPTH = 32

#: The longest textual IP address (an IPv6 address with an embedded IPv4 one).
MAX_IP_LENGTH = 45

#: The query parameter that carries the connect token.
TOKEN_PARAMETER = TOKEN_KEY

#: Routes API Gateway always has; other slugs are additional (message) routes.
CONNECT = "connect"
DISCONNECT = "disconnect"
DEFAULT = "default"
LIFECYCLE_ROUTES = frozenset({CONNECT, DISCONNECT})


class EventError(Exception):
    """A request that must be refused with ``status`` and the plain-text ``message``.

    ``kind`` lets the view pick its overridable failure response: ``"headers"``,
    ``"connection_id"``, ``"channel"`` or ``"body"``.
    """

    def __init__(self, status: int, message: str, kind: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind


@dataclass(frozen=True)
class EventRules:
    """The view's limits that validation applies."""

    required_headers: tuple[str, ...]
    max_body_size: int
    channel_pattern: re.Pattern[str]
    max_channel_length: int
    trusted_proxy_count: int


@dataclass(frozen=True)
class Event:
    """One validated integration call."""

    route: str
    connection_id: str
    api_id: str
    client_ip: str
    user_agent: str
    #: The requested channel on ``$connect`` (``""`` when none was asked for).
    channel: str = ""
    #: The ``ws_token`` query value on ``$connect`` (``""`` when absent; never in a repr).
    ws_token: str = field(default="", repr=False)
    #: The ``Origin`` header on ``$connect``, ``None`` when the client sent none.
    origin: str | None = None
    #: The message body of every other route (always a JSON object).
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def is_message(self) -> bool:
        return self.route not in LIFECYCLE_ROUTES


def read_event(
    route: str,
    headers: Mapping[str, str],
    query: Mapping[str, str],
    body: bytes,
    remote_addr: str,
    rules: EventRules,
) -> Event:
    """Validate one call; raise :class:`EventError` on the first problem."""
    if missing_names(headers, rules.required_headers):
        raise EventError(400, "Invalid request headers", "headers")
    connection_id = headers.get("Connectionid", "")
    if not is_valid_connection_id(connection_id):
        raise EventError(400, "Invalid connection ID", "connection_id")
    client_ip = pick_client_ip(
        headers.get("X-Forwarded-For", ""), remote_addr, rules.trusted_proxy_count
    )
    if client_ip is None:
        raise EventError(400, "Invalid request headers", "headers")
    common: dict[str, Any] = {
        "route": route,
        "connection_id": connection_id,
        "api_id": headers.get("X-Amzn-Apigateway-Api-Id", ""),
        "client_ip": client_ip,
        "user_agent": headers.get("User-Agent", ""),
    }
    if route == CONNECT:
        channel = query.get("channel", "")
        if channel and not is_valid_channel_name(
            channel, rules.channel_pattern, rules.max_channel_length
        ):
            raise EventError(400, "Invalid channel", "channel")
        return Event(
            **common,
            channel=channel,
            ws_token=query.get(TOKEN_PARAMETER, ""),
            origin=headers.get("Origin") or None,
        )
    if route == DISCONNECT:
        return Event(**common)
    return Event(**common, body=parse_body(body, rules.max_body_size))


def is_valid_connection_id(value: str) -> bool:
    return CONNECTION_ID_PATTERN.fullmatch(value) is not None


def is_valid_channel_name(name: str, pattern: re.Pattern[str], max_length: int) -> bool:
    return 0 < len(name) <= max_length and pattern.fullmatch(name) is not None


def pick_client_ip(forwarded_for: str, remote_addr: str, trusted_proxy_count: int) -> str | None:
    """The client's address as seen by the outermost trusted proxy.

    Each trusted proxy appends the address it received the request from, so the
    client is ``trusted_proxy_count`` entries from the right of ``X-Forwarded-For``;
    entries further left were written by the client and prove nothing. With 0 trusted
    proxies it is the socket's peer. ``None`` when that entry is not an IP address.
    """
    if trusted_proxy_count == 0:
        candidate = remote_addr
    else:
        entries = [entry.strip() for entry in forwarded_for.split(",") if entry.strip()]
        if not entries:
            return None
        candidate = entries[max(len(entries) - trusted_proxy_count, 0)]
    return valid_ip(candidate)


@functools.lru_cache(maxsize=4096)
def valid_ip(candidate: str) -> str | None:
    """``candidate`` as a ``GenericIPAddressField`` or PostgreSQL ``inet`` stores it, or
    ``None``: no IPv6 zone id (``fe80::1%eth0``, which neither can store) and nothing
    longer than an address can be."""
    if len(candidate) > MAX_IP_LENGTH or "%" in candidate:
        return None
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


def parse_body(raw: bytes, max_size: int) -> dict[str, Any]:
    """A message body as a JSON object; anything else is refused with a clear 4xx."""
    if len(raw) > max_size:
        raise EventError(413, "Message too large", "body")
    if not raw.strip():
        return {}
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise EventError(400, "Message is not UTF-8", "body") from None
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise EventError(400, "Message is nested too deeply", "body") from None
    except ValueError:
        raise EventError(400, "Message is not valid JSON", "body") from None
    if not isinstance(value, dict):
        raise EventError(400, "Message must be a JSON object", "body")
    if nesting_depth(value) > MAX_BODY_DEPTH:
        raise EventError(400, "Message is nested too deeply", "body")
    return value


def nesting_depth(value: Any) -> int:
    """How deeply objects and arrays nest in ``value`` (a scalar is 0), without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            items: Iterable[Any] = item.values()
        elif isinstance(item, list):
            items = item
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in items)
    return deepest


def _reject_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; a handler should never see them.
    raise ValueError(name)


_wsgi_name = functools.lru_cache(maxsize=256)(HttpHeaders.to_wsgi_name)


class MetaHeaders(Mapping[str, str]):
    """The headers of a WSGI environ, looked up one at a time (case-insensitive), without
    first parsing them all as ``request.headers`` does: an event reads only a few."""

    def __init__(self, meta: Mapping[str, Any]) -> None:
        self._meta = meta

    def __getitem__(self, name: str) -> str:
        return str(self._meta[_wsgi_name(name)])

    def get(self, name: str, default: Any = None) -> Any:
        value = self._meta.get(_wsgi_name(name))
        return default if value is None else str(value)

    def __iter__(self) -> Iterator[str]:
        return iter(HttpHeaders(self._meta))

    def __len__(self) -> int:
        return len(HttpHeaders(self._meta))


def missing_names(headers: Mapping[str, str], names: Iterable[str]) -> list[str]:
    """The ``names`` absent from ``headers`` (header lookups are case-insensitive)."""
    return [name for name in names if not headers.get(name)]


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin_parts(origin: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(origin.strip().lower())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return parts.scheme, parts.hostname, port or _DEFAULT_PORTS[parts.scheme]


def origin_allowed(origin: str | None, host: str, allowed_origins: list[str] | None) -> bool:
    """Whether a page at ``origin`` may open a connection to the backend at ``host``.

    No ``Origin`` means no browser, and cross-site hijacking needs a browser, so it
    passes. With ``allowed_origins`` configured the origin must be one of them (or the
    list holds ``"*"``); otherwise the page's host must be the backend host or a
    sub-domain of it, on the same port.
    """
    if origin is None:
        return True
    parts = _origin_parts(origin)
    if parts is None:
        return False
    if allowed_origins is not None:
        return "*" in allowed_origins or parts in {_origin_parts(o) for o in allowed_origins}
    scheme, origin_host, origin_port = parts
    domain, port = split_domain_port(host)
    if not domain:
        return False
    backend_port = int(port) if port else _DEFAULT_PORTS[scheme]
    return origin_port == backend_port and (
        origin_host == domain or origin_host.endswith("." + domain)
    )
