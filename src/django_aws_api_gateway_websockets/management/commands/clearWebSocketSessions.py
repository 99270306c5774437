"""Reap sessions: API Gateway ends every connection after two hours and does not
promise a ``$disconnect``, so rows still "connected" past that age are marked
disconnected first; then every disconnected row is deleted, and presence channels lose
the members no connected session keeps."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from django_aws_api_gateway_websockets.conf import get_setting
from django_aws_api_gateway_websockets.liveness import expire_sessions
from django_aws_api_gateway_websockets.models import WebSocketSession
from django_aws_api_gateway_websockets.presence import settle_everyone

from ._batches import delete_in_batches


class Command(BaseCommand):
    help = (
        "Mark sessions connected for longer than WEBSOCKETS['session_max_age_seconds'] "
        "(default 7200, API Gateway's limit) as disconnected, then delete all "
        "disconnected sessions, in batches, and remove presence members no connected "
        "session keeps."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        max_age = get_setting("session_max_age_seconds")
        marked = expire_sessions()
        self.stdout.write(
            self.style.SUCCESS(f"Marked {marked} sessions older than {max_age}s as disconnected")
        )
        deleted = delete_in_batches(WebSocketSession.objects.filter(connected=False))
        self.stdout.write(self.style.SUCCESS(f"Deleted {deleted} disconnected sessions"))
        left = settle_everyone()
        self.stdout.write(self.style.SUCCESS(f"Removed {left} presence members left behind"))
