"""Delete spent or expired tokens and old rate-limit rows, in batches (through
``WebSocketToken.cleanup_expired`` and ``ConnectionRateLimit.cleanup_old_records``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from django_aws_api_gateway_websockets.conf import get_setting
from django_aws_api_gateway_websockets.models import (
    ConnectionRateLimit,
    RateLimitCounter,
    WebSocketToken,
)

#: The shortest default token age, kept from the original.
MIN_DEFAULT_TOKEN_AGE = 300


class Command(BaseCommand):
    help = "Delete old WebSocket tokens, connection attempts and expired rate-limit counters."

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

        # The models' methods of 4.1.0, which delete in batches.
        tokens, _ = WebSocketToken.cleanup_expired(max_age_seconds=token_age)
        self.stdout.write(
            self.style.SUCCESS(
                f"Successfully deleted {tokens} expired WebSocket tokens (older than {token_age}s)"
            )
        )
        deleted, by_model = ConnectionRateLimit.cleanup_old_records(days=days)
        counters = by_model.get(RateLimitCounter._meta.label, 0)
        self.stdout.write(
            self.style.SUCCESS(
                f"Successfully deleted {deleted - counters} old rate limit records "
                f"(older than {days} days)"
            )
        )
        self.stdout.write(
            self.style.SUCCESS(f"Successfully deleted {counters} expired rate limit counters")
        )
