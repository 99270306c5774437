"""Rate limits as API Gateway applies them: token buckets, with the clock passed in."""

from __future__ import annotations

from ..tokenbucket import TokenBucket


def rate_limit(rate: float | None, burst: int, now: float = 0.0) -> TokenBucket | None:
    """``rate`` requests a second after a burst of ``burst``; no rate means no limit."""
    if not rate:
        return None
    capacity = float(max(1, burst))
    return TokenBucket(rate=rate, capacity=capacity, tokens=capacity, updated=now)


def admits(bucket: TokenBucket | None, now: float) -> bool:
    """Whether a request arriving at ``now`` is within the limit (it takes a token)."""
    return bucket is None or bucket.take(now)
