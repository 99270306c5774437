"""A small thread-safe cache whose entries expire, for rows read on every event."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")

_MISSING = object()


class TtlCache(Generic[V]):
    """Keeps loaded values for ``seconds``; the whole cache is dropped when it reaches
    ``max_entries`` (entries are cheap to reload, and the keys come from clients)."""

    def __init__(self, seconds: float, max_entries: int = 4096) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, V]] = {}

    def get_or_load(self, key: str, load: Callable[[], V], *, keep_none: bool = True) -> V:
        """The cached value for ``key``, else ``load()`` (cached unless it is ``None``
        and ``keep_none`` is false, so that a row created later is found at once)."""
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(key, _MISSING)
        if hit is not _MISSING and hit[0] > now:  # type: ignore[index]
            return hit[1]  # type: ignore[index]
        value = load()
        if value is not None or keep_none:
            with self._lock:
                if len(self._entries) >= self.max_entries:
                    self._entries.clear()
                self._entries[key] = (now + self.seconds, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
