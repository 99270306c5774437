"""The decisions of a send, as plain code: what an answer means, whether to try again,
how long to wait, and how fast to go. No I/O here, so tests drive it with numbers."""

from __future__ import annotations

import enum
import random

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
