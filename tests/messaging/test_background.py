"""Durable background fan-out: the send record, batches under leases, resuming after a
worker died, and the completion signal. Run by the default (immediate) backend and by
real workers: the database backend's ``db_worker`` and an RQ worker on Redis."""

from __future__ import annotations

import json
import os
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from django_aws_api_gateway_websockets.messaging import background, records
from django_aws_api_gateway_websockets.messaging.background import (
    CHAIN_BATCHES,
    enqueue_send,
    requeue_stalled_batches,
    send_batch,
)
from django_aws_api_gateway_websockets.models import SendBatch, SendRecord, WebSocketSession
from django_aws_api_gateway_websockets.signals import send_completed

pytestmark = pytest.mark.django_db

COUNTS = ("sent", "gone", "failed", "throttled", "skipped", "maybe_duplicated")


def _counts(record: SendRecord) -> dict[str, int]:
    record.refresh_from_db()
    return {name: getattr(record, name) for name in COUNTS}


@pytest.fixture
def completed() -> list[SendRecord]:
    seen: list[SendRecord] = []

    def receiver(sender: object, record: SendRecord, **kwargs: object) -> None:
        seen.append(record)

    send_completed.connect(receiver)
    yield seen
    send_completed.disconnect(receiver)


def test_without_a_task_backend_batches_run_at_once(
    management_api, gateway, make_sessions, completed, django_capture_on_commit_callbacks
):
    make_sessions(25, gateway)
    with django_capture_on_commit_callbacks(execute=True):
        record = WebSocketSession.objects.send_message_in_background({"n": 1}, batch_size=10)
    assert (record.recipients, record.batch_count) == (25, 3)
    assert _counts(record) == dict.fromkeys(COUNTS, 0) | {"sent": 25}
    assert record.state == SendRecord.State.FINISHED
    assert record.started_on <= record.finished_on
    assert [r.pk for r in completed] == [record.pk]
    assert completed[0].sent == 25
    # The payload is exactly what an in-request send (and 4.1.0) posts.
    assert {post.body for post in management_api.posts} == {b'{"n": 1}'}
    assert not record.batches.exclude(state=SendBatch.State.DONE).exists()


def test_the_record_and_batches_exist_before_any_task_runs(
    management_api, gateway, make_sessions, settings
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    sessions = make_sessions(7, gateway)
    record = enqueue_send(WebSocketSession.objects.all(), {"a": 1}, batch_size=3)
    batches = list(record.batches.order_by("index"))
    assert [b.session_ids for b in batches] == [
        [s.pk for s in sessions[i : i + 3]] for i in range(0, 7, 3)
    ]
    assert all(b.state == SendBatch.State.PENDING for b in batches)
    assert record.state == SendRecord.State.QUEUED
    assert json.loads(record.message) == {"a": 1}
    assert management_api.posts == []


@pytest.mark.django_db(transaction=True)  # the worker closes connections between tasks
def test_database_backend_and_its_worker(management_api, gateway, make_sessions, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    sessions = make_sessions(95, gateway)
    management_api.gone |= {s.connection_id for s in sessions[:5]}
    management_api.plan[sessions[50].connection_id].extend([429] * 10)

    record = enqueue_send(WebSocketSession.objects.all(), {"type": "news"}, batch_size=40)

    assert management_api.posts == []  # nothing is sent until a worker runs
    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0", verbosity=0)

    assert _counts(record) == dict.fromkeys(COUNTS, 0) | {"sent": 89, "gone": 5, "throttled": 1}
    assert record.state == SendRecord.State.FINISHED
    assert WebSocketSession.objects.filter(connected=False).count() == 5


def test_a_worker_that_died_mid_batch_is_taken_over_and_resumed(
    management_api, gateway, make_sessions, settings
):
    settings.WEBSOCKETS |= {"background_checkpoint_every": 10}
    sessions = make_sessions(100, gateway)
    record, (batch_id,) = records.record_send(WebSocketSession.objects.all(), '{"n": 1}', 100)
    batch = SendBatch.objects.get(pk=batch_id)
    # A worker claims it, records 30 recipients, then dies with 20 more in flight.
    dead = records.claim(batch.pk, "dead-worker")
    assert dead is not None
    assert records.checkpoint(dead, "dead-worker", 30, records.Tally(sent=30))
    assert records.claim(batch.pk, "other") is None  # its lease still runs
    SendBatch.objects.filter(pk=batch.pk).update(lease_expires_at=timezone.now())

    assert send_batch.call(batch.pk)["claimed"]

    # Only recipients past the checkpoint were posted again...
    assert {p.connection_id for p in management_api.posts} == {
        s.connection_id for s in sessions[30:]
    }
    # ...the dead worker may have had two checkpoints' worth in flight...
    assert _counts(record) == dict.fromkeys(COUNTS, 0) | {"sent": 100, "maybe_duplicated": 20}
    # ...and it cannot record anything any more.
    assert not records.checkpoint(dead, "dead-worker", 10, records.Tally(sent=10))
    batch.refresh_from_db()
    assert (batch.state, batch.claims, batch.position) == (SendBatch.State.DONE, 2, 100)


def test_stalled_batches_are_enqueued_again_by_the_command_and_by_any_claim(
    management_api, gateway, make_sessions, settings, django_capture_on_commit_callbacks
):
    make_sessions(30, gateway)
    # A batch whose task was lost (never started): past its grace period, the next
    # claim of any batch enqueues it again.
    lost, (lost_id,) = records.record_send(WebSocketSession.objects.all(), '{"n": 1}', 30)
    _, (other_id,) = records.record_send(WebSocketSession.objects.all(), '{"n": 2}', 30)
    SendBatch.objects.filter(pk=lost_id).update(lease_expires_at=timezone.now())
    send_batch.call(other_id)
    assert _counts(lost)["sent"] == 30
    lost.refresh_from_db()
    assert lost.state == SendRecord.State.FINISHED

    # Batches whose worker died: the command enqueues them again.
    dead, ids = records.record_send(WebSocketSession.objects.all(), '{"n": 3}', 10)
    for pk in ids:
        assert records.claim(pk, "dead-worker")
    SendBatch.objects.filter(pk__in=ids).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    call_command("requeueStalledSends", stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert dead.batches.filter(state=SendBatch.State.DONE).count() == 3
    assert _counts(dead)["sent"] == 30
    assert requeue_stalled_batches.call() == 0


def test_a_task_goes_on_with_the_sends_pending_batches(
    management_api, gateway, make_sessions, settings, monkeypatch
):
    settings.WEBSOCKETS |= {"background_checkpoint_every": 4}
    make_sessions(25, gateway)
    record, ids = records.record_send(WebSocketSession.objects.all(), '{"n": 1}', 5)
    assert records.claim(ids[1], "other-worker")  # another worker has the second one
    result = send_batch.call(ids[0])
    assert (result["claimed"], result["batches"], result["sent"]) == (True, 4, 5)
    assert SendBatch.objects.get(pk=ids[1]).state == SendBatch.State.RUNNING
    assert records.counts(record.pk)["sent"] == 20
    assert len(management_api.posts) == 20
    assert all(send_batch.call(pk) == {"claimed": False} for pk in ids[2:])
    # At most ``CHAIN_BATCHES`` per task: the rest are left to their own tasks.
    more, more_ids = records.record_send(WebSocketSession.objects.all(), '{"n": 2}', 2)
    assert send_batch.call(more_ids[0])["batches"] == CHAIN_BATCHES
    assert more.batches.filter(state=SendBatch.State.DONE).count() == CHAIN_BATCHES
    assert send_batch.call(more_ids[-1])["batches"] == 13 - CHAIN_BATCHES
    # No batch is added once the task has run for ``CHAIN_SECONDS``.
    monkeypatch.setattr(background, "CHAIN_SECONDS", -1.0)
    _, late_ids = records.record_send(WebSocketSession.objects.all(), '{"n": 3}', 10)
    assert [send_batch.call(pk)["batches"] for pk in late_ids] == [1, 1, 1]


def test_a_batch_is_claimed_once(management_api, gateway, make_sessions, settings):
    make_sessions(3, gateway)
    _, (batch_id,) = records.record_send(WebSocketSession.objects.all(), '{"n": 1}', 10)
    assert send_batch.call(batch_id)["sent"] == 3
    assert send_batch.call(batch_id) == {"claimed": False}
    assert len(management_api.posts) == 3


def test_sessions_that_disconnected_meanwhile_are_skipped(
    management_api, gateway, make_sessions, settings
):
    sessions = make_sessions(4, gateway)
    record, (batch_id,) = records.record_send(WebSocketSession.objects.all(), '{"n": 1}', 10)
    WebSocketSession.objects.filter(pk=sessions[0].pk).update(connected=False)
    send_batch.call(batch_id)
    assert _counts(record) == dict.fromkeys(COUNTS, 0) | {"sent": 3, "skipped": 1}


def test_an_opt_in_message_id_is_stamped_on_the_message(
    management_api, gateway, make_sessions, django_capture_on_commit_callbacks
):
    make_sessions(3, gateway)
    with django_capture_on_commit_callbacks(execute=True):
        record = WebSocketSession.objects.send_message_in_background(
            {"type": "news"}, message_id=True
        )
    assert len(record.message_id) == 32
    bodies = {json.loads(post.body)["message_id"] for post in management_api.posts}
    assert bodies == {record.message_id}
    with pytest.raises(ValueError, match="message_id"):
        enqueue_send(WebSocketSession.objects.all(), [1, 2], message_id=True)
    with pytest.raises(ValueError, match="message_id"):
        enqueue_send(WebSocketSession.objects.all(), {"message_id": 1}, message_id=True)


def test_bad_input_is_refused_before_anything_is_written(
    management_api, gateway, make_sessions, completed
):
    make_sessions(3, gateway)
    with pytest.raises(ValueError, match="bytes"):
        enqueue_send(WebSocketSession.objects.all(), "x" * (128 * 1024))
    with pytest.raises(ValueError, match="batch_size"):
        enqueue_send(WebSocketSession.objects.all(), {"n": 1}, batch_size=0)
    with pytest.raises(ValueError, match="max_workers"):
        enqueue_send(WebSocketSession.objects.all(), {"n": 1}, max_workers=0)
    assert not SendRecord.objects.exists()
    empty = enqueue_send(WebSocketSession.objects.none(), {"n": 1})
    assert (empty.state, empty.recipients, empty.batch_count) == ("finished", 0, 0)
    assert [r.pk for r in completed] == [empty.pk]


@pytest.mark.redis
def test_rq_backend_and_a_real_worker(
    management_api, gateway, make_sessions, settings, django_capture_on_commit_callbacks
):
    import django_rq
    from django_tasks_rq.backend import Job
    from rq import SimpleWorker

    queue_name = f"durable-tests-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    redis = {"HOST": "127.0.0.1", "PORT": 6379, "DB": 2}
    settings.RQ_QUEUES = {"default": redis, queue_name: redis}
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": [queue_name]}}
    make_sessions(30, gateway)
    management_api.gone.add("conn00007=")

    with django_capture_on_commit_callbacks(execute=True):
        record = enqueue_send(
            WebSocketSession.objects.all(), {"n": 1}, batch_size=12, queue_name=queue_name
        )
    queue = django_rq.get_queue(queue_name, job_class=Job)
    try:
        assert queue.count == 3
        assert management_api.posts == []
        # in this process, so that it shares the test's database connection
        SimpleWorker([queue], connection=queue.connection, job_class=Job).work(burst=True)
        assert _counts(record) == dict.fromkeys(COUNTS, 0) | {"sent": 29, "gone": 1}
        assert not WebSocketSession.objects.get(connection_id="conn00007=").connected
    finally:
        queue.empty()
        queue.delete(delete_jobs=True)


@pytest.mark.urls("tests.ops.urls")
def test_the_admin_lists_send_records_read_only(
    admin_client, management_api, gateway, make_sessions
):
    from django.urls import reverse

    make_sessions(5, gateway)
    finished, (first,) = records.record_send(WebSocketSession.objects.all(), '{"n": 1}', 5)
    running, _ = records.record_send(WebSocketSession.objects.all(), '{"secret": 2}', 2)
    send_batch.call(first)
    changelist = reverse("admin:django_aws_api_gateway_websockets_sendrecord_changelist")
    response = admin_client.get(changelist)
    assert response.status_code == 200
    rows = {row.pk: row for row in response.context["cl"].result_list}
    assert set(rows) == {finished.pk, running.pk}
    assert (rows[finished.pk].done, rows[running.pk].done) == (1, 0)
    assert b"1 / 1" in response.content
    assert b"0 / 3" in response.content
    change = reverse("admin:django_aws_api_gateway_websockets_sendrecord_change", args=[running.pk])
    page = admin_client.get(change)
    assert page.status_code == 200
    assert b"secret" in page.content
    assert admin_client.post(change, {"state": "finished"}).status_code == 403
    add = reverse("admin:django_aws_api_gateway_websockets_sendrecord_add")
    assert admin_client.get(add).status_code == 403


def test_a_batch_that_every_worker_dies_on_is_given_up(management_api, gateway, make_sessions):
    make_sessions(10, gateway)
    record, (batch_id,) = records.record_send(WebSocketSession.objects.all(), '{"n": 1}', 10)
    for attempt in range(records.MAX_CLAIMS):
        assert records.claim(batch_id, f"doomed-{attempt}") is not None
        if attempt == 0:
            assert records.checkpoint(
                SendBatch.objects.get(pk=batch_id), "doomed-0", 4, records.Tally(sent=4)
            )
        SendBatch.objects.filter(pk=batch_id).update(lease_expires_at=timezone.now())
    assert send_batch.call(batch_id) == {"claimed": False}
    assert management_api.posts == []
    record.refresh_from_db()
    assert record.state == SendRecord.State.FINISHED
    assert (record.sent, record.failed) == (4, 6)
