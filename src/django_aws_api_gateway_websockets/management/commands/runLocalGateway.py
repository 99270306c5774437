"""``manage.py runLocalGateway``: a local API Gateway in front of this project.

With ``--api-gateway PK`` (or a single ``ApiGateway`` row and no ``--target``) it reads
the row once through the ORM, then talks to Django only over HTTP. Point sending at it
with ``WEBSOCKETS["management_endpoint_url"] = "http://127.0.0.1:8001/{stage}"``.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ...localgateway.cli import (
    add_arguments,
    build_config,
    configure_logging,
    gateway_row_settings,
    run,
)


class Command(BaseCommand):
    help = "Run a local API Gateway (WebSockets and the @connections Management API)."

    def add_arguments(self, parser: CommandParser) -> None:
        add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            row = None if options["target"] else gateway_row_settings(options["api_gateway"])
            config = build_config(options, row)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        configure_logging(options["quiet"])
        run(config, options["host"], options["port"])
