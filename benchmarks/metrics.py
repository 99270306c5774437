"""CPU the Prometheus hooks add: per event on ``WebSocketView.dispatch`` and per fan-out
verdict, measured against the same call without them, in one run.

    python benchmarks/metrics.py
    python benchmarks/metrics.py --iterations 500000

Run from the repository root with the ``metrics`` extra installed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

django.setup()

from django.http import HttpResponse  # noqa: E402
from django.test import RequestFactory  # noqa: E402

from django_aws_api_gateway_websockets import metrics  # noqa: E402


def per_call_us(call: Callable[[], Any], iterations: int) -> float:
    """The best of three runs, in microseconds per call."""
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        for _ in range(iterations):
            call()
        best = min(best, time.process_time() - started)
    return best / iterations * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=200_000)
    iterations = parser.parse_args().iterations
    if not metrics.ENABLED:
        sys.exit("prometheus_client is not installed: the hooks are no-ops.")
    response = HttpResponse("{}")
    request = RequestFactory().post("/ws/default", b'{"action": "chat"}', "application/json")

    def plain(view: Any, request: Any, **kwargs: Any) -> HttpResponse:
        return response

    observed = metrics.observe_event(plain)
    bare = per_call_us(lambda: plain(None, request, route="default"), iterations)
    hooked = per_call_us(lambda: observed(None, request, route="default"), iterations)
    verdict = per_call_us(lambda: metrics.delivered("sent", 200), iterations)
    print(f"event hook: {hooked - bare:.2f} us CPU per event ({iterations} events)")
    print(f"fan-out verdict hook: {verdict:.2f} us CPU per post")


if __name__ == "__main__":
    main()
