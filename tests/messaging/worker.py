"""A task worker in its own process, for the crash tests: ``python -m
tests.messaging.worker rq|celery QUEUE``. ``DURABLE_WORKER`` (JSON) carries what the
test's settings changed: the test database's name, ``WEBSOCKETS``, ``TASKS`` and the
broker settings (see ``worker_settings``)."""

from __future__ import annotations

import os
import sys


def main(engine: str, queue_name: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.messaging.worker_settings"
    import django

    django.setup()
    if engine == "rq":
        import django_rq
        from django_tasks_rq.backend import Job
        from rq import SimpleWorker

        queue = django_rq.get_queue(queue_name, job_class=Job)
        # No fork: the job runs in this process, so killing it kills the job.
        SimpleWorker([queue], connection=queue.connection, job_class=Job).work()
    else:
        from django_tasks_fennel.app import app

        app.worker_main(
            [
                "worker",
                "--pool=solo",
                f"--queues={queue_name}",
                "--loglevel=WARNING",
                "--without-mingle",
                "--without-gossip",
                "--prefetch-multiplier=1",
            ]
        )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
