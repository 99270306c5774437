"""Token buckets: the arithmetic of a rate limit, with the clock passed in so that
tests drive it with numbers. The fan-out pacer and the local gateway's limits share it."""

from __future__ import annotations

from dataclasses import dataclass

_EPSILON = 1e-9


@dataclass
class TokenBucket:
    """A pacer's arithmetic: at most ``capacity + rate * t`` posts in any ``t`` seconds,
    provided each post ``take``s a token at the moment it goes. ``now`` is any
    monotonic clock in seconds."""

    rate: float
    capacity: float
    tokens: float
    updated: float

    @classmethod
    def for_rate(cls, rate: float, now: float) -> TokenBucket:
        capacity = cls.capacity_for(rate)
        return cls(rate=rate, capacity=capacity, tokens=capacity, updated=now)

    @staticmethod
    def capacity_for(rate: float) -> float:
        """A burst of at most 10 ms worth of posts (AWS allows far more)."""
        return max(1.0, rate / 100)

    def set_rate(self, rate: float, now: float) -> None:
        if rate != self.rate:
            self._refill(now)
            self.rate, self.capacity = rate, self.capacity_for(rate)
            self.tokens = min(self.tokens, self.capacity)

    def take(self, now: float) -> bool:
        """Take a token if one is there."""
        self._refill(now)
        if self.tokens >= 1 - _EPSILON:  # what rounding leaves of a whole token counts
            self.tokens -= 1
            return True
        return False

    def wait_time(self, now: float) -> float:
        """Seconds until a token is there."""
        self._refill(now)
        return max(0.0, (1 - self.tokens) / self.rate)

    def _refill(self, now: float) -> None:
        if now > self.updated:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
