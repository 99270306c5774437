"""Find sessions whose connection is gone: past API Gateway's two-hour cap (no AWS call)
or silent past its idle timeout and answered 410 by ``GET @connections/{id}``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from django_aws_api_gateway_websockets.conf import get_setting
from django_aws_api_gateway_websockets.liveness import check_liveness


class Command(BaseCommand):
    help = (
        "Mark sessions older than WEBSOCKETS['session_max_age_seconds'] disconnected, then "
        "ask API Gateway about sessions silent for longer than "
        "WEBSOCKETS['session_idle_seconds'] and mark the gone ones disconnected."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size",
            type=int,
            default=None,
            help="Sessions per batch (default: WEBSOCKETS['send_batch_size'], 1000).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        batch_size = options["batch_size"]
        if batch_size is not None and batch_size < 1:
            raise CommandError("--batch-size must be 1 or more.")
        found = check_liveness(batch_size)
        max_age, idle = get_setting("session_max_age_seconds"), get_setting("session_idle_seconds")
        self.stdout.write(
            self.style.SUCCESS(
                f"Marked {found.expired} sessions older than {max_age}s as disconnected"
            )
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Probed {found.probed} sessions silent for more than {idle}s: "
                f"{found.gone} gone and marked disconnected, {found.failed} failed, "
                f"{found.skipped} without a gateway"
            )
        )
