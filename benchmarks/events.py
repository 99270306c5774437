"""The event path of this package against 4.1.0's, side by side, in one run.

4.1.0 is installed from PyPI into its own environment (``benchmarks/.venv-original``,
created on the first run, git-ignored); this package runs from the current environment.
For each database (SQLite in a file on a RAM disk, and PostgreSQL when ``DATABASE_URL``
names one), each package runs in its own process: the same Django version, settings,
middleware, view and requests (Django's test client, with the headers API Gateway
sends), each connection from its own logged-in user and client IP. Per event
it measures statements (every statement, caches warm), p50 and p99 of the wall time, and
the median CPU (process time) per event; then it prints the ratios this/4.1.0.

    python benchmarks/events.py                      # SQLite only
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test python benchmarks/events.py
    python benchmarks/events.py --messages 3000      # more samples
    ... --synchronous-commit off                     # commits that do not wait for fsync
    ... --rounds 3                                   # alternate the packages, medians

With ``--rounds N`` the two packages run N times each, alternately (4.1.0, this, 4.1.0,
...), and each figure is the median over the rounds: on a shared machine the load
changes within minutes, and one round compares the packages at different moments.

Targets (DESIGN.md section 6): CPU per message at most 0.3x 4.1.0's on both databases;
on PostgreSQL a token ``$connect`` at most 0.35x and a ``$disconnect`` at most 0.25x of
4.1.0's latency. Run from the repository root with this package installed
(``pip install -e .``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from original import original_python

HERE = Path(__file__).resolve().parent
API_ID = "benchapi01"
#: What every message says; the handler does nothing, so the package's cost shows.
MESSAGE = b'{"handler": "chat", "text": "hello"}'


# -- the worker: one package, one database -----------------------------------------------


def configure(database_url: str, db_name: str, synchronous_commit: str = "on") -> None:
    import dj_database_url
    from django.conf import settings

    # The middleware of the package's tests (a typical project's), for both packages.
    sys.path.insert(0, str(HERE.parent))
    from tests.settings import MIDDLEWARE

    database = dj_database_url.parse(database_url)
    database["TEST"] = {"NAME": db_name}
    if database["ENGINE"].endswith("postgresql") and synchronous_commit != "on":
        database["OPTIONS"] = {"options": f"-c synchronous_commit={synchronous_commit}"}
    settings.configure(
        SECRET_KEY="benchmark-only-secret-key-0123456789-abcdefghijklmnop",
        DEBUG=False,
        ALLOWED_HOSTS=["testserver"],  # 4.1.0 compares Host literally: no "*"
        USE_TZ=True,
        DATABASES={"default": database},
        INSTALLED_APPS=[
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "django.contrib.messages",
            "django_aws_api_gateway_websockets",
        ],
        MIDDLEWARE=MIDDLEWARE,
        ROOT_URLCONF=__name__,
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        AWS_GATEWAY_REGION_NAME="eu-west-1",
        # The default limits: every connection has its own user and IP, as in production.
        WEBSOCKETS={"push_changes_to_aws": False},
    )


urlpatterns: list[Any] = []


def route_views() -> None:
    from django.urls import path

    from django_aws_api_gateway_websockets.views import WebSocketTokenView, WebSocketView

    class ChatView(WebSocketView):
        def default(self, request: Any, *args: Any, **kwargs: Any) -> None:
            return None

        def chat(self, request: Any, *args: Any, **kwargs: Any) -> None:
            return None

    urlpatterns[:] = [
        path("ws/<slug:route>", ChatView.as_view()),
        path("ws-token/", WebSocketTokenView.as_view()),
    ]


class Connection:
    """One API Gateway connection: the headers of each event, as AWS sends them."""

    count = 0

    def __init__(self, client: Any) -> None:
        Connection.count += 1
        self.client = client
        self.id = f"Bench{Connection.count:010d}="
        # One client IP per connection, as many browsers would have.
        n = Connection.count
        self.ip = f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"

    def _headers(self, user_agent: str) -> dict[str, str]:
        return {
            "Host": "testserver",
            "X-Forwarded-For": self.ip,
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Port": "443",
            "X-Real-Ip": self.ip,
            "X-Amzn-Trace-Id": "Root=1-00000000-000000000000000000000000",
            "X-Amzn-Apigateway-Api-Id": API_ID,
            "Connectionid": self.id,
            "User-Agent": user_agent,
        }

    def connect(self, token: str) -> Any:
        headers = {
            **self._headers("Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0"),
            "Origin": "https://testserver",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits",
            "Content-Length": "0",
        }
        return self.client.generic(
            "POST", f"/ws/connect?ws_token={token}&channel=general", b"", headers=headers
        )

    def message(self) -> Any:
        headers = {**self._headers(f"AmazonAPIGateway_{API_ID}"), "Content-Length": "36"}
        return self.client.generic(
            "POST", "/ws/default", MESSAGE, content_type="application/json", headers=headers
        )

    def disconnect(self) -> Any:
        headers = {**self._headers(f"AmazonAPIGateway_{API_ID}"), "Content-Length": "0"}
        return self.client.generic("POST", "/ws/disconnect", b"", headers=headers)


def measure(run: Callable[[Any], Any], prepare: Callable[[], Any], count: int) -> dict:
    """Statements of one warm call, then wall and CPU time of ``count`` calls."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):  # warm caches and code paths
        run(prepare())
    argument = prepare()
    with CaptureQueriesContext(connection) as queries:
        response = run(argument)
    if response.status_code != 200:
        raise SystemExit(f"unexpected {response.status_code}: {response.content[:300]!r}")
    statements = len(queries.captured_queries)
    wall, cpu = [], []
    for _ in range(count):
        argument = prepare()
        cpu_start, wall_start = time.process_time_ns(), time.perf_counter_ns()
        response = run(argument)
        wall.append((time.perf_counter_ns() - wall_start) / 1000)
        cpu.append((time.process_time_ns() - cpu_start) / 1000)
        if response.status_code != 200:
            raise SystemExit(f"unexpected {response.status_code}: {response.content[:300]!r}")
    wall.sort()
    return {
        "statements": statements,
        "p50": statistics.median(wall),
        "p99": wall[min(count - 1, int(count * 0.99))],
        # The median: one garbage collection or a noisy neighbour moves a mean a lot.
        "cpu": statistics.median(cpu),
    }


def logged_in_browsers(count: int) -> list[tuple[Any, Any, str]]:
    """``count`` test clients, each logged in as its own user: (client, user, session key)."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    users = get_user_model().objects
    start = users.count()
    browsers = []
    for n in range(start, start + count):
        user = users.create_user(f"bench{n}", password="pw")
        client = Client()
        client.force_login(user)
        browsers.append((client, user, client.cookies[settings.SESSION_COOKIE_NAME].value))
    return browsers


def worker(args: argparse.Namespace) -> None:
    configure(args.database_url, args.db_name, args.synchronous_commit)
    import django

    django.setup()
    route_views()
    from django.db import connection
    from django.test.utils import setup_test_environment

    from django_aws_api_gateway_websockets.models import ApiGateway, WebSocketToken

    setup_test_environment()
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        ApiGateway.objects.bulk_create([ApiGateway(api_name="bench", api_id=API_ID)])
        # Many browsers: each connection is another user with their own Django session
        # (and its own client IP), as in production, so no limit key grows unusually.
        browsers = iter(logged_in_browsers(args.connects + args.disconnects + 20))

        def with_token() -> tuple[Connection, str]:
            client, user, session_key = next(browsers)
            token = WebSocketToken.generate_token(user, session_key).token
            return Connection(client), token

        def connected() -> Connection:
            ws, token = with_token()
            assert ws.connect(token).status_code == 200
            return ws

        talker = connected()
        issuers = logged_in_browsers(50)
        turns = iter(range(10**9))
        results = {
            "connect (token)": measure(lambda p: p[0].connect(p[1]), with_token, args.connects),
            "message": measure(lambda ws: ws.message(), lambda: talker, args.messages),
            "disconnect": measure(lambda ws: ws.disconnect(), connected, args.disconnects),
            "token issue": measure(
                lambda client: client.post("/ws-token/"),
                lambda: issuers[next(turns) % len(issuers)][0],
                args.connects,
            ),
        }
    finally:
        connection.creation.destroy_test_db(
            connection.settings_dict["NAME"], verbosity=0, keepdb=False
        )
    print(json.dumps(results))


# -- the driver: both packages, each database ---------------------------------------------


def run_worker(python: Path, database_url: str, db_name: str, args: argparse.Namespace) -> dict:
    command = [
        str(python),
        str(Path(__file__).resolve()),
        "--worker",
        "--database-url",
        database_url,
        "--db-name",
        db_name,
        "--connects",
        str(args.connects),
        "--messages",
        str(args.messages),
        "--disconnects",
        str(args.disconnects),
        "--synchronous-commit",
        args.synchronous_commit,
    ]
    # Each package from its own environment only (never this checkout's src/).
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    done = subprocess.run(command, check=True, capture_output=True, text=True, env=env, cwd="/")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def median_of_rounds(rounds: list[dict]) -> dict:
    """Each figure of each event: its median over the rounds."""
    return {
        event: {
            figure: statistics.median_low(result[event][figure] for result in rounds)
            for figure in rounds[0][event]
        }
        for event in rounds[0]
    }


def print_table(database: str, results: dict[str, dict]) -> None:
    original, this = results["4.1.0"], results["this"]
    print(f"\n{database}")
    print(
        f"{'event':<16} {'package':<7} {'statements':>10} {'p50 us':>9} {'p99 us':>9} "
        f"{'CPU us':>9} {'p50 x':>7} {'CPU x':>7}"
    )
    for event in this:
        for name, row in (("4.1.0", original[event]), ("this", this[event])):
            ratios = ""
            if name == "this":
                base = original[event]
                ratios = f" {row['p50'] / base['p50']:>7.2f} {row['cpu'] / base['cpu']:>7.2f}"
            print(
                f"{event:<16} {name:<7} {row['statements']:>10} {row['p50']:>9.0f} "
                f"{row['p99']:>9.0f} {row['cpu']:>9.0f}{ratios}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connects", type=int, default=300)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--disconnects", type=int, default=300)
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="run the packages this many times each, alternately, and print medians",
    )
    parser.add_argument(
        "--synchronous-commit",
        default="on",
        choices=["on", "off"],
        help="PostgreSQL's synchronous_commit for both packages' connections: 'off' "
        "shows the latency of a server whose commits do not wait for the disk",
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--db-name", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return

    databases = {}
    # SQLite on a RAM disk where there is one: fsync would hide the CPU cost otherwise.
    shm = "/dev/shm" if Path("/dev/shm").is_dir() else None
    with tempfile.TemporaryDirectory(dir=shm) as scratch:
        databases["SQLite"] = f"sqlite:///{scratch}/bench.sqlite3"
        if os.environ.get("DATABASE_URL", "").startswith("postgres"):
            databases["PostgreSQL"] = os.environ["DATABASE_URL"]
        pythons = {"4.1.0": original_python(), "this": Path(sys.executable)}
        prefix = os.environ.get("TEST_DB_NAME", "bench_events")
        summary = []
        for database, url in databases.items():
            rounds: dict[str, list[dict]] = {name: [] for name in pythons}
            for _ in range(args.rounds):
                for name, python in pythons.items():
                    db_name = f"{prefix}_{'original' if name == '4.1.0' else 'this'}"
                    if database == "SQLite":
                        db_name = f"{scratch}/{db_name}.sqlite3"
                    rounds[name].append(run_worker(python, url, db_name, args))
            results = {name: median_of_rounds(runs) for name, runs in rounds.items()}
            print_table(database, results)
            summary.append((database, results))

    print(
        f"\nper package: {args.connects} connects, {args.messages} messages, "
        f"{args.disconnects} disconnects, {args.connects} token issues"
        + (f"; medians of {args.rounds} alternating rounds" if args.rounds > 1 else "")
    )
    print("targets (this / 4.1.0):")
    for database, results in summary:
        this, original = results["this"], results["4.1.0"]
        cpu = this["message"]["cpu"] / original["message"]["cpu"]
        print(f"  {database}: CPU per message {cpu:.2f}x (at most 0.30x)")
        if database == "PostgreSQL":
            connect = this["connect (token)"]["p50"] / original["connect (token)"]["p50"]
            disconnect = this["disconnect"]["p50"] / original["disconnect"]["p50"]
            print(f"  {database}: token connect p50 {connect:.2f}x (at most 0.35x)")
            print(f"  {database}: disconnect p50 {disconnect:.2f}x (at most 0.25x)")


if __name__ == "__main__":
    main()
