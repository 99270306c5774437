"""Delete spent or expired tokens, old rate-limit rows and expired channel history, in
batches."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from django_aws_api_gateway_websockets.conf import get_setting
from django_aws_api_gateway_websockets.history import expired_messages
from django_aws_api_gateway_websockets.models import (
    ConnectionRateLimit,
    RateLimitCounter,
    WebSocketToken,
)
from django_aws_api_gateway_websockets.ratelimit import COUNTER_RETENTION

from ._batches import delete_in_batches

#: The shortest default token age, kept from the original.
MIN_DEFAULT_TOKEN_AGE = 300


class Command(BaseCommand):
    help = (
        "Delete old WebSocket tokens, connection attempts, expired rate-limit counters and "
        "channel history past WEBSOCKETS['history_max_messages'] or "
        "['history_max_age_seconds']."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--token-age",
            type=int,
            default=None,
            help=(
                "Delete tokens (used or not) older than this many seconds. Default: 300, "
                "or WEBSOCKETS['token_expiry_seconds'] if longer, so that no token that "
                "could still be used is deleted."
            ),
        )
        parser.add_argument(
            "--rate-limit-age",
            type=int,
            default=7,
            help="Delete connection attempts older than this many days (default: 7).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        token_age = options["token_age"]
        if token_age is None:
            token_age = max(MIN_DEFAULT_TOKEN_AGE, get_setting("token_expiry_seconds"))
        if token_age < 1:
            raise CommandError("--token-age must be a number of seconds of at least 1.")
        days = options["rate_limit_age"]
        if days < 0:
            raise CommandError("--rate-limit-age must be a number of days of 0 or more.")

        now = timezone.now()
        tokens = delete_in_batches(
            WebSocketToken.objects.filter(created_at__lt=now - timedelta(seconds=token_age))
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Successfully deleted {tokens} expired WebSocket tokens (older than {token_age}s)"
            )
        )
        attempts_cutoff = now - timedelta(days=days)
        attempts = delete_in_batches(
            ConnectionRateLimit.objects.filter(attempt_time__lt=attempts_cutoff)
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Successfully deleted {attempts} old rate limit records (older than {days} days)"
            )
        )
        # A counter matters only during its window (minutes long), so it goes once it
        # is untouched for a day, or for the attempts' age if that is shorter.
        counters_cutoff = max(attempts_cutoff, now - COUNTER_RETENTION)
        counters = delete_in_batches(
            RateLimitCounter.objects.filter(updated_at__lt=counters_cutoff)
        )
        self.stdout.write(
            self.style.SUCCESS(f"Successfully deleted {counters} expired rate limit counters")
        )
        history = delete_in_batches(expired_messages())
        self.stdout.write(
            self.style.SUCCESS(f"Successfully deleted {history} expired channel history messages")
        )
