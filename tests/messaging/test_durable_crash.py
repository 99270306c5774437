"""Nothing lost when a worker dies: a 5,000-recipient background send on PostgreSQL, run
by real worker processes of RQ on Redis and of Celery on RabbitMQ, three of which are
killed (SIGKILL) in the middle of a batch. Every recipient gets the message at least
once, the duplicates stay within the bound the send record reports, and no batch is
left running."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from django_aws_api_gateway_websockets.messaging.background import requeue
from django_aws_api_gateway_websockets.messaging.records import release_stalled
from django_aws_api_gateway_websockets.models import SendBatch, SendRecord, WebSocketSession
from tests.conftest import _reachable, redis_available

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

RECIPIENTS = 5000
KILLS = 3
WORKERS = 2
ROOT = Path(__file__).resolve().parents[2]
REDIS = {"HOST": "127.0.0.1", "PORT": 6379, "DB": 2}
AMQP = "amqp://guest:guest@127.0.0.1:5672//"

ENGINES = [
    pytest.param(
        "rq",
        marks=pytest.mark.skipif(not redis_available(), reason="needs Redis on 127.0.0.1:6379"),
    ),
    pytest.param(
        "celery",
        marks=pytest.mark.skipif(
            not _reachable("127.0.0.1", 5672), reason="needs RabbitMQ on 127.0.0.1:5672"
        ),
    ),
]


class Workers:
    """Worker processes of one engine, started and killed by this test only."""

    def __init__(self, engine: str, queue_name: str, config: dict[str, Any], log: Path) -> None:
        self.engine, self.queue_name, self.log = engine, queue_name, log
        self.env = {**os.environ, "DURABLE_WORKER": json.dumps(config)}
        self.running: dict[int, subprocess.Popen[bytes]] = {}

    def start(self) -> None:
        with self.log.open("ab") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "tests.messaging.worker", self.engine, self.queue_name],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.running[process.pid] = process

    def kill(self, pid: int) -> None:
        process = self.running.pop(pid)
        process.send_signal(signal.SIGKILL)
        process.wait(10)

    def stop(self) -> None:
        for pid in list(self.running):
            self.kill(pid)


def _worker_pid(claimed_by: str) -> int:
    return int(claimed_by.split(":")[-2])


@pytest.fixture
def engine_queue(request: pytest.FixtureRequest, settings: Any) -> Iterator[tuple[str, str]]:
    engine = request.param
    queue_name = f"durable-crash-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    settings.RQ_QUEUES = {"default": REDIS, queue_name: REDIS}
    settings.CELERY_BROKER_URL = AMQP
    backend = "django_tasks_rq.RQBackend" if engine == "rq" else "django_tasks_fennel.CeleryBackend"
    settings.TASKS = {"default": {"BACKEND": backend, "QUEUES": ["default", queue_name]}}
    if engine == "rq":
        yield engine, queue_name
        import django_rq

        django_rq.get_queue(queue_name).delete(delete_jobs=True)
        return
    from django_tasks_fennel.app import app

    app.set_default()
    yield engine, queue_name
    with app.connection_for_write() as conn:
        conn.default_channel.queue_delete(queue_name)


@pytest.mark.parametrize("engine_queue", ENGINES, indirect=True)
def test_three_workers_killed_mid_batch_lose_nothing(
    engine_queue, management_api, gateway, make_sessions, settings, tmp_path
):
    engine, queue_name = engine_queue
    management_api.latency = 0.05
    settings.WEBSOCKETS |= {"background_lease_seconds": 2, "background_checkpoint_every": 25}
    sessions = make_sessions(RECIPIENTS, gateway)
    workers = Workers(
        engine,
        queue_name,
        {
            "database": connection.settings_dict["NAME"],
            "websockets": settings.WEBSOCKETS,
            "tasks": settings.TASKS,
            "rq_queues": settings.RQ_QUEUES,
            "celery_broker_url": AMQP,
        },
        tmp_path / "workers.log",
    )
    for _ in range(WORKERS):
        workers.start()
    try:
        record = WebSocketSession.objects.all().send_message_in_background(
            {"type": "news"}, max_workers=20, queue_name=queue_name
        )
        killed = _kill_mid_batch(record, workers)
        _wait_until_finished(record, workers)
    finally:
        workers.stop()

    assert killed == KILLS, (workers.log.read_text()[-3000:], killed)
    record.refresh_from_db()
    assert record.state == SendRecord.State.FINISHED
    assert not record.batches.exclude(state=SendBatch.State.DONE).exists()
    takeovers = sum(b.claims - 1 for b in record.batches.all())
    assert takeovers >= KILLS
    delivered = management_api.deliveries()
    missed = [s.connection_id for s in sessions if delivered.get(s.connection_id, 0) < 1]
    assert missed == []
    duplicates = sum(count - 1 for count in delivered.values())
    assert duplicates <= record.maybe_duplicated
    assert (record.sent, record.recipients, record.failed) == (RECIPIENTS, RECIPIENTS, 0)
    print(f"{engine}: {duplicates} duplicates, bound {record.maybe_duplicated}")


def _kill_mid_batch(record: SendRecord, workers: Workers) -> int:
    """SIGKILL a worker that holds a batch it has started posting, three times, with a
    new worker started after each."""
    killed = 0
    deadline = time.monotonic() + 90
    while killed < KILLS and time.monotonic() < deadline:
        holders = record.batches.filter(state=SendBatch.State.RUNNING, position__gt=0)
        pids = {_worker_pid(b.claimed_by) for b in holders} & set(workers.running)
        if not pids:
            time.sleep(0.05)
            continue
        workers.kill(pids.pop())
        workers.start()
        killed += 1
        time.sleep(1.0)
    return killed


def _wait_until_finished(record: SendRecord, workers: Workers) -> None:
    """Wait for the send, running the stalled-batch sweep as cron would."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        record.refresh_from_db()
        if record.state == SendRecord.State.FINISHED:
            return
        requeue(release_stalled())
        time.sleep(0.5)
    raise AssertionError(f"not finished: {workers.log.read_text()[-3000:]}")
