"""The decisions of a send, as plain code: what an answer means, whether to try again,
how long to wait, and how fast to go. No I/O here, so tests drive it with numbers."""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass

#: First back-off ceiling and the largest wait between two attempts, in seconds.
BACKOFF_BASE_SECONDS = 0.05
BACKOFF_CAP_SECONDS = 2.0


class Failure(enum.Enum):
    """A post that got no HTTP answer."""

    #: No connection could be opened: the request never left, so a retry is safe.
    CONNECT = "connect"
    #: The connection broke after the request may have been written.
    RESET = "reset"
    #: No answer in time: the request may have been delivered.
    TIMEOUT = "timeout"

    @property
    def ambiguous(self) -> bool:
        """Whether API Gateway may have delivered the message anyway."""
        return self is not Failure.CONNECT


class Verdict(enum.Enum):
    SENT = "sent"
    GONE = "gone"
    RETRY = "retry"
    FAILED = "failed"


#: Answers worth another attempt: throttling and API Gateway's own faults.
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


def judge(status: int | None, failure: Failure | None, attempt: int, max_attempts: int) -> Verdict:
    """The verdict on attempt number ``attempt`` (1-based) of one post.

    410 means the connection is gone and 413 that the message is too large: neither
    improves with retrying, nor does any other 4xx (a bad signature, a wrong endpoint).
    """
    if status is not None and 200 <= status < 300:
        return Verdict.SENT
    if status == 410:
        return Verdict.GONE
    retryable = failure is not None or status in RETRYABLE_STATUSES
    if retryable and attempt < max_attempts:
        return Verdict.RETRY
    return Verdict.FAILED


def backoff_delay(attempt: int, rng: random.Random | None = None) -> float:
    """Full-jitter back-off after failed attempt ``attempt`` (1-based): a uniform wait
    below an exponentially growing ceiling, so retries of many recipients spread out."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (attempt - 1))
    return (rng or random).uniform(0, ceiling)


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
