"""Show what creating or syncing a gateway would change in AWS, changing nothing."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from django_aws_api_gateway_websockets.provisioning.commandline import gateway_or_error
from django_aws_api_gateway_websockets.provisioning.errors import AWS_ERRORS, describe_error
from django_aws_api_gateway_websockets.provisioning.plan import plan_gateway


class Command(BaseCommand):
    help = (
        "Read AWS and list what createApiGateway / Sync to AWS / createCustomDomain would "
        "create (+), change (~) or delete (-), and where the records and AWS disagree."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--pk", type=int, required=True, help="pk of the ApiGateway row")

    def handle(self, *args: Any, **options: Any) -> None:
        gateway = gateway_or_error(options["pk"])
        try:
            plan = plan_gateway(gateway)
        except (*AWS_ERRORS, ValueError) as exc:
            raise CommandError(f"{gateway.api_name}: {describe_error(exc)}") from exc
        self.stdout.write(f"Plan for {gateway.api_name} ({gateway.api_id or 'not created'}):")
        self.stdout.write("\n".join(plan.lines()))
