"""The cost estimate against hand-computed bills."""

from __future__ import annotations

from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

import pytest
from django.test import override_settings

from django_aws_api_gateway_websockets.billing import (
    Prices,
    Usage,
    estimate,
    message_units,
    month_start,
    usage_this_month,
)
from django_aws_api_gateway_websockets.models import WebSocketSession

KB = 1024
US_EAST_1 = Prices()


@pytest.mark.parametrize(
    ("size", "units"),
    [(0, 1), (1, 1), (32 * KB, 1), (32 * KB + 1, 2), (33 * KB, 2), (64 * KB, 2), (128 * KB, 4)],
)
def test_messages_are_metered_in_32_kb_units(size: int, units: int) -> None:
    assert message_units(size) == units


def test_a_33_kb_message_costs_two_messages() -> None:
    # A million 33 KB messages are two million units: $2.00.
    bill = estimate(Usage(message_units=1_000_000 * message_units(33 * KB), connection_minutes=0))
    assert bill.billed_message_units == 2_000_000
    assert bill.messages_usd == pytest.approx(2.00)


def test_messages_and_connection_minutes_add_up() -> None:
    # 3M units at $1.00/M = $3.00; 10 connections open all of a 30-day month:
    # 10 * 43,200 minutes = 432,000 minutes at $0.25/M = $0.108.
    bill = estimate(Usage(message_units=3_000_000, connection_minutes=432_000), US_EAST_1)
    assert bill.messages_usd == pytest.approx(3.00)
    assert bill.connection_minutes_usd == pytest.approx(0.108)
    assert bill.total_usd == pytest.approx(3.108)


def test_messages_beyond_a_billion_get_the_second_price() -> None:
    # 1,000M at $1.00/M + 500M at $0.80/M = $1,000 + $400.
    bill = estimate(Usage(message_units=1_500_000_000, connection_minutes=0), US_EAST_1)
    assert bill.messages_usd == pytest.approx(1400.00)


def test_the_free_tier_takes_a_million_messages_and_750k_minutes() -> None:
    free = Prices(free_tier=True)
    inside = estimate(Usage(message_units=999_999, connection_minutes=750_000), free)
    assert inside.total_usd == 0
    # 2.5M units - 1M free = 1.5M at $1.00/M; 1.75M minutes - 0.75M = 1M at $0.25/M.
    beyond = estimate(Usage(message_units=2_500_000, connection_minutes=1_750_000), free)
    assert beyond.billed_message_units == 1_500_000
    assert beyond.billed_connection_minutes == 1_000_000
    assert beyond.total_usd == pytest.approx(1.50 + 0.25)


@override_settings(
    WEBSOCKETS={
        "billing_message_price_per_million": 2.0,
        "billing_connection_minute_price_per_million": 0.5,
        "billing_free_tier": True,
    }
)
def test_prices_come_from_settings() -> None:
    bill = estimate(Usage(message_units=2_000_000, connection_minutes=2_750_000))
    assert bill.messages_usd == pytest.approx(2.0)
    assert bill.connection_minutes_usd == pytest.approx(1.0)


def test_the_month_starts_in_utc() -> None:
    tz = dt_timezone(timedelta(hours=-5))
    late_on_the_last_day = datetime(2026, 3, 31, 22, 0, tzinfo=tz)  # April 1st, 03:00 UTC
    assert month_start(late_on_the_last_day) == datetime(2026, 4, 1, tzinfo=dt_timezone.utc)


def _session(connection_id: str, created: datetime, updated: datetime, **fields: object) -> None:
    session = WebSocketSession.objects.create(connection_id=connection_id, **fields)
    WebSocketSession.objects.filter(pk=session.pk).update(created_on=created, updated_on=updated)


@pytest.mark.django_db
def test_usage_this_month_from_the_records() -> None:
    now = datetime(2026, 5, 10, 12, 0, tzinfo=dt_timezone.utc)
    start = datetime(2026, 5, 1, tzinfo=dt_timezone.utc)
    # Closed after 30 minutes, 11 requests: the $connect and 10 messages.
    _session("closed", now - timedelta(hours=3), now - timedelta(hours=2, minutes=30),
             connected=False, request_count=11)  # fmt: skip
    # Open for 20 minutes so far, 5 messages.
    _session("open", now - timedelta(minutes=20), now, connected=True, request_count=6)
    # Opened before the month began: only the 15 minutes inside the month count.
    _session("across", start - timedelta(minutes=45), start + timedelta(minutes=15),
             connected=False, request_count=1)  # fmt: skip
    # Never disconnected: counted up to the 2-hour connection limit, not until now.
    _session("stale", now - timedelta(hours=5), now - timedelta(hours=5),
             connected=True, request_count=3)  # fmt: skip
    # Last month: not counted.
    _session("old", start - timedelta(days=3), start - timedelta(days=3, minutes=-10),
             connected=False, request_count=50)  # fmt: skip

    usage = usage_this_month(now, outbound_units=7)

    assert usage.message_units == 10 + 5 + 0 + 2 + 7
    assert usage.connection_minutes == pytest.approx(30 + 20 + 15 + 120)


@pytest.mark.django_db
def test_usage_of_an_empty_month_is_zero() -> None:
    assert usage_this_month() == Usage(message_units=0, connection_minutes=0.0)
