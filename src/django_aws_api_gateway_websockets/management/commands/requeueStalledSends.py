"""Enqueue again the background-send batches whose worker died (lease expired)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from django_aws_api_gateway_websockets.messaging.background import requeue
from django_aws_api_gateway_websockets.messaging.records import release_stalled


class Command(BaseCommand):
    help = (
        "Enqueue again the batches of background sends whose lease expired (their worker "
        "died) or that no worker started. Every worker also does this before each batch; "
        "run this from cron to cover a crash during the last batches of a send."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        while released := release_stalled():
            total += requeue(released)
        self.stdout.write(f"Enqueued {total} stalled batch(es) again.")
