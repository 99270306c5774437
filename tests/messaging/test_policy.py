"""The decisions of a send, driven with numbers: no network, no database."""

from __future__ import annotations

import random

import pytest

from django_aws_api_gateway_websockets.messaging.policy import (
    BACKOFF_CAP_SECONDS,
    Failure,
    Verdict,
    backoff_delay,
    judge,
)
from django_aws_api_gateway_websockets.tokenbucket import TokenBucket
from tests.messaging.arrivals import max_in_window


@pytest.mark.parametrize(
    ("status", "failure", "attempt", "verdict"),
    [
        (200, None, 1, Verdict.SENT),
        (204, None, 4, Verdict.SENT),
        (410, None, 1, Verdict.GONE),
        (413, None, 1, Verdict.FAILED),
        (403, None, 1, Verdict.FAILED),
        (400, None, 1, Verdict.FAILED),
        (429, None, 1, Verdict.RETRY),
        (500, None, 3, Verdict.RETRY),
        (503, None, 1, Verdict.RETRY),
        (429, None, 4, Verdict.FAILED),
        (None, Failure.TIMEOUT, 1, Verdict.RETRY),
        (None, Failure.RESET, 2, Verdict.RETRY),
        (None, Failure.CONNECT, 1, Verdict.RETRY),
        (None, Failure.TIMEOUT, 4, Verdict.FAILED),
    ],
)
def test_judge(status: int | None, failure: Failure | None, attempt: int, verdict: Verdict) -> None:
    assert judge(status, failure, attempt, max_attempts=4) is verdict


def test_only_unanswered_posts_after_sending_are_ambiguous() -> None:
    assert Failure.TIMEOUT.ambiguous
    assert Failure.RESET.ambiguous
    assert not Failure.CONNECT.ambiguous


def test_backoff_is_full_jitter_below_a_growing_capped_ceiling() -> None:
    rng = random.Random(7)
    for attempt, ceiling in [(1, 0.05), (2, 0.1), (3, 0.2), (10, BACKOFF_CAP_SECONDS)]:
        delays = [backoff_delay(attempt, rng) for _ in range(500)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling * 0.9  # spread over the whole range
        assert min(delays) < ceiling * 0.1


def _send_times(
    bucket: TokenBucket, arrivals: list[float], rng: random.Random, late: float
) -> list[float]:
    """When each request, arriving at the given time, goes: it waits its turn, then for
    a token, and a third of the wake-ups are late by up to ``late`` (a busy loop)."""
    times, now = [], 0.0
    for arrival in arrivals:
        now = max(now, arrival)
        while not bucket.take(now):
            now += bucket.wait_time(now) + rng.choice([0.0, 0.0, rng.uniform(0, late)])
        times.append(now)
    return times


@pytest.mark.parametrize("late", [0.0, 0.02])
@pytest.mark.parametrize("rate", [10.0, 250.0, 8000.0])
def test_token_bucket_never_exceeds_its_rate(rate: float, late: float) -> None:
    rng = random.Random(1)
    bucket = TokenBucket.for_rate(rate, now=0.0)
    arrivals = sorted(rng.uniform(0, 2000 / rate) for _ in range(4000))
    times = _send_times(bucket, arrivals, rng, late)
    for window in (1 / rate, 10 / rate, 100 / rate, 1000 / rate, 0.05):
        assert max_in_window(times, window) <= bucket.capacity + rate * window + 1e-9
    if not late:  # and it does not idle either
        assert times[-1] == pytest.approx((4000 - bucket.capacity) / rate, rel=0.01)


def test_token_bucket_lets_a_burst_through_then_spaces_posts() -> None:
    bucket = TokenBucket.for_rate(1000.0, now=0.0)  # 10 posts of burst
    assert [bucket.take(0.0) for _ in range(11)] == [True] * 10 + [False]
    assert bucket.wait_time(0.0) == pytest.approx(0.001)
    assert bucket.wait_time(0.0005) == pytest.approx(0.0005)
    assert bucket.take(0.001)
    assert not bucket.take(0.001)


def test_a_long_pause_does_not_save_up_more_than_the_burst() -> None:
    bucket = TokenBucket.for_rate(100.0, now=0.0)
    assert sum(bucket.take(60.0) for _ in range(100)) == bucket.capacity == 1.0


def test_token_bucket_rate_change_applies_at_once() -> None:
    bucket = TokenBucket.for_rate(1000.0, now=0.0)
    while bucket.take(0.0):
        pass
    bucket.set_rate(10.0, now=0.0)
    assert bucket.capacity == 1.0
    assert bucket.wait_time(0.0) == pytest.approx(0.1)
