"""Bring existing integrations' request parameters in line with the settings (e.g. the
gateway secret) and redeploy."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from django_aws_api_gateway_websockets.aws import get_boto3_client
from django_aws_api_gateway_websockets.models import ApiGateway
from django_aws_api_gateway_websockets.provisioning.errors import AWS_ERRORS, describe_error
from django_aws_api_gateway_websockets.provisioning.integrations import (
    stale_integrations,
    update_integrations,
)
from django_aws_api_gateway_websockets.provisioning.spec import integration_request_parameters


def __getattr__(name: str) -> Any:
    # 4.1.0's parameter-name constants.
    from django_aws_api_gateway_websockets.compat import moved_name

    return moved_name(__name__, name)


class Command(BaseCommand):
    help = (
        "Set the connection id and gateway secret mappings on the integrations of every "
        "created API Gateway (or one, with --pk) and redeploy the ones that changed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--pk", type=int, help="only this ApiGateway row")
        parser.add_argument("--dry-run", action="store_true", help="report, change nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            integration_request_parameters()
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        only = {} if options["pk"] is None else {"pk": options["pk"]}
        failures = []
        for gateway in ApiGateway.objects.filter(api_created=True, **only).order_by("pk"):
            if not gateway.api_id:
                continue
            try:
                self._update(gateway, options["dry_run"])
            except (*AWS_ERRORS, ValueError) as exc:
                failures.append(f"{gateway.api_name} ({describe_error(exc)})")
        if failures:
            raise CommandError(f"Failed for: {', '.join(failures)}")

    def _update(self, gateway: ApiGateway, dry_run: bool) -> None:
        client = get_boto3_client("apigatewayv2")
        stale = stale_integrations(client, gateway)
        if not stale:
            self.stdout.write(f"{gateway.api_name}: up to date")
        elif dry_run:
            self.stdout.write(
                f"{gateway.api_name}: would update {len(stale)} integration(s): {', '.join(stale)}"
            )
        else:
            deployment_id = update_integrations(client, gateway, stale)
            self.stdout.write(
                f"{gateway.api_name}: updated {len(stale)} integration(s), "
                f"deployment {deployment_id}"
            )
