"""Reading arrival times, to check a rate from the receiving side."""

from __future__ import annotations


def max_in_window(times: list[float], window: float) -> int:
    """The most arrivals within any ``window`` seconds (``times`` sorted)."""
    best, right = 0, 0
    for left, start in enumerate(times):
        while right < len(times) and times[right] < start + window:
            right += 1
        best = max(best, right - left)
    return best
