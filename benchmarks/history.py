"""Channel history benchmark, on PostgreSQL: sends per second to one channel that keeps
history, from concurrent sender processes, and a resume of 100 missed messages.

Three rounds, each of ``--senders`` processes (4 by default) sending ``--sends``
messages, all starting together: numbering and keeping alone (``history.keep``, the one
statement), first with each sender on its own channel (nothing shared: the baseline of
this machine at this moment), then all on one channel, whose sequence row they queue on;
then the whole ``send_to_channel`` on one channel: the history statement and the
fan-out to the channel's ``--members`` connected sessions (one recipients query, and
posts over TLS to the fake Management API, answering after ``--latency`` seconds). A
round's figure is its sends over the time from the start to
the last sender's end. After each round the numbers are verified: the kept messages
are numbered 1..N without a gap or a repeat, each sender's messages in its own order,
and every message sent is there once. Last, a resume of the 100 newest messages: the
queries it takes, and its time (the one query alone, and the whole answer posted to one
connection), median of ``--resumes``.

    python benchmarks/history.py                    # DATABASE_URL or 127.0.0.1:5432
    python benchmarks/history.py --members 0 --sends 2000

Requires the package installed (``pip install -e . --group test``); run from the
repository root.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import itertools

from fake_management_api import serve
from fanout import (
    configure_django,
    database_settings,
    recreate_postgres_database,
    throwaway_certificate,
)

DB_NAME = "history"
#: The channel of each round ("own": each sender its own channel, ``room-<pid>``).
CHANNELS = {"own": "", "keep": "room-1", "send": "room-2"}
MESSAGE = {"user": {"id": 4711, "name": "Ada Lovelace"}, "text": "Hello, room."}
WEBSOCKETS = {"history_channels": [r"room-\d+"]}
ROUNDS = {
    "own": "history.keep, each sender to its own channel (no shared row)",
    "keep": "history.keep, all senders to one channel",
    "send": "send_to_channel (history and fan-out)",
}


def setup(endpoint: str, members: int) -> None:
    """A fresh database with the channel's members (and one warm-up session per sender)."""
    recreate_postgres_database(DB_NAME)
    configure_django(database_settings("postgres", DB_NAME), endpoint, WEBSOCKETS)
    from django.core.management import call_command

    from django_aws_api_gateway_websockets.models import ApiGateway, WebSocketSession

    call_command("migrate", verbosity=0)
    (gateway,) = ApiGateway.objects.bulk_create(
        [ApiGateway(api_name="bench", api_id="bench01", stage_name="prod")]
    )
    WebSocketSession.objects.bulk_create(
        [
            WebSocketSession(
                connection_id=f"m{i:07d}=", channel_name=CHANNELS["send"], api_gateway=gateway
            )
            for i in range(members)
        ]
        + [
            WebSocketSession(connection_id="w0000000=", channel_name="warm", api_gateway=gateway),
            # The connection that resumes: not counted in the sends' fan-out.
            WebSocketSession(
                connection_id="r0000000=",
                channel_name=CHANNELS["send"],
                api_gateway=gateway,
                connected=False,
            ),
        ]
    )


def sender(args: argparse.Namespace) -> None:
    """One sender process: wait for the start, send, print its figures."""
    configure_django(database_settings("postgres", DB_NAME), args.endpoint, WEBSOCKETS)
    from django_aws_api_gateway_websockets import history
    from django_aws_api_gateway_websockets.channel_messages import send_to_channel

    send_to_channel("warm", MESSAGE)  # connections to the database and the fake
    go = Path(args.go)
    while not go.exists():
        time.sleep(0.001)
    channel = CHANNELS[args.round] or f"room-{os.getpid()}"
    latencies = []
    usage = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    for n in range(args.sends):
        data = {**MESSAGE, "sender": os.getpid(), "n": n}
        before = time.perf_counter()
        if args.round != "send":
            history.keep(channel, json.dumps(data))
        else:
            result = send_to_channel(channel, data)
            if len(result.sent) != args.members:
                sys.exit(f"send {n} reached {len(result.sent)} of {args.members} members")
        latencies.append(time.perf_counter() - before)
    ended = time.perf_counter()
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
    quantiles = statistics.quantiles(latencies, n=100)
    print(
        json.dumps(
            {
                "wall": ended - started,
                "ended": time.time(),
                "p50_ms": quantiles[49] * 1000,
                "p99_ms": quantiles[98] * 1000,
                "cpu_us": cpu / args.sends * 1e6,
            }
        )
    )


def run_senders(
    args: argparse.Namespace, round_name: str, tmp: str, env: dict[str, str]
) -> dict[str, Any]:
    go = Path(tmp) / f"go-{round_name}"
    command = [sys.executable, __file__, "--child", round_name, "--endpoint", args.endpoint]
    command += ["--go", str(go), "--sends", str(args.sends), "--members", str(args.members)]
    processes = [
        subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        for _ in range(args.senders)
    ]
    time.sleep(3)  # every sender set up and waiting
    started = time.time()
    go.touch()
    figures = []
    for process in processes:
        out, err = process.communicate()
        if process.returncode:
            sys.exit(f"a sender failed:\n{err}")
        figures.append(json.loads(out.strip().splitlines()[-1]))
    elapsed = max(f["ended"] for f in figures) - started
    return {"elapsed": elapsed, "senders": figures}


def verify(channel: str, total: int, senders: int, per_sender: int) -> str:
    """The kept numbers are 1..total, each message once, each sender's in its order."""
    from django_aws_api_gateway_websockets.models import ChannelMessage, ChannelSequence

    rows = ChannelMessage.objects.filter(channel_name=channel).order_by("seq")
    seqs, data = [], []
    for seq, text in rows.values_list("seq", "data").iterator(chunk_size=5000):
        seqs.append(seq)
        data.append(json.loads(text))
    problems = []
    if seqs != list(range(1, total + 1)):
        problems.append(f"numbers are not 1..{total} (have {len(seqs)}, {len(set(seqs))} distinct)")
    if ChannelSequence.objects.get(channel_name=channel).last_seq != total:
        problems.append("the sequence row does not end at the total")
    by_sender: dict[int, list[int]] = {}
    for item in data:
        by_sender.setdefault(item["sender"], []).append(item["n"])
    if len(by_sender) != senders or any(ns != list(range(per_sender)) for ns in by_sender.values()):
        problems.append("a sender's messages are missing, repeated or out of its order")
    interleaved = sum(1 for a, b in itertools.pairwise(data) if a["sender"] != b["sender"])
    verdict = "; ".join(problems) or f"OK: 1..{total}, no gap, no repeat"
    return f"{verdict} ({interleaved} switches between senders)"


def resume(repeat: int) -> dict[str, Any]:
    """Queries and time of a resume of the 100 newest messages of the channel."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from django_aws_api_gateway_websockets import history
    from django_aws_api_gateway_websockets.replay import answer_resume

    channel = CHANNELS["send"]
    session = _session("r0000000=")
    last = history.latest(channel, 1).last_seq
    after = {channel: last - 100}
    with CaptureQueriesContext(connection) as queries:
        answer_resume(session, after, lambda name: True)
    reads = []
    answers = []
    for _ in range(repeat):
        started = time.perf_counter()
        page = history.missed(channel, last - 100)
        reads.append(time.perf_counter() - started)
        started = time.perf_counter()
        answer_resume(session, after, lambda name: True)
        answers.append(time.perf_counter() - started)
    assert page.follows(last - 100)
    assert len(page.messages) == 100
    return {
        "queries": len(queries),
        "read_ms": statistics.median(reads) * 1000,
        "answer_ms": statistics.median(answers) * 1000,
    }


def _session(connection_id: str) -> Any:
    from django_aws_api_gateway_websockets.models import WebSocketSession

    return WebSocketSession.objects.select_related("api_gateway").get(connection_id=connection_id)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--sends", type=int, default=1000, help="per sender")
    parser.add_argument("--members", type=int, default=2, help="connected sessions in the channel")
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--resumes", type=int, default=50)
    parser.add_argument("--child", choices=sorted(CHANNELS), help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--go", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        args.round = args.child
        sender(args)
        return

    with tempfile.TemporaryDirectory() as tmp:
        certificate, ca_file = throwaway_certificate(tmp)
        env = {**os.environ, "SSL_CERT_FILE": ca_file, "AWS_CA_BUNDLE": ca_file}
        os.environ.update(SSL_CERT_FILE=ca_file, AWS_CA_BUNDLE=ca_file)
        ours, theirs = multiprocessing.Pipe()
        server = multiprocessing.Process(
            target=serve, args=(args.latency, theirs, certificate), daemon=True
        )
        server.start()
        args.endpoint = f"https://127.0.0.1:{ours.recv()}"

        setup(args.endpoint, args.members)
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            (version,) = cursor.fetchone()
            cursor.execute("SHOW synchronous_commit")
            (commit,) = cursor.fetchone()
        print(
            f"PostgreSQL {version} (synchronous_commit={commit}), {args.senders} sender "
            f"processes x {args.sends} sends to one channel with history, {args.members} "
            f"member(s) posted to over TLS ({args.latency * 1000:.0f} ms answers), "
            f"{os.cpu_count()} cores",
            flush=True,
        )
        total = args.senders * args.sends
        rates = {}
        for round_name, label in ROUNDS.items():
            connection.close()  # not held open across the senders' run
            run = run_senders(args, round_name, tmp, env)
            senders = run["senders"]
            rates[round_name] = total / run["elapsed"]
            print(f"{label}: {rates[round_name]:,.0f} sends/s, all senders together")
            p50, p99, cpu = (
                statistics.median(s[key] for s in senders) for key in ("p50_ms", "p99_ms", "cpu_us")
            )
            print(f"  per send: p50 {p50:.2f} ms, p99 {p99:.2f} ms, CPU {cpu:.0f} µs (medians)")
            if CHANNELS[round_name]:
                verdict = verify(CHANNELS[round_name], total, args.senders, args.sends)
                print(f"  numbers: {verdict}", flush=True)
        print(
            f"one shared channel / own channels: {rates['keep'] / rates['own']:.2f} "
            "(what queueing on the channel's sequence row costs)"
        )
        figures = resume(args.resumes)
        print(
            f"resume of 100 missed messages: {figures['queries']} query, "
            f"{figures['read_ms']:.2f} ms to read, {figures['answer_ms']:.2f} ms answered "
            "(query, encoding and the post of one history message)"
        )
        ours.send("stop")
        ours.recv()
        server.join(5)


if __name__ == "__main__":
    main()
