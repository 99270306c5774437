"""Fan-out benchmark: this package's engine against the original's approach.

A fake Management API runs in its own process and answers every post after
``--latency`` seconds (410 for a ``--gone-share`` of the recipients). For each size in
``--recipients`` the sessions are written to the database, then a fresh process sends
one message to all of them and reports wall time, posts per second, CPU time per post
and peak memory (max RSS). The original's approach (4.1.0: one query for all
recipients, a boto3 ``apigatewaymanagementapi`` client's ``post_to_connection`` over a
10-thread pool, one UPDATE for the gone ones) runs in the same way on
``--original-recipients``.

    python benchmarks/fanout.py                          # SQLite, 1,000 / 10,000 / 50,000
    python benchmarks/fanout.py --database postgres      # DATABASE_URL or 127.0.0.1:5432
    python benchmarks/fanout.py --recipients 10000 --original-recipients 10000

The floor is ``recipients x latency / concurrency``: the time a send would take if
every slot were always busy and posting cost nothing. Requires the package installed
(``pip install -e .``); run from the repository root.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fake_management_api import serve

MESSAGE = {
    "type": "chat.message",
    "channel": "general",
    "user": {"id": 4711, "name": "Ada Lovelace"},
    "text": "The Analytical Engine weaves algebraic patterns just as the Jacquard loom "
    "weaves flowers and leaves.",
    "sent_at": "2026-01-01T12:00:00Z",
}
CHANNEL = "bench"
POSTGRES_DB = "bench_messaging"


def configure_django(database: str, sqlite_path: str, port: int) -> None:
    import django
    from django.conf import settings

    if database == "postgres":
        import dj_database_url

        url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
        db = dj_database_url.parse(url)
        db["NAME"] = POSTGRES_DB
    else:
        db = {"ENGINE": "django.db.backends.sqlite3", "NAME": sqlite_path}
    settings.configure(
        SECRET_KEY="benchmark",
        USE_TZ=True,
        INSTALLED_APPS=[
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django_aws_api_gateway_websockets",
        ],
        DATABASES={"default": db},
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        AWS_GATEWAY_REGION_NAME="eu-west-1",
        AWS_ACCESS_KEY_ID="AKIDBENCHMARK",
        AWS_SECRET_ACCESS_KEY="benchmark-secret",
        WEBSOCKETS={"management_endpoint_url": f"http://127.0.0.1:{port}/{{stage}}"},
    )
    django.setup()


def create_postgres_database() -> None:
    import dj_database_url
    import psycopg

    db = dj_database_url.parse(
        os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
    )
    with psycopg.connect(
        host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], dbname="postgres"
    ) as conn:
        conn.autocommit = True
        if not conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [POSTGRES_DB]
        ).fetchone():
            conn.execute(f"CREATE DATABASE {POSTGRES_DB}")


def seed(count: int, gone_share: float) -> None:
    from django.db import transaction

    from django_aws_api_gateway_websockets.models import ApiGateway, WebSocketSession

    gateway, _ = ApiGateway.objects.get_or_create(
        api_name="bench", defaults={"api_id": "bench01", "stage_name": "prod"}
    )
    every = round(1 / gone_share) if gone_share else 0
    with transaction.atomic():
        WebSocketSession.objects.all().delete()
        WebSocketSession.objects.bulk_create(
            (
                WebSocketSession(
                    connection_id=f"c{i:07d}{'gone' if every and i % every == 0 else ''}=",
                    channel_name=CHANNEL,
                    api_gateway=gateway,
                )
                for i in range(count)
            ),
            batch_size=2000,
        )


def send_with_engine() -> dict[str, int]:
    from django_aws_api_gateway_websockets.models import WebSocketSession

    result = WebSocketSession.objects.filter(channel_name=CHANNEL).send_message(MESSAGE)
    return {"sent": len(result.sent), "gone": len(result.gone), "failed": len(result.failed)}


def send_like_original(port: int) -> dict[str, int]:
    """4.1.0's queryset ``send_message``, reduced to what costs time."""
    import json as jsonlib
    from concurrent.futures import ThreadPoolExecutor

    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    from django_aws_api_gateway_websockets.models import WebSocketSession

    rows = list(
        WebSocketSession.objects.filter(channel_name=CHANNEL, connected=True).values_list(
            "pk", "connection_id", "api_gateway__api_id", "api_gateway__stage_name"
        )
    )
    data = jsonlib.dumps(MESSAGE)
    client = boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=f"http://127.0.0.1:{port}/{rows[0][3]}",
        region_name="eu-west-1",
        aws_access_key_id="AKIDBENCHMARK",
        aws_secret_access_key="benchmark-secret",
        config=Config(
            max_pool_connections=10,
            connect_timeout=5,
            read_timeout=10,
            retries={"mode": "standard", "max_attempts": 3},
        ),
    )

    def post(row: tuple[Any, ...]) -> str:
        try:
            client.post_to_connection(Data=data, ConnectionId=row[1])
            return "sent"
        except client.exceptions.GoneException:
            return "gone"
        except (ClientError, BotoCoreError):
            return "failed"

    with ThreadPoolExecutor(10) as pool:
        outcomes = list(pool.map(post, rows))
    gone = [row[0] for row, outcome in zip(rows, outcomes, strict=True) if outcome == "gone"]
    WebSocketSession.objects.filter(pk__in=gone).update(connected=False)
    return {k: outcomes.count(k) for k in ("sent", "gone", "failed")}


def peak_rss_kb() -> int:
    """This process's peak resident memory. Linux keeps ``ru_maxrss`` across ``exec``, so
    a child would report its parent's peak; ``VmHWM`` starts afresh."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def child(args: argparse.Namespace) -> None:
    configure_django(args.database, args.sqlite_path, args.port)
    import django_aws_api_gateway_websockets.messaging.fanout  # noqa: F401  (import cost not timed)

    usage = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    counts = send_with_engine() if args.child == "engine" else send_like_original(args.port)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
    print(json.dumps({**counts, "wall": wall, "cpu": cpu, "peak_rss_kb": peak_rss_kb()}))


def run_child(kind: str, args: argparse.Namespace, port: int) -> dict[str, Any]:
    command = [
        sys.executable,
        __file__,
        "--child",
        kind,
        "--port",
        str(port),
        "--database",
        args.database,
        "--sqlite-path",
        args.sqlite_path,
    ]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def report(kind: str, count: int, figures: dict[str, Any], floor: float) -> None:
    posts = figures["sent"] + figures["gone"] + figures["failed"]
    print(
        f"{kind:9} {count:>7,} recipients: {figures['wall']:7.2f} s "
        f"({figures['wall'] / floor:5.2f}x floor {floor:.2f} s), "
        f"{posts / figures['wall']:8,.0f} posts/s, "
        f"{figures['cpu'] / posts * 1e6:6.0f} us CPU/post, "
        f"peak RSS {figures['peak_rss_kb'] / 1024:6.1f} MiB, "
        f"sent/gone/failed {figures['sent']}/{figures['gone']}/{figures['failed']}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--recipients", default="1000,10000,50000")
    parser.add_argument("--original-recipients", default="1000,10000")
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--gone-share", type=float, default=0.05)
    parser.add_argument("--child", choices=["engine", "original"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--sqlite-path", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    sizes = [int(n) for n in args.recipients.split(",") if n]
    original_sizes = {int(n) for n in args.original_recipients.split(",") if n}
    ours, theirs = multiprocessing.Pipe()
    server = multiprocessing.Process(target=serve, args=(args.latency, theirs), daemon=True)
    server.start()
    port = ours.recv()
    with tempfile.TemporaryDirectory() as tmp:
        args.sqlite_path = os.path.join(tmp, "bench.sqlite3")
        if args.database == "postgres":
            create_postgres_database()
        configure_django(args.database, args.sqlite_path, port)
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from django_aws_api_gateway_websockets import conf

        concurrency = conf.get_setting("send_concurrency")
        rate = conf.get_setting("send_rate_per_second")
        print(
            f"database {args.database}, latency {args.latency * 1000:.0f} ms, "
            f"{args.gone_share:.0%} gone, concurrency {concurrency}, rate {rate}/s, "
            f"{os.cpu_count()} cores",
            flush=True,
        )
        for count in sizes:
            seed(count, args.gone_share)
            engine = run_child("engine", args, port)
            report("engine", count, engine, count * args.latency / concurrency)
            if count in original_sizes:
                seed(count, args.gone_share)
                original = run_child("original", args, port)
                report("original", count, original, count * args.latency / 10)
                print(
                    f"{'':9} engine is {original['wall'] / engine['wall']:.1f}x faster, "
                    f"uses {original['cpu'] / max(engine['cpu'], 1e-9):.1f}x less CPU",
                    flush=True,
                )
    ours.send("stop")
    print(f"fake Management API answered {ours.recv():,} posts", flush=True)
    server.join(5)


if __name__ == "__main__":
    main()
