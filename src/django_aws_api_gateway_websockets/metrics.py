"""Prometheus metrics, when ``prometheus_client`` is installed (``pip install
django-aws-api-gateway-websockets[metrics]``); without it every hook here does nothing.

The metrics live in ``prometheus_client``'s default registry, so an existing
``/metrics`` endpoint (django-prometheus, or :func:`metrics_view`) shows them. Every
label takes values from a short fixed list, a gateway's name, or a route that has been
answered; never a connection id, a user or a channel name.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from django.http import HttpRequest, HttpResponse

from .billing import message_units

try:
    import prometheus_client
except ImportError:  # the optional dependency is not installed
    prometheus_client = None  # type: ignore[assignment]

ENABLED = prometheus_client is not None

F = TypeVar("F", bound=Callable[..., Any])

#: Why ``$connect`` was refused, from the refusal the view answered with.
CONNECT_REFUSALS = {
    "Invalid or expired token": "token",
    "Too many connection attempts": "rate_limited",
    "Permission Denied": "permission",
    "Host is not in Origin": "origin",
    "Host is not in AllowedHosts": "host",
    "Invalid channel": "channel",
    "Invalid session": "session",
    "Duplicate connection ID": "duplicate",
    "Invalid request headers": "headers",
    "Unexpected Useragent": "user_agent",
    "Invalid request": "gateway_secret",
}
#: Route slugs of the lifecycle events, always labelled as themselves.
LIFECYCLE = frozenset({"connect", "disconnect", "default"})
#: Most distinct message routes labelled by name; later ones are ``other``.
MAX_ROUTES = 64

OTHER = "other"


def _refusal(response: HttpResponse, reasons: dict[str, str]) -> str:
    if getattr(response, "streaming", False):
        return OTHER
    text = response.content[:64].decode("utf-8", "replace")
    if text.startswith("Missing"):
        return "headers"
    return reasons.get(text, OTHER)


def _token_refusal(response: HttpResponse) -> str:
    """The token view's own ``reason`` code (a bounded set), from its JSON answer."""
    from .admission import REASONS  # apps.py imports this module before models load

    try:
        reason = json.loads(response.content).get("reason")
    except (ValueError, AttributeError):
        return OTHER
    return reason if reason in REASONS else OTHER


class _Routes:
    """The message routes answered so far, up to ``MAX_ROUTES``."""

    def __init__(self) -> None:
        self._known: set[str] = set()
        self._lock = threading.Lock()

    def label(self, route: str, status: int) -> str:
        if route in LIFECYCLE or route in self._known:
            return route
        if status >= 400:
            return OTHER
        with self._lock:
            if len(self._known) < MAX_ROUTES:
                self._known.add(route)
                return route
        return OTHER


_routes = _Routes()


class Timeline:
    """Counts per minute over the last hour in this process, for the admin dashboard."""

    MINUTES = 60

    def __init__(self) -> None:
        self._counts: dict[str, dict[int, int]] = {}
        self._lock = threading.Lock()

    def add(self, name: str, count: int = 1, now: float | None = None) -> None:
        minute = int((time.time() if now is None else now) // 60)
        with self._lock:
            counts = self._counts.setdefault(name, {})
            counts[minute] = counts.get(minute, 0) + count
            if len(counts) > self.MINUTES:
                for old in [m for m in counts if m <= minute - self.MINUTES]:
                    del counts[old]

    def series(self, name: str, now: float | None = None) -> list[int]:
        """The last ``MINUTES`` minutes, oldest first, the current minute last."""
        minute = int((time.time() if now is None else now) // 60)
        with self._lock:
            counts = dict(self._counts.get(name, {}))
        return [counts.get(m, 0) for m in range(minute - self.MINUTES + 1, minute + 1)]


timeline = Timeline()

if prometheus_client is not None:
    from prometheus_client import Counter, Histogram

    CONNECTS = Counter(
        "websockets_connects",
        "$connect calls by outcome (accepted, refused) and refusal reason.",
        ["outcome", "reason"],
    )
    TOKENS = Counter(
        "websockets_tokens",
        "Token requests by outcome (issued, refused) and refusal reason.",
        ["outcome", "reason"],
    )
    MESSAGES = Counter(
        "websockets_messages",
        "Messages received by route and HTTP status of the answer.",
        ["route", "status"],
    )
    EVENT_SECONDS = Histogram(
        "websockets_event_duration_seconds",
        "Time Django took to answer API Gateway, by route (handlers included).",
        ["route"],
    )
    FANOUT_POSTS = Counter(
        "websockets_fanout_posts",
        "Management API posts by final verdict (sent, gone, throttled, failed).",
        ["verdict"],
    )
    MESSAGE_UNITS = Counter(
        "websockets_message_units",
        "Messages in API Gateway's 32 KB billing units, by direction (in, out).",
        ["direction"],
    )
    PACER_WAIT = Counter(
        "websockets_pacer_wait_seconds",
        "Seconds the send pacer held posts back to stay under send_rate_per_second.",
    )
    BATCHES_ENQUEUED = Counter(
        "websockets_background_batches_enqueued",
        "Background send batches enqueued (backlog = enqueued - completed).",
    )
    BATCHES_COMPLETED = Counter(
        "websockets_background_batches_completed",
        "Background send batches completed.",
    )
    COUNTERS = {
        "websockets_connects": CONNECTS,
        "websockets_tokens": TOKENS,
        "websockets_messages": MESSAGES,
        "websockets_fanout_posts": FANOUT_POSTS,
        "websockets_message_units": MESSAGE_UNITS,
    }


@functools.cache
def _child(metric: Any, *labels: str) -> Any:
    """``metric.labels(*labels)``, looked up once: the labels are a bounded set."""
    return metric.labels(*labels)


def observe_event(dispatch: F) -> F:
    """Decorate ``WebSocketView.dispatch``: connects by reason, messages by route and
    status, answer time, received message units."""
    if not ENABLED:
        return dispatch

    @functools.wraps(dispatch)
    def wrapper(view: Any, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        started = time.perf_counter()
        response = dispatch(view, request, *args, **kwargs)
        route = _routes.label(str(kwargs.get("route", "default")), response.status_code)
        _child(EVENT_SECONDS, route).observe(time.perf_counter() - started)
        if route == "connect":
            if response.status_code < 400:
                _child(CONNECTS, "accepted", "").inc()
            else:
                _child(CONNECTS, "refused", _refusal(response, CONNECT_REFUSALS)).inc()
        elif route != "disconnect":
            _child(MESSAGES, route, str(response.status_code)).inc()
            timeline.add("messages")
            length = str(request.META.get("CONTENT_LENGTH") or "0")
            _child(MESSAGE_UNITS, "in").inc(message_units(int(length) if length.isdigit() else 0))
        return response

    return wrapper  # type: ignore[return-value]


def observe_token(post: F) -> F:
    """Decorate ``WebSocketTokenView.post``: tokens issued and refused, by reason."""
    if not ENABLED:
        return post

    @functools.wraps(post)
    def wrapper(view: Any, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = post(view, request, *args, **kwargs)
        if response.status_code < 400:
            _child(TOKENS, "issued", "").inc()
        else:
            _child(TOKENS, "refused", _token_refusal(response)).inc()
        return response

    return wrapper  # type: ignore[return-value]


def delivered(verdict: str, status: int | None, size: int = 0) -> None:
    """One recipient's final verdict; a failure whose last answer was 429 is throttled.

    ``size``, when given, counts a sent message's billing units too.
    """
    if not ENABLED:
        return
    _child(FANOUT_POSTS, "throttled" if verdict == "failed" and status == 429 else verdict).inc()
    if size and verdict == "sent":
        _child(MESSAGE_UNITS, "out").inc(message_units(size))


def sent(size: int, recipients: int) -> None:
    """``recipients`` connections were sent a message of ``size`` bytes."""
    if ENABLED and recipients:
        _child(MESSAGE_UNITS, "out").inc(message_units(size) * recipients)


def pacer_wait(seconds: float) -> float:
    """Count a wait of the pacer; returns ``seconds`` so the call wraps the sleep."""
    if ENABLED and seconds > 0:
        PACER_WAIT.inc(seconds)
    return seconds


def batches_enqueued(results: list[Any]) -> list[Any]:
    """Count background batches as they are enqueued; returns ``results``."""
    if ENABLED:
        BATCHES_ENQUEUED.inc(len(results))
    return results


def batch_completed() -> None:
    if ENABLED:
        BATCHES_COMPLETED.inc()


def counts(name: str, label: str) -> dict[str, int]:
    """A counter's totals in this process by one label, e.g. fan-out posts by verdict."""
    if not ENABLED:
        return {}
    totals: dict[str, int] = {}
    for family in COUNTERS[name].collect():
        for sample in family.samples:
            if sample.name == f"{name}_total":
                key = sample.labels.get(label, "")
                totals[key] = totals.get(key, 0) + int(sample.value)
    return totals


def sent_units() -> int:
    """Message units this process sent since it started (for the bill estimate)."""
    return counts("websockets_message_units", "direction").get("out", 0)


class OpenSessions:
    """A collector: connected sessions by gateway name, counted when scraped."""

    def _family(self) -> Any:
        from prometheus_client.core import GaugeMetricFamily

        return GaugeMetricFamily(
            "websockets_open_sessions",
            "Sessions marked connected, by gateway (api_name).",
            labels=["gateway"],
        )

    def describe(self) -> Iterator[Any]:
        """What ``collect`` yields, without a query (read when the collector registers)."""
        yield self._family()

    def collect(self) -> Iterator[Any]:
        from django.db import DatabaseError
        from django.db.models import Count, Q

        from .models import ApiGateway, WebSocketSession

        family = self._family()
        try:
            # Every gateway, with zero too, so that a series never vanishes.
            gateways = ApiGateway.objects.annotate(
                open=Count("sessions", filter=Q(sessions__connected=True))
            ).values_list("api_name", "open")
            for name, count in gateways:
                family.add_metric([name], count)
            orphans = WebSocketSession.objects.filter(connected=True, api_gateway=None).count()
            if orphans:
                family.add_metric(["none"], orphans)
        except DatabaseError:
            return
        yield family


_installed = False


def install() -> None:
    """Register the open-sessions collector once (called when the app is ready)."""
    global _installed
    if ENABLED and not _installed:
        prometheus_client.REGISTRY.register(OpenSessions())
        _installed = True


def metrics_view(request: HttpRequest) -> HttpResponse:
    """Every metric of the default registry in Prometheus' text format; 404 without
    ``prometheus_client``. Route it behind your own access control."""
    if not ENABLED:
        return HttpResponse("prometheus_client is not installed", status=404)
    return HttpResponse(
        prometheus_client.generate_latest(), content_type=prometheus_client.CONTENT_TYPE_LATEST
    )
