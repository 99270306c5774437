"""The account pacer shared by every sending process: one token bucket in Redis.

API Gateway's 10,000 requests a second are per account and region, whatever the number
of processes posting. With ``WEBSOCKETS["send_rate_redis_url"]`` set, every process
takes its tokens from one bucket in Redis (refilled at ``send_rate_per_second``, by
Redis's clock, in a Lua script, so a take is atomic), a few milliseconds' worth per
round trip rather than one per post. Without it, each process paces itself alone.
"""

from __future__ import annotations

import asyncio
import logging
import math
from typing import Any

from .. import conf
from .transport import Pacer

logger = logging.getLogger(__name__)

#: The bucket's key: one bucket per Redis database.
BUCKET_KEY = "django-aws-api-gateway-websockets:send-rate"
#: Seconds' worth of tokens a process takes per round trip, and the bucket's burst.
TAKE_SECONDS = 0.005
BURST_SECONDS = 0.01
#: Seconds a process paces itself alone after Redis failed, before it asks again.
RETRY_SECONDS = 5

# Refill by elapsed time (Redis's clock, shared by all processes), grant up to the
# wanted tokens, and say how long until the wanted tokens are there when none is left
# (waiting for one token at a time would spend the rate on round trips).
_TAKE = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local rate, burst, want = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local granted = math.max(0, math.min(want, math.floor(tokens)))
tokens = tokens - granted
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], 60)
return {granted, tostring((want - tokens) / rate)}
"""


class SharedPacer(Pacer):
    """A :class:`~.transport.Pacer` whose tokens come from the bucket in Redis; the
    local bucket only remembers the rate (and paces alone while Redis is unreachable)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, rate: float, url: str) -> None:
        super().__init__(loop, rate)
        self._url = url
        self._script: Any = None
        self._granted = 0
        self._lock = asyncio.Lock()
        self._alone_until = 0.0

    async def permit(self) -> None:
        if self._loop.time() < self._alone_until:
            await super().permit()
            return
        while self._granted <= 0:
            async with self._lock:
                if self._granted > 0:
                    break
                wait = await self._take()
                if wait is None:  # Redis is unreachable: pace this process alone
                    await super().permit()
                    return
                if wait:
                    await asyncio.sleep(wait)
        self._granted -= 1

    async def _take(self) -> float | None:
        """Ask for tokens; the seconds to wait when none came, ``None`` on failure."""
        rate = self.bucket.rate
        want = max(1, math.ceil(rate * TAKE_SECONDS))
        burst = max(float(want), rate * BURST_SECONDS)
        try:
            if self._script is None:
                import redis.asyncio

                client = redis.asyncio.Redis.from_url(self._url)
                self._script = client.register_script(_TAKE)
            granted, wait = await self._script(keys=[BUCKET_KEY], args=[rate, burst, want])
        except Exception as error:  # any Redis failure: keep sending, paced locally
            logger.warning(
                "Shared send pacer unavailable (%s); pacing this process alone for %d s",
                error,
                RETRY_SECONDS,
            )
            self._script = None
            self._alone_until = self._loop.time() + RETRY_SECONDS
            return None
        self._granted += int(granted)
        return 0.0 if granted else max(0.0, float(wait))


def pacer_for(loop: asyncio.AbstractEventLoop, rate: float) -> Pacer:
    """The process's pacer: shared through Redis when ``send_rate_redis_url`` is set."""
    url = conf.get_send_rate_redis_url()
    return SharedPacer(loop, rate, url) if url else Pacer(loop, rate)
