"""Subscriptions benchmark: fan-out to a channel whose members subscribed to it, against
the same fan-out to a channel whose members connected to it (``channel_name``).

One PostgreSQL database holds both channels with ``--members`` sessions each, plus
``--others`` sessions elsewhere; every subscriber also follows ``--extra`` other
channels, so the subscription table is several times the channel. A fake Management API
(benchmarks/fake_management_api.py) answers every post after ``--latency`` seconds.
Each round sends one message to each channel, alternately, in fresh order, and reports
the wall time, CPU time and the time of the recipient queries alone (every page read,
no post); the figures are the medians over ``--rounds``. The goal (issue 13) is at most
1.2x the ``channel_name`` fan-out's time.

    python benchmarks/subscriptions.py                 # DATABASE_URL or 127.0.0.1:5432
    python benchmarks/subscriptions.py --members 5000 --rounds 5

Posts go over plain HTTP (TLS costs both fan-outs the same; benchmarks/fanout.py
measures it). Run from the repository root with the package installed.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fake_management_api import serve
from fanout import MESSAGE, configure_django, database_settings, recreate_postgres_database

DATABASE = "subscriptions"
BY_NAME, SUBSCRIBED = "by-name", "subscribed"


def seed(members: int, others: int, extra: int) -> None:
    from django.db import transaction

    from django_aws_api_gateway_websockets.models import (
        ApiGateway,
        ChannelSubscription,
        WebSocketSession,
    )

    gateway = ApiGateway.objects.create(api_name="bench", api_id="bench01", stage_name="prod")

    def sessions(prefix: str, count: int, channel: Callable[[int], str]) -> list[Any]:
        return WebSocketSession.objects.bulk_create(
            (
                WebSocketSession(
                    connection_id=f"{prefix}{i:07d}=", channel_name=channel(i), api_gateway=gateway
                )
                for i in range(count)
            ),
            batch_size=2000,
        )

    with transaction.atomic():
        sessions("n", members, lambda i: BY_NAME)
        subscribers = sessions("s", members, lambda i: f"home-{i}")
        sessions("o", others, lambda i: f"other-{i % 50}")
        ChannelSubscription.objects.bulk_create(
            (
                ChannelSubscription(session=session, channel_name=channel)
                for session in subscribers
                for channel in [
                    SUBSCRIBED,
                    *(f"topic-{(i + session.pk) % 200}" for i in range(extra)),
                ]
            ),
            batch_size=5000,
        )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def recipients(channel: str) -> Any:
    from django_aws_api_gateway_websockets.models import WebSocketSession

    sessions = WebSocketSession.objects
    return (
        sessions.filter(channel_name=channel)
        if channel == BY_NAME
        else sessions.in_channel(channel)
    )


def measure(channel: str) -> dict[str, float]:
    from django_aws_api_gateway_websockets.messaging.recipients import recipient_pages

    started = time.perf_counter()
    read = sum(len(page) for page in recipient_pages(recipients(channel), 1000))
    query = time.perf_counter() - started

    usage = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    result = recipients(channel).send_message(MESSAGE)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
    assert len(result.sent) == read, (len(result.sent), read)
    return {"sent": len(result.sent), "wall": wall, "cpu": cpu, "query": query}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--others", type=int, default=5000)
    parser.add_argument("--extra", type=int, default=4, help="other channels per subscriber")
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    ours, theirs = multiprocessing.Pipe()
    server = multiprocessing.Process(target=serve, args=(args.latency, theirs), daemon=True)
    server.start()
    port = ours.recv()
    recreate_postgres_database(DATABASE)
    configure_django(database_settings("postgres", DATABASE), f"http://127.0.0.1:{port}", {})
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    seed(args.members, args.others, args.extra)
    measure(BY_NAME)  # warm: connections, statements, the sending loop
    measure(SUBSCRIBED)

    figures: dict[str, list[dict[str, float]]] = {BY_NAME: [], SUBSCRIBED: []}
    for round_ in range(args.rounds):
        order = [BY_NAME, SUBSCRIBED] if round_ % 2 == 0 else [SUBSCRIBED, BY_NAME]
        for channel in order:
            figures[channel].append(measure(channel))

    print(
        f"PostgreSQL, {args.members:,} members per channel, {args.others:,} other sessions, "
        f"{args.members * (1 + args.extra):,} subscriptions, latency {args.latency * 1000:.0f} ms, "
        f"plain HTTP, medians of {args.rounds} rounds"
    )
    print(f"{'fan-out':<22}{'sent':>7}{'wall s':>9}{'CPU s':>8}{'queries ms':>12}{'posts/s':>9}")
    medians = {}
    for channel, label in ((BY_NAME, "by channel_name"), (SUBSCRIBED, "to subscribers")):
        runs = figures[channel]
        median = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        medians[channel] = median
        print(
            f"{label:<22}{median['sent']:>7,.0f}{median['wall']:>9.3f}{median['cpu']:>8.3f}"
            f"{median['query'] * 1000:>12.1f}{median['sent'] / median['wall']:>9,.0f}"
        )
    ratio = {
        key: medians[SUBSCRIBED][key] / medians[BY_NAME][key] for key in ("wall", "cpu", "query")
    }
    print(
        f"subscribers / channel_name: wall {ratio['wall']:.2f}x (goal <= 1.2x), "
        f"CPU {ratio['cpu']:.2f}x, recipient queries {ratio['query']:.2f}x"
    )
    ours.send("stop")
    ours.recv()
    server.join(5)


if __name__ == "__main__":
    main()
