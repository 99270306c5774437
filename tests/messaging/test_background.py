"""Background fan-out through Django's task framework, run by real workers: the
database backend's ``db_worker`` and an RQ worker on Redis."""

from __future__ import annotations

import os
import uuid

import pytest
from django.core.management import call_command

from django_aws_api_gateway_websockets.messaging.background import enqueue_send, send_batch
from django_aws_api_gateway_websockets.models import WebSocketSession

pytestmark = pytest.mark.django_db

try:
    from django.tasks import TaskResultStatus  # type: ignore[import-not-found,unused-ignore]
except ImportError:
    from django_tasks import TaskResultStatus


def _totals(results: list) -> dict[str, int]:
    totals = {"sent": 0, "gone": 0, "failed": 0, "skipped": 0}
    for result in results:
        assert result.status == TaskResultStatus.SUCCESSFUL, result.errors
        for key in totals:
            totals[key] += result.return_value[key]
    return totals


def test_without_a_task_backend_batches_run_at_once(management_api, gateway, make_sessions):
    make_sessions(25, gateway)
    results = WebSocketSession.objects.send_message_in_background({"n": 1}, batch_size=10)
    assert len(results) == 3
    assert _totals(results) == {"sent": 25, "gone": 0, "failed": 0, "skipped": 0}


@pytest.mark.django_db(transaction=True)  # the worker closes connections between tasks
def test_database_backend_and_its_worker(management_api, gateway, make_sessions, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    sessions = make_sessions(95, gateway)
    management_api.gone |= {s.connection_id for s in sessions[:5]}

    results = enqueue_send(WebSocketSession.objects.all(), {"type": "news"}, batch_size=40)

    assert len(results) == 3
    assert all(r.status == TaskResultStatus.READY for r in results)
    assert management_api.posts == []  # nothing is sent until a worker runs
    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0", verbosity=0)

    for result in results:
        result.refresh()
    assert _totals(results) == {"sent": 90, "gone": 5, "failed": 0, "skipped": 0}
    assert sorted(results[0].args[0]) == [s.pk for s in sessions[:40]]
    assert WebSocketSession.objects.filter(connected=False).count() == 5
    assert len(management_api.posts) == 95


@pytest.mark.redis
def test_rq_backend_and_a_real_worker(management_api, gateway, make_sessions, settings):
    import django_rq
    from django_tasks_rq.backend import Job
    from rq import SimpleWorker

    queue_name = f"messaging-tests-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    redis = {"HOST": "127.0.0.1", "PORT": 6379, "DB": 0}
    settings.RQ_QUEUES = {"default": redis, queue_name: redis}  # results are read via "default"
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": [queue_name]}}
    make_sessions(30, gateway)
    management_api.gone.add("conn00007=")

    results = enqueue_send(
        WebSocketSession.objects.all(), {"n": 1}, batch_size=12, queue_name=queue_name
    )
    queue = django_rq.get_queue(queue_name, job_class=Job)
    try:
        assert len(results) == 3
        assert queue.count == 3
        assert management_api.posts == []
        # in this process, so that it shares the test's database connection
        SimpleWorker([queue], connection=queue.connection, job_class=Job).work(burst=True)
        for result in results:
            result.refresh()
        assert _totals(results) == {"sent": 29, "gone": 1, "failed": 0, "skipped": 0}
        assert not WebSocketSession.objects.get(connection_id="conn00007=").connected
    finally:
        queue.empty()
        queue.delete(delete_jobs=True)


def test_the_message_is_checked_once_before_anything_is_enqueued(
    management_api, gateway, make_sessions, settings
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    make_sessions(3, gateway)
    with pytest.raises(ValueError, match="bytes"):
        enqueue_send(WebSocketSession.objects.all(), "x" * (128 * 1024))
    with pytest.raises(ValueError, match="batch_size"):
        enqueue_send(WebSocketSession.objects.all(), {"n": 1}, batch_size=0)
    assert enqueue_send(WebSocketSession.objects.none(), {"n": 1}) == []


def test_a_batch_task_skips_sessions_that_disconnected_meanwhile(
    management_api, gateway, make_sessions
):
    sessions = make_sessions(4, gateway)
    WebSocketSession.objects.filter(pk=sessions[0].pk).update(connected=False)
    summary = send_batch.call([s.pk for s in sessions], '{"n": 1}')
    assert summary["sent"] == 3
    assert management_api.posts[0].body == b'{"n": 1}'
