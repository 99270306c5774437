"""Cost of one event on the request path: database statements and latency.

Each event goes through Django's full stack (WSGI handler, the test settings'
middleware, URL resolution, the view) via Django's test client, exactly as API Gateway's
integration request would arrive, on the configured database. Printed per event type:
statements (every statement, middleware's included, caches warm) and p50/p99 of the
wall time in microseconds.

    python benchmarks/events.py                      # SQLite in memory
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test python benchmarks/events.py
    python benchmarks/events.py --iterations 2000

Run from the repository root with the package installed (``pip install -e .``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
if os.environ.get("DATABASE_URL", "").startswith("postgres"):
    os.environ.setdefault("TEST_DB_NAME", "bench_events")


def measure(run: Callable[[], Any], prepare: Callable[[], Any], iterations: int) -> dict:
    """Statements of one warm call, then the latency of ``iterations`` calls."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):  # warm caches and code paths
        run(prepare())
    argument = prepare()
    with CaptureQueriesContext(connection) as queries:
        response = run(argument)
    statements = len(queries.captured_queries)  # before later requests reset the log
    if response.status_code != 200:
        raise SystemExit(f"unexpected {response.status_code}: {response.content[:200]!r}")
    samples = []
    for _ in range(iterations):
        argument = prepare()
        start = time.perf_counter_ns()
        run(argument)
        samples.append((time.perf_counter_ns() - start) / 1000)
    samples.sort()
    return {
        "statements": statements,
        "p50": statistics.median(samples),
        "p99": samples[min(len(samples) - 1, int(len(samples) * 0.99))],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=500)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from django_aws_api_gateway_websockets.models import ApiGateway
    from django_aws_api_gateway_websockets.testing import ApiGatewayRequests
    from django_aws_api_gateway_websockets.tokens import issue_token

    setup_test_environment()
    settings.WEBSOCKETS = {
        "token_rate_limit_per_minute": 10**9,
        "rate_limit_max_attempts": 10**9,
    }
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        gateway = ApiGateway.objects.create(api_name="bench", api_id="benchapi01")
        user = get_user_model().objects.create_user("bench", password="pw")
        client = Client()
        client.force_login(user)
        session_key = client.cookies[settings.SESSION_COOKIE_NAME].value

        def new_connection() -> ApiGatewayRequests:
            return ApiGatewayRequests(client, api_id=gateway.api_id)

        def connect_prepared() -> tuple[ApiGatewayRequests, str]:
            return new_connection(), issue_token(user, session_key).token

        def connected() -> ApiGatewayRequests:
            ws, token = connect_prepared()
            ws.connect(token=token, channel="general")
            return ws

        talker = connected()
        results = {
            "connect (with token)": measure(
                lambda prepared: prepared[0].connect(token=prepared[1], channel="general"),
                connect_prepared,
                args.iterations,
            ),
            "message ($default)": measure(
                lambda ws: ws.message({"handler": "chat", "text": "hello"}),
                lambda: talker,
                args.iterations,
            ),
            "disconnect": measure(lambda ws: ws.disconnect(), connected, args.iterations),
            "token issue": measure(
                lambda _: client.post("/ws-token/"), lambda: None, args.iterations
            ),
        }
    finally:
        connection.creation.destroy_test_db(
            connection.settings_dict["NAME"], verbosity=0, keepdb=False
        )

    print(f"database: {connection.vendor}, iterations per event: {args.iterations}")
    print(f"{'event':<22} {'statements':>10} {'p50 us':>10} {'p99 us':>10}")
    for name, row in results.items():
        print(f"{name:<22} {row['statements']:>10} {row['p50']:>10.0f} {row['p99']:>10.0f}")


if __name__ == "__main__":
    main()
