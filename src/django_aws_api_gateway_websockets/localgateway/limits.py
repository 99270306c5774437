"""Rate limits as API Gateway applies them: token buckets, with the clock passed in."""

from __future__ import annotations


class TokenBucket:
    """``rate`` tokens a second up to ``burst``; a request takes one or is refused.

    A ``rate`` of ``None`` admits everything. Time comes from the caller so that tests
    can drive it without sleeping.
    """

    def __init__(self, rate: float | None, burst: int, now: float = 0.0) -> None:
        self.rate = rate
        self.burst = max(1, burst)
        self._tokens = float(self.burst)
        self._updated = now

    def try_acquire(self, now: float) -> bool:
        if not self.rate:
            return True
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate)
        self._updated = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False
