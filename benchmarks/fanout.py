"""Fan-out benchmark: this package against 4.1.0 from PyPI, over TLS, in one run.

A fake Management API runs in its own process and answers every post after
``--latency`` seconds (410 for a ``--gone-share`` of the recipients), over TLS with a
certificate from a throwaway CA made at run time, verified by the senders as in
production. For each size, a fresh process writes the sessions to its own database, then
sends one message to all of them with ``queryset.send_message`` and reports wall time,
posts per second, CPU time per post (the process's user + system time over the send,
divided by posts) and peak memory. 4.1.0 itself, installed from PyPI into
``benchmarks/.venv-original`` on first use, runs the same way on
``--original-recipients``; its endpoint is pointed at the fake, which is the only change.

    python benchmarks/fanout.py                       # the table of docs/sending_messages.rst
    python benchmarks/fanout.py --database postgres   # DATABASE_URL or 127.0.0.1:5432
    python benchmarks/fanout.py --levers              # what each CPU lever gives
    python benchmarks/fanout.py --plain-http          # the fake without TLS
    python benchmarks/fanout.py --repeat 3            # the fastest of 3 runs per line

The floor is ``recipients x latency / concurrency``: the time a send would take if
every slot were always busy and posting cost nothing. Requires the package installed
(``pip install -e . --group test``); run from the repository root.
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
from original import ORIGINAL_VERSION, original_python

MESSAGE = {
    "type": "chat.message",
    "channel": "general",
    "user": {"id": 4711, "name": "Ada Lovelace"},
    "text": "The Analytical Engine weaves algebraic patterns just as the Jacquard loom "
    "weaves flowers and leaves.",
    "sent_at": "2026-01-01T12:00:00Z",
}
CHANNEL = "bench"
REGION = "eu-west-1"


def database_settings(database: str, name: str) -> dict[str, Any]:
    if database == "postgres":
        import dj_database_url

        url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
        db = dj_database_url.parse(url)
        db["NAME"] = f"bench_fanout_{name}"
        return db
    return {"ENGINE": "django.db.backends.sqlite3", "NAME": name}


def configure_django(
    db: dict[str, Any], endpoint: str, websockets: dict[str, Any], **extra: Any
) -> None:
    """Settings of a benchmark process; ``extra`` adds Django settings (task queues)."""
    import django
    from django.conf import settings

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
        AWS_GATEWAY_REGION_NAME=REGION,
        AWS_ACCESS_KEY_ID="AKIDBENCHMARK",
        AWS_SECRET_ACCESS_KEY="benchmark-secret",
        WEBSOCKETS={"management_endpoint_url": endpoint + "/{stage}", **websockets},
        **extra,
    )
    django.setup()


def throwaway_certificate(directory: str) -> tuple[tuple[str, str], str]:
    """A certificate for 127.0.0.1 from a CA made now, in ``directory``: ((certificate
    chain file, key file), the CA's file for the senders to trust)."""
    import trustme

    ca = trustme.CA()
    server_cert = ca.issue_cert("127.0.0.1")
    ca_file = os.path.join(directory, "ca.pem")
    ca.cert_pem.write_to_path(ca_file)
    chain, key = os.path.join(directory, "server.pem"), os.path.join(directory, "server.key")
    server_cert.private_key_and_cert_chain_pem.write_to_path(chain)
    server_cert.private_key_pem.write_to_path(key)
    return (chain, key), ca_file


def recreate_postgres_database(name: str) -> None:
    import dj_database_url
    import psycopg

    db = dj_database_url.parse(
        os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
    )
    with psycopg.connect(
        host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], dbname="postgres"
    ) as conn:
        conn.autocommit = True
        conn.execute(f"DROP DATABASE IF EXISTS bench_fanout_{name}")
        conn.execute(f"CREATE DATABASE bench_fanout_{name}")


def seed(count: int, gone_share: float) -> None:
    from django.db import transaction

    from django_aws_api_gateway_websockets.models import ApiGateway, WebSocketSession

    # bulk_create: 4.1.0's ApiGateway.save() would call AWS.
    (gateway,) = ApiGateway.objects.bulk_create(
        [ApiGateway(api_name="bench", api_id="bench01", stage_name="prod")]
    )
    every = round(1 / gone_share) if gone_share else 0
    with transaction.atomic():
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


def point_original_at(endpoint: str) -> None:
    """4.1.0 always posts to AWS's host: send its clients to the fake instead."""
    from django_aws_api_gateway_websockets import models

    factory = models.get_boto3_client

    def get_boto3_client(service: str = "apigatewayv2", **kwargs: Any) -> Any:
        if "endpoint_url" in kwargs:
            kwargs["endpoint_url"] = endpoint + "/" + kwargs["endpoint_url"].rsplit("/", 1)[1]
        return factory(service, **kwargs)

    models.get_boto3_client = get_boto3_client  # type: ignore[attr-defined]


def send_with_original() -> dict[str, int]:
    from django_aws_api_gateway_websockets.models import WebSocketSession

    sessions = WebSocketSession.objects.filter(channel_name=CHANNEL)
    total = sessions.count()
    responses = sessions.send_message(MESSAGE)
    gone = sessions.filter(connected=False).count()
    return {"sent": len(responses), "gone": gone, "failed": total - len(responses) - gone}


def current_rss_kb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def reset_peak_rss() -> None:
    """Start ``VmHWM`` afresh, so that the peak is the send's, not the seeding's."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        pass


def peak_rss_kb() -> int:
    """This process's peak resident memory since ``reset_peak_rss``."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def apply_levers(levers: list[str]) -> None:
    """Switch the engine's parts for ``--levers``: the event loop and the signer."""
    import asyncio

    from django_aws_api_gateway_websockets.messaging import transport

    for lever in levers:
        if lever == "asyncio":
            transport.new_event_loop = asyncio.new_event_loop
        elif lever == "botocore-signer":
            transport.new_signer = BotocoreSigner.for_endpoint  # type: ignore[assignment]
        elif lever == "aiohttp":
            transport.ConnectionPool = AiohttpPool  # type: ignore[misc,assignment]


class AiohttpPool:
    """aiohttp's client for every post: the HTTP client the engine replaced."""

    def __init__(self) -> None:
        import aiohttp

        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0, ttl_dns_cache=300),
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,
            skip_auto_headers=("Accept", "Accept-Encoding", "Content-Type"),
        )

    async def post(self, url: str, headers: dict[str, str], body: bytes, timeout: float) -> Any:
        import aiohttp
        from yarl import URL

        from django_aws_api_gateway_websockets.messaging.policy import Failure

        limits = aiohttp.ClientTimeout(sock_connect=timeout, sock_read=timeout)
        try:
            async with self.session.post(
                URL(url, encoded=True), data=body, headers=headers, timeout=limits
            ) as response:
                await response.read()
                return response.status, None, response.headers.get("x-amzn-RequestId", "")
        except aiohttp.ClientError:
            return None, Failure.RESET, ""

    def close(self) -> None:
        import asyncio

        self.closing = asyncio.ensure_future(self.session.close())


class BotocoreSigner:
    """botocore's ``SigV4Auth`` per request: the signer the engine replaced."""

    def __init__(self, credentials: Any, region: str) -> None:
        from botocore.auth import SigV4Auth

        self.auth = SigV4Auth(credentials, "execute-api", region)

    @classmethod
    def for_endpoint(cls, endpoint: str) -> BotocoreSigner:
        from django_aws_api_gateway_websockets.messaging import recipients, signing

        return cls(signing.current_credentials(False), recipients.signing_region())

    def headers_for(self, url: str, host: str, body: bytes) -> dict[str, str]:
        from botocore.awsrequest import AWSRequest

        request = AWSRequest(method="POST", url=url, data=body, headers={"Host": host})
        self.auth.add_auth(request)
        return dict(request.headers.items())


def child(args: argparse.Namespace) -> None:
    db = database_settings(args.database, args.db_name)
    configure_django(db, args.endpoint, json.loads(args.websockets))
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    seed(args.count, args.gone_share)
    if args.child == "original":
        point_original_at(args.endpoint)
        send = send_with_original
    else:
        import django_aws_api_gateway_websockets.messaging.fanout  # noqa: F401  (not timed)

        apply_levers([lever for lever in args.lever.split(",") if lever])
        send = send_with_engine
    reset_peak_rss()
    rss_before = current_rss_kb()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    counts = send()
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
    peak = peak_rss_kb()
    print(
        json.dumps(
            {
                **counts,
                "wall": wall,
                "cpu": cpu,
                "peak_rss_kb": peak,
                "growth_kb": peak - rss_before,
            }
        )
    )


def run_child(
    kind: str, count: int, args: argparse.Namespace, *, lever: str = "", websockets: str = "{}"
) -> dict[str, Any]:
    """The fastest of ``--repeat`` fresh processes (others' work on a shared machine only
    ever slows a run down)."""
    runs = [run_once(kind, count, args, lever, websockets) for _ in range(args.repeat)]
    return min(runs, key=lambda figures: figures["wall"])


def run_once(
    kind: str, count: int, args: argparse.Namespace, lever: str, websockets: str
) -> dict[str, Any]:
    args.runs += 1
    name = f"{kind}{count}_{args.runs}"
    if args.database == "postgres":
        recreate_postgres_database(name)
    else:
        name = os.path.join(args.tmp, name + ".sqlite3")
    python = str(original_python()) if kind == "original" else sys.executable
    command = [
        python,
        __file__,
        "--child",
        kind,
        "--count",
        str(count),
        "--gone-share",
        str(args.gone_share),
        "--endpoint",
        args.endpoint,
        "--database",
        args.database,
        "--db-name",
        name,
        "--lever",
        lever,
        "--websockets",
        websockets,
    ]
    done = subprocess.run(command, capture_output=True, text=True, env=args.env)
    if done.returncode:
        sys.exit(f"{kind} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def posts_of(figures: dict[str, Any]) -> int:
    return int(figures["sent"] + figures["gone"] + figures["failed"])


def report(label: str, count: int, figures: dict[str, Any], floor: float) -> None:
    posts = posts_of(figures)
    print(
        f"{label:14} {count:>7,} recipients: {figures['wall']:6.2f} s "
        f"(floor {floor:5.2f} s), {posts / figures['wall']:7,.0f} posts/s, "
        f"{figures['cpu'] / posts * 1e6:5.0f} us CPU/post, "
        f"peak RSS {figures['peak_rss_kb'] / 1024:5.1f} MiB "
        f"(+{figures['growth_kb'] / 1024:4.1f} in the send), "
        f"sent/gone/failed {figures['sent']}/{figures['gone']}/{figures['failed']}",
        flush=True,
    )


def rate(figures: dict[str, Any]) -> float:
    return posts_of(figures) / figures["wall"]


def compare(args: argparse.Namespace, concurrency: int) -> None:
    sizes = [int(n) for n in args.recipients.split(",") if n]
    original_sizes = {int(n) for n in args.original_recipients.split(",") if n}
    for count in sizes:
        engine = run_child("engine", count, args)
        report("this package", count, engine, count * args.latency / concurrency)
        if count in original_sizes:
            original = run_child("original", count, args)
            report(ORIGINAL_VERSION, count, original, count * args.latency / 10)
            print(
                f"{'':14} this package: {rate(engine) / rate(original):.1f}x the posts/s, "
                f"{original['cpu'] / posts_of(original) / (engine['cpu'] / posts_of(engine)):.1f}x"
                " less CPU per post",
                flush=True,
            )


def levers(args: argparse.Namespace, concurrency: int) -> None:
    """The engine at the largest size with one part switched back at a time."""
    count = max(int(n) for n in args.recipients.split(",") if n)
    variants = [
        ("as shipped", "", "{}"),
        ("asyncio loop", "asyncio", "{}"),
        ("botocore signer", "botocore-signer", "{}"),
        ("aiohttp client", "aiohttp", "{}"),
        ("all three", "asyncio,botocore-signer,aiohttp", "{}"),
        ("100 in flight", "", json.dumps({"send_concurrency": 100})),
        ("400 in flight", "", json.dumps({"send_concurrency": 400})),
    ]
    for label, lever, websockets in variants:
        figures = run_child("engine", count, args, lever=lever, websockets=websockets)
        limit = json.loads(websockets).get("send_concurrency", concurrency)
        report(label, count, figures, count * args.latency / limit)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--recipients", default="1000,5000,10000,50000")
    parser.add_argument("--original-recipients", default="5000")
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--gone-share", type=float, default=0.05)
    parser.add_argument("--plain-http", action="store_true", help="the fake without TLS")
    parser.add_argument("--repeat", type=int, default=1, help="report the fastest of N runs")
    parser.add_argument("--levers", action="store_true", help="measure the CPU levers")
    parser.add_argument("--child", choices=["engine", "original"], help=argparse.SUPPRESS)
    for hidden in ("--count", "--endpoint", "--db-name", "--lever", "--websockets"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        args.count = int(args.count)
        child(args)
        return

    with tempfile.TemporaryDirectory() as tmp:
        args.tmp, args.runs = tmp, 0
        args.env = dict(os.environ)
        certificate = None
        if not args.plain_http:
            certificate, ca_file = throwaway_certificate(tmp)
            # Verification on: OpenSSL (aiohttp) and botocore trust the throwaway CA.
            args.env.update(SSL_CERT_FILE=ca_file, AWS_CA_BUNDLE=ca_file)
        ours, theirs = multiprocessing.Pipe()
        server = multiprocessing.Process(
            target=serve, args=(args.latency, theirs, certificate), daemon=True
        )
        server.start()
        port = ours.recv()
        args.endpoint = f"{'http' if args.plain_http else 'https'}://127.0.0.1:{port}"
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
        from django_aws_api_gateway_websockets.conf import DEFAULTS

        concurrency = DEFAULTS["send_concurrency"]
        print(
            f"database {args.database}, {'plain HTTP' if args.plain_http else 'TLS'}, "
            f"latency {args.latency * 1000:.0f} ms, {args.gone_share:.0%} gone, "
            f"concurrency {concurrency}, rate {DEFAULTS['send_rate_per_second']}/s, "
            f"{os.cpu_count()} cores",
            flush=True,
        )
        (levers if args.levers else compare)(args, concurrency)
        ours.send("stop")
        print(f"fake Management API answered {ours.recv():,} posts", flush=True)
        server.join(5)


if __name__ == "__main__":
    main()
