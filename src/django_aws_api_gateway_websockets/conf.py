"""Every setting the package reads, its default and its validation, in one place.

Settings live in the ``WEBSOCKETS`` dict of the Django settings module, plus a few
top-level AWS settings kept from the original package (``AWS_GATEWAY_REGION_NAME``,
``AWS_REGION_NAME``, ``AWS_IAM_PROFILE``, ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``).

Runtime readers never raise on a bad value: they fall back to the default, and the
system checks (``checks.py``) report the bad value instead.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings

#: Positive integer settings and their defaults.
DEFAULTS: dict[str, int] = {
    # Token endpoint: tokens one user may obtain per minute.
    "token_rate_limit_per_minute": 20,
    # How long a token stays valid, in seconds.
    "token_expiry_seconds": 60,
    # Connection attempts per client IP and per user in a window (views may override).
    "rate_limit_max_attempts": 20,
    "rate_limit_window_minutes": 1,
    # IPv6 clients are limited per network of this prefix length (one customer's /64).
    "rate_limit_ipv6_prefix": 64,
    # How many proxies that append to X-Forwarded-For stand in front of Django.
    # API Gateway itself is one. The client IP is the entry this far from the right.
    "trusted_proxy_count": 1,
    # Fan-out: most Management API posts per second from one process (the account
    # limit is 10,000 requests per second, shared with all API Gateway traffic).
    "send_rate_per_second": 8000,
    # Fan-out: concurrent posts in flight from one process.
    "send_concurrency": 200,
    # Fan-out: attempts per recipient on 429, 5xx and timeouts.
    "send_max_attempts": 4,
    # Fan-out: recipients read from the database per chunk and per background task.
    "send_batch_size": 1000,
    # Background sends: recipients per batch (one task each).
    "background_batch_size": 250,
    # Background sends: seconds a worker holds a batch without reporting progress; a
    # batch whose lease expired (its worker died) is taken over by another worker.
    "background_lease_seconds": 60,
    # Background sends: recipients posted between two progress records; at most twice
    # this many are in flight, which bounds the duplicates after a crash.
    "background_checkpoint_every": 50,
    # Seconds after which a connected session is considered gone (AWS caps at 2 h).
    "session_max_age_seconds": 7200,
    # Seconds without activity after which API Gateway has closed a connection (its idle
    # timeout is 10 minutes): such sessions are probed with GET @connections/{id}.
    "session_idle_seconds": 600,
    # Channels one connection may subscribe to besides its primary channel.
    "max_subscriptions": 100,
    # Bytes of UTF-8 JSON a member's presence payload (the view's presence_data) may take.
    "presence_payload_max_bytes": 1024,
    # Channel history: messages kept per channel, and for how long (seconds). Both
    # apply when history is read and when the cleanup command deletes it.
    "history_max_messages": 1000,
    "history_max_age_seconds": 86400,
}

#: Upper bounds of integer settings that have one.
INT_MAXIMA: dict[str, int] = {"rate_limit_ipv6_prefix": 128}

#: Boolean settings and their defaults.
BOOLEAN_DEFAULTS: dict[str, bool] = {
    # Push edits of gateways and routes to AWS when they are saved.
    "push_changes_to_aws": True,
    # Count each message in WebSocketSession.request_count and record its time in
    # updated_on (in the statement that loads the session); False makes messages read-only.
    "count_messages": True,
    # Cost estimate: subtract AWS's free tier (new accounts, first 12 months).
    "billing_free_tier": False,
}

#: Float settings and their defaults.
FLOAT_DEFAULTS: dict[str, float] = {
    # Fan-out: seconds to wait for one Management API answer.
    "send_timeout_seconds": 10.0,
    # Cost estimate, in USD, with the published us-east-1 prices.
    "billing_message_price_per_million": 1.00,
    "billing_message_price_per_million_over_billion": 0.80,
    "billing_connection_minute_price_per_million": 0.25,
}

#: Settings that have no default (unset means "off" or "AWS").
OPTIONAL_KEYS = frozenset(
    {
        "gateway_secret",
        "allowed_integration_hosts",
        "allowed_origins",
        "management_endpoint_url",
        "websocket_url",
        "send_rate_redis_url",
        "presence_channels",
        "history_channels",
    }
)

KNOWN_KEYS = (
    frozenset(DEFAULTS) | frozenset(BOOLEAN_DEFAULTS) | frozenset(FLOAT_DEFAULTS) | OPTIONAL_KEYS
)

#: The header API Gateway adds through a static integration mapping when a secret is set.
GATEWAY_SECRET_HEADER = "X-Ws-Gateway-Secret"
#: 32 or more characters that survive a single-quoted API Gateway mapping literal.
GATEWAY_SECRET_PATTERN = re.compile(r"[A-Za-z0-9._~+/=-]{32,}")


def newline_hint(secret: str) -> str:
    """Why a secret read from a file is refused: the newline it usually ends with."""
    return (
        " (it contains a newline: strip the value read from a file)"
        if ("\n" in secret or "\r" in secret)
        else ""
    )


#: The Management API endpoint of an API in AWS.
AWS_MANAGEMENT_ENDPOINT = "https://{api_id}.execute-api.{region}.amazonaws.com/{stage}"


def get_websockets_config() -> dict[str, Any]:
    """The ``WEBSOCKETS`` dict, or ``{}`` when it is unset or not a dict."""
    config = getattr(settings, "WEBSOCKETS", None)
    return config if isinstance(config, dict) else {}


def is_positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def get_setting(name: str) -> int:
    """A positive integer setting; a missing or invalid value gives the default."""
    default = DEFAULTS[name]
    value = get_websockets_config().get(name, default)
    if name == "trusted_proxy_count":
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
        return value if ok else default
    ok = is_positive_int(value) and value <= INT_MAXIMA.get(name, value)
    return value if ok else default


def get_boolean_setting(name: str) -> bool:
    default = BOOLEAN_DEFAULTS[name]
    value = get_websockets_config().get(name, default)
    return value if isinstance(value, bool) else default


def get_float_setting(name: str) -> float:
    default = FLOAT_DEFAULTS[name]
    value = get_websockets_config().get(name, default)
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0
    return float(value) if ok else default


def get_gateway_secrets() -> list[str]:
    """Accepted gateway secrets; the first is the one API Gateway is configured to send.

    An empty list means the check is off.
    """
    value = get_websockets_config().get("gateway_secret")
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, (list, tuple)):
        return [item for item in value if isinstance(item, str) and item]
    return []


def _host_list(key: str) -> list[str]:
    value = get_websockets_config().get(key)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        return []
    return [item.strip().lower() for item in value if isinstance(item, str) and item.strip()]


def get_allowed_integration_hosts() -> list[str]:
    """Hosts an integration URL may name; ``*.example.com`` means sub-domains only.

    Empty means any host.
    """
    return _host_list("allowed_integration_hosts")


def get_allowed_origins() -> list[str] | None:
    """Origins (``scheme://host[:port]``) allowed to open a connection.

    ``None`` (unset) keeps the original rule: the page's host must be the backend host
    or one of its sub-domains. ``["*"]`` allows every origin.
    """
    if "allowed_origins" not in get_websockets_config():
        return None
    return [origin.rstrip("/") for origin in _host_list("allowed_origins")]


def get_region_name() -> str:
    """The AWS region for API Gateway; ``RuntimeError`` when none is configured."""
    region = getattr(settings, "AWS_GATEWAY_REGION_NAME", None) or getattr(
        settings, "AWS_REGION_NAME", None
    )
    if not region:
        raise RuntimeError("Set AWS_GATEWAY_REGION_NAME (or AWS_REGION_NAME) in your settings.")
    return str(region)


def get_management_endpoint_template() -> str:
    """The Management API endpoint with ``{api_id}``, ``{region}`` and ``{stage}`` slots.

    ``WEBSOCKETS["management_endpoint_url"]`` replaces AWS's address for all sending,
    for instance ``"http://127.0.0.1:8001/{stage}"`` for the local gateway.
    """
    value = get_websockets_config().get("management_endpoint_url")
    if isinstance(value, str) and value:
        return value.rstrip("/")
    return AWS_MANAGEMENT_ENDPOINT


def get_websocket_url() -> str | None:
    """Where browsers connect (``WEBSOCKETS["websocket_url"]``), for the template tags.

    For example ``"wss://ws.example.com"`` on AWS or ``"ws://127.0.0.1:8001/local"`` with
    the local gateway; ``None`` when unset or not a ws:// or wss:// URL.
    """
    value = get_websockets_config().get("websocket_url")
    if isinstance(value, str) and value.startswith(("ws://", "wss://")):
        return value
    return None


def get_send_rate_redis_url() -> str | None:
    """Where the account pacer shared by all processes keeps its bucket
    (``WEBSOCKETS["send_rate_redis_url"]``, e.g. ``"redis://127.0.0.1:6379/0"``); ``None``
    (unset) paces each process on its own."""
    value = get_websockets_config().get("send_rate_redis_url")
    if isinstance(value, str) and value.startswith(("redis://", "rediss://", "unix://")):
        return value
    return None


def get_presence_pattern() -> re.Pattern[str] | None:
    """The channels that keep presence (``WEBSOCKETS["presence_channels"]``, a regular
    expression a whole channel name must match); ``None`` when unset or not a valid
    expression (the system checks report that)."""
    value = get_websockets_config().get("presence_channels")
    if not isinstance(value, str) or not value:
        return None
    return _compiled(value)


def _compiled(expression: str) -> re.Pattern[str] | None:
    cached = _patterns.get(expression)
    if cached is None and expression not in _patterns:
        try:
            cached = re.compile(expression)
        except re.error:
            cached = None
        _patterns[expression] = cached
    return cached


#: Compiled regular expressions of settings, by their text (``None``: invalid).
_patterns: dict[str, re.Pattern[str] | None] = {}


def get_pattern_list(name: str) -> list[str]:
    """A setting that holds one regular expression or a list of them (such as
    ``WEBSOCKETS["history_channels"]``); the valid ones, ``[]`` when unset."""
    value = get_websockets_config().get(name)
    patterns = [value] if isinstance(value, str) else value
    if not isinstance(patterns, (list, tuple)):
        return []
    return [pattern for pattern in patterns if isinstance(pattern, str) and _compiles(pattern)]


def _compiles(pattern: str) -> bool:
    try:
        re.compile(pattern)
    except re.error:
        return False
    return True
