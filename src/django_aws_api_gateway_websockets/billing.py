"""An estimate of this month's API Gateway bill for WebSocket APIs.

API Gateway bills WebSocket APIs on two meters: messages, sent and received, counted in
32 KB units (a 33 KB message is two), and connection-minutes. Prices come from settings
(``conf.py``) whose defaults are the published us-east-1 prices; the free tier is an
option because only accounts in their first 12 months have it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

from django.db.models import (
    Case,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Greatest, Least
from django.utils import timezone

from .conf import get_boolean_setting, get_float_setting, get_setting

#: API Gateway meters messages in units of this many bytes.
MESSAGE_UNIT_BYTES = 32 * 1024
#: Messages billed at the first price; those beyond at the second.
FIRST_TIER_MESSAGES = 1_000_000_000
#: What the free tier includes each month.
FREE_TIER_MESSAGES = 1_000_000
FREE_TIER_CONNECTION_MINUTES = 750_000

MILLION = 1_000_000


def message_units(size_bytes: int) -> int:
    """Billed units of one message of ``size_bytes`` bytes; an empty message is one."""
    return max(1, math.ceil(size_bytes / MESSAGE_UNIT_BYTES))


@dataclass(frozen=True)
class Prices:
    """USD per million, and whether the free tier applies."""

    message_per_million: float = 1.00
    message_per_million_over_billion: float = 0.80
    connection_minute_per_million: float = 0.25
    free_tier: bool = False

    @classmethod
    def from_settings(cls) -> Prices:
        return cls(
            message_per_million=get_float_setting("billing_message_price_per_million"),
            message_per_million_over_billion=get_float_setting(
                "billing_message_price_per_million_over_billion"
            ),
            connection_minute_per_million=get_float_setting(
                "billing_connection_minute_price_per_million"
            ),
            free_tier=get_boolean_setting("billing_free_tier"),
        )


@dataclass(frozen=True)
class Usage:
    """What the meters count: message units (both directions) and connection-minutes."""

    message_units: int
    connection_minutes: float


@dataclass(frozen=True)
class Estimate:
    usage: Usage
    billed_message_units: int
    billed_connection_minutes: float
    messages_usd: float
    connection_minutes_usd: float

    @property
    def total_usd(self) -> float:
        return self.messages_usd + self.connection_minutes_usd


def estimate(usage: Usage, prices: Prices | None = None) -> Estimate:
    """The bill for ``usage``: tiered message price plus connection-minutes, less free tier."""
    prices = prices or Prices.from_settings()
    units = usage.message_units
    minutes = usage.connection_minutes
    if prices.free_tier:
        units = max(0, units - FREE_TIER_MESSAGES)
        minutes = max(0.0, minutes - FREE_TIER_CONNECTION_MINUTES)
    first = min(units, FIRST_TIER_MESSAGES)
    beyond = units - first
    messages_usd = (
        first * prices.message_per_million + beyond * prices.message_per_million_over_billion
    ) / MILLION
    return Estimate(
        usage=usage,
        billed_message_units=units,
        billed_connection_minutes=minutes,
        messages_usd=messages_usd,
        connection_minutes_usd=minutes * prices.connection_minute_per_million / MILLION,
    )


def month_start(now: datetime) -> datetime:
    """The first instant of ``now``'s month in UTC, the month AWS bills by."""
    return now.astimezone(dt_timezone.utc).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def usage_this_month(now: datetime | None = None, outbound_units: int = 0) -> Usage:
    """Usage in the records since the start of the month, in one query.

    Received messages are the sessions' request counts less the ``$connect`` (one unit
    each: the records keep no sizes). Connection time runs from the connect, or the month
    start, to the disconnect, or now, at most the 2-hour connection limit. Sent messages
    are not in the records: pass ``outbound_units`` when a count is known.
    """
    from .models import WebSocketSession  # not at import: metrics imports this module

    now = now or timezone.now()
    start = month_start(now)
    longest = timedelta(seconds=get_setting("session_max_age_seconds"))
    cap = ExpressionWrapper(
        F("created_on") + Value(longest, output_field=DurationField()),
        output_field=DateTimeField(),
    )
    end = Least(
        Case(When(connected=True, then=Value(now)), default=F("updated_on")),
        cap,
    )
    totals = (
        WebSocketSession.objects.filter(
            Q(updated_on__gte=start) | Q(connected=True), created_on__gte=start - longest
        )
        .annotate(
            billed=ExpressionWrapper(
                end - Greatest(F("created_on"), Value(start)), output_field=DurationField()
            )
        )
        .aggregate(time=Sum("billed"), received=Sum(F("request_count") - 1))
    )
    time = totals["time"] or timedelta()
    return Usage(
        message_units=int(totals["received"] or 0) + outbound_units,
        connection_minutes=max(0.0, time.total_seconds() / 60),
    )
