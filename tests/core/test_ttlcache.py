from __future__ import annotations

import time

from django_aws_api_gateway_websockets.ttlcache import TtlCache


def test_a_value_is_loaded_once_until_it_expires(monkeypatch) -> None:
    now = [100.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    cache: TtlCache[int] = TtlCache(seconds=5)
    loads: list[int] = []

    def load() -> int:
        loads.append(1)
        return len(loads)

    assert cache.get_or_load("k", load) == 1
    now[0] += 4.9
    assert cache.get_or_load("k", load) == 1
    now[0] += 0.2
    assert cache.get_or_load("k", load) == 2


def test_none_is_kept_unless_asked_not_to() -> None:
    cache: TtlCache[int | None] = TtlCache(seconds=60)
    calls: list[str] = []

    def load() -> None:
        calls.append("x")

    cache.get_or_load("kept", load)
    cache.get_or_load("kept", load)
    cache.get_or_load("not kept", load, keep_none=False)
    cache.get_or_load("not kept", load, keep_none=False)
    assert len(calls) == 3


def test_the_cache_never_grows_past_its_bound() -> None:
    cache: TtlCache[str] = TtlCache(seconds=60, max_entries=3)
    for key in "abcdefg":
        cache.get_or_load(key, lambda key=key: key)
    assert len(cache._entries) <= 3
    cache.clear()
    assert cache._entries == {}
