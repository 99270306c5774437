"""The account pacer shared through Redis: senders on separate event loops (as in
separate processes), each asking as fast as it can, together stay within the rate."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
import redis

from django_aws_api_gateway_websockets.messaging.accountpacer import (
    BUCKET_KEY,
    SharedPacer,
    pacer_for,
)
from django_aws_api_gateway_websockets.messaging.transport import Pacer

URL = "redis://127.0.0.1:6379/2"
RATE = 400.0
SECONDS = 1.5


def _permits_in(pacer_rate: float, url: str, seconds: float, counts: list[int]) -> None:
    """Take permits as fast as they come for ``seconds``, on a loop of its own."""

    async def run() -> None:
        pacer = SharedPacer(asyncio.get_running_loop(), pacer_rate, url)
        end = time.monotonic() + seconds
        taken = 0
        while True:
            await pacer.permit()
            if time.monotonic() >= end:
                break
            taken += 1
        counts.append(taken)

    asyncio.run(run())


@pytest.mark.redis
def test_senders_sharing_the_bucket_never_exceed_the_rate_together() -> None:
    redis.Redis.from_url(URL).delete(BUCKET_KEY)
    counts: list[int] = []
    threads = [
        threading.Thread(target=_permits_in, args=(RATE, URL, SECONDS, counts)) for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    total = sum(counts)
    burst = max(RATE * 0.01, 2)
    assert total <= RATE * SECONDS + burst + 3 * 2, counts
    # The senders are not starved either: together they get most of the rate, each a share.
    assert total >= 0.6 * RATE * SECONDS, counts
    assert min(counts) >= 0.1 * RATE * SECONDS, counts


def test_an_unreachable_redis_falls_back_to_pacing_alone(caplog) -> None:
    async def run() -> float:
        pacer = SharedPacer(asyncio.get_running_loop(), 200, "redis://127.0.0.1:1/0")
        start = time.monotonic()
        for _ in range(20):
            await pacer.permit()
        return time.monotonic() - start

    elapsed = asyncio.run(run())
    assert "Shared send pacer unavailable" in caplog.text
    assert caplog.text.count("unavailable") == 1  # once, not once per post
    assert elapsed >= (20 - 2) / 200 * 0.9  # still paced: 200/s after a burst of 2


def test_the_pacer_is_shared_only_when_configured(settings) -> None:
    loop = asyncio.new_event_loop()
    try:
        settings.WEBSOCKETS = {}
        assert type(pacer_for(loop, 100)) is Pacer
        settings.WEBSOCKETS = {"send_rate_redis_url": URL}
        assert isinstance(pacer_for(loop, 100), SharedPacer)
        settings.WEBSOCKETS = {"send_rate_redis_url": "http://not-redis"}
        assert type(pacer_for(loop, 100)) is Pacer
    finally:
        loop.close()
