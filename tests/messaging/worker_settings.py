"""Settings of a crash-test worker process: the test settings plus what the test
passed in ``DURABLE_WORKER``."""

from __future__ import annotations

import json
import os

from tests.settings import *  # noqa: F403
from tests.settings import DATABASES, INSTALLED_APPS

_worker = json.loads(os.environ["DURABLE_WORKER"])

DATABASES["default"]["NAME"] = _worker["database"]
WEBSOCKETS = _worker["websockets"]
TASKS = _worker["tasks"]
RQ_QUEUES = _worker["rq_queues"]
CELERY_BROKER_URL = _worker["celery_broker_url"]
INSTALLED_APPS = [*INSTALLED_APPS, "django_tasks_fennel"]
AWS_ACCESS_KEY_ID = "AKIDMESSAGINGTEST"
AWS_SECRET_ACCESS_KEY = "messaging-test-secret"
