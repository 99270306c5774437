"""The figures of the admin dashboard, and its charts as inline SVG (no script, no CDN).

Open connections, connects per minute and the bill estimate come from the database, so
they cover every process. Messages per minute, refusals and fan-out results come from
this process's metrics (:mod:`.metrics`), so they need ``prometheus_client`` and show
what the process serving the page has seen since it started.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count
from django.db.models.functions import TruncMinute
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from . import metrics
from .billing import Estimate, estimate, usage_this_month
from .models import WebSocketSession

MINUTES = metrics.Timeline.MINUTES
WIDTH, HEIGHT = 600, 120


@dataclass(frozen=True)
class Figures:
    open_connections: int
    by_gateway: list[tuple[str, int]]
    connects: list[int]  # per minute, oldest first
    messages: list[int] | None  # None without metrics
    refusals: list[tuple[str, int]]
    fanout: list[tuple[str, int]]
    estimate: Estimate
    metrics_enabled: bool


def connects_per_minute(now: datetime) -> list[int]:
    """Sessions opened in each of the last ``MINUTES`` minutes, in one grouped query."""
    end = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    start = end - timedelta(minutes=MINUTES)
    rows = (
        WebSocketSession.objects.filter(created_on__gte=start, created_on__lt=end)
        .annotate(minute=TruncMinute("created_on"))
        .values_list("minute")
        .annotate(count=Count("pk"))
        .order_by()
    )
    series = [0] * MINUTES
    for minute, count in rows:
        index = int((minute - start).total_seconds() // 60)
        if 0 <= index < MINUTES:
            series[index] += count
    return series


def figures(now: datetime | None = None) -> Figures:
    now = now or timezone.now()
    by_gateway = list(
        WebSocketSession.objects.filter(connected=True)
        .values_list("api_gateway__api_name")
        .annotate(count=Count("pk"))
        .order_by("-count")
    )
    refusals = metrics.counts("websockets_connects", "reason")
    refusals.pop("", None)  # the accepted ones
    return Figures(
        open_connections=sum(count for _, count in by_gateway),
        by_gateway=[(name or "(no gateway)", count) for name, count in by_gateway],
        connects=connects_per_minute(now),
        messages=metrics.timeline.series("messages") if metrics.ENABLED else None,
        refusals=sorted(refusals.items(), key=lambda item: -item[1]),
        fanout=sorted(metrics.counts("websockets_fanout_posts", "verdict").items()),
        estimate=estimate(usage_this_month(now, outbound_units=metrics.sent_units())),
        metrics_enabled=metrics.ENABLED,
    )


def _n(value: float) -> str:
    return f"{value:.1f}"


def column_chart(values: list[int], title: str) -> SafeString:
    """One column per minute, oldest on the left, scaled to the largest value."""
    top = max(values, default=0) or 1
    step = WIDTH / max(len(values), 1)
    columns = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}"><title>{}</title></rect>',
        (
            (
                _n(i * step),
                _n(HEIGHT - value * HEIGHT / top),
                _n(max(step - 1, 1)),
                _n(value * HEIGHT / top),
                f"{len(values) - 1 - i} min ago: {value}",
            )
            for i, value in enumerate(values)
        ),
    )
    return format_html(
        '<svg class="ws-chart" role="img" viewBox="0 0 {} {}" width="{}" height="{}">'
        "<title>{}</title>"
        '<line x1="0" y1="{}" x2="{}" y2="{}" class="ws-axis"/>{}'
        '<text x="2" y="12">{}</text></svg>',
        WIDTH,
        HEIGHT + 1,
        WIDTH,
        HEIGHT + 1,
        title,
        HEIGHT,
        WIDTH,
        HEIGHT,
        columns,
        f"max {max(values, default=0)}",
    )


def bar_chart(items: list[tuple[str, int]], title: str) -> SafeString:
    """Horizontal bars with their label and value, scaled to the largest value."""
    row, label_width = 22, 150
    scale = (WIDTH - label_width - 60) / (max((value for _, value in items), default=0) or 1)
    bars = format_html_join(
        "",
        '<text x="0" y="{}">{}</text>'
        '<rect x="{}" y="{}" width="{}" height="16"><title>{}: {}</title></rect>'
        '<text x="{}" y="{}">{}</text>',
        (
            (
                i * row + 14,
                label,
                label_width,
                i * row + 2,
                _n(max(value * scale, 1)),
                label,
                value,
                _n(label_width + value * scale + 4),
                i * row + 14,
                value,
            )
            for i, (label, value) in enumerate(items)
        ),
    )
    height = max(len(items), 1) * row
    return format_html(
        '<svg class="ws-chart" role="img" viewBox="0 0 {} {}" width="{}" height="{}">'
        "<title>{}</title>{}</svg>",
        WIDTH,
        height,
        WIDTH,
        height,
        title,
        bars,
    )
