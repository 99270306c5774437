"""Create a gateway's custom domain, API mapping and (with a hosted zone) DNS alias."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from django_aws_api_gateway_websockets.models import ApiGateway
from django_aws_api_gateway_websockets.provisioning.commandline import failed, gateway_or_error
from django_aws_api_gateway_websockets.provisioning.errors import AWS_ERRORS


class Command(BaseCommand):
    help = (
        "Create the custom domain of an API Gateway record, map it to the stage and, when "
        "hosted_zone_id is set, create the Route 53 alias record. Resumes after a failure."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--pk", type=int, required=True, help="pk of the ApiGateway row")

    def handle(self, *args: Any, **options: Any) -> None:
        gateway = gateway_or_error(options["pk"], ApiGateway)
        if not gateway.needs_custom_domain:
            raise CommandError(
                f"{gateway.api_name}: the custom domain is already created, or the API "
                f"is not deployed yet (status {gateway.effective_provisioning_status})."
            )
        try:
            gateway.create_custom_domain()  # the model's method, as 4.1.0's command
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        except AWS_ERRORS as exc:
            raise failed(gateway, exc) from exc
        dns = " and its DNS alias" if gateway.dns_record_created else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"Created {gateway.domain_name}{dns} for {gateway.api_name}; it points at "
                f"{gateway.api_gateway_domain_name}"
            )
        )
