"""Create a gateway's WebSocket API in AWS, or finish a creation that failed part way."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from django_aws_api_gateway_websockets.models import ApiGateway
from django_aws_api_gateway_websockets.provisioning import ClaimError
from django_aws_api_gateway_websockets.provisioning.commandline import failed, gateway_or_error
from django_aws_api_gateway_websockets.provisioning.errors import AWS_ERRORS
from django_aws_api_gateway_websockets.provisioning.plan import plan_gateway


class Command(BaseCommand):
    help = (
        "Create the API, integrations, routes, stage and deployment of an API Gateway "
        "record in AWS. A run that failed part way is continued from where it stopped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--pk", type=int, required=True, help="pk of the ApiGateway row")
        parser.add_argument(
            "--plan", action="store_true", help="only show what would change in AWS"
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="take over a 'creating' claim left by a run that died",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        gateway = gateway_or_error(options["pk"], ApiGateway)
        if options["plan"]:
            self.stdout.write("\n".join(plan_gateway(gateway).lines()))
            return
        if not gateway.needs_api_creation:
            raise CommandError(f"{gateway.api_name} is already created")
        try:
            # The model's method, called as 4.1.0's command called it.
            gateway.create_gateway(force=True) if options["force"] else gateway.create_gateway()
        except ClaimError as exc:
            raise CommandError(str(exc)) from exc
        except (*AWS_ERRORS, ValueError) as exc:
            raise failed(gateway, exc) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Created {gateway.api_name}: API {gateway.api_id}, stage "
                f"{gateway.effective_stage_name}, deployment {gateway.deployment_id}"
            )
        )
