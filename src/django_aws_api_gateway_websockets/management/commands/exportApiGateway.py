"""Write a gateway's AWS resources as a CloudFormation template or Terraform."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from django_aws_api_gateway_websockets.provisioning import cloudformation, terraform
from django_aws_api_gateway_websockets.provisioning.commandline import gateway_or_error
from django_aws_api_gateway_websockets.provisioning.declare import declare

RENDERERS = {"cloudformation": cloudformation.render, "terraform": terraform.render}


class Command(BaseCommand):
    help = (
        "Write the API, routes, integrations, stage, deployment, custom domain, API mapping, "
        "Route 53 alias and IAM policy of one gateway as CloudFormation (JSON) or "
        "Terraform (HCL), from the description createApiGateway and planApiGateway use."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--api-gateway", type=int, required=True, help="pk of the ApiGateway row"
        )
        parser.add_argument("--format", choices=sorted(RENDERERS), required=True)
        parser.add_argument("--output", default="", help="file to write (default: stdout)")

    def handle(self, *args: Any, **options: Any) -> None:
        gateway = gateway_or_error(options["api_gateway"])
        try:
            declaration = declare(gateway)
        except ValueError as exc:
            raise CommandError(f"{gateway.api_name}: {exc}") from exc
        text = RENDERERS[options["format"]](
            declaration, f"WebSocket API {gateway.api_name} (django-aws-api-gateway-websockets)"
        )
        if not options["output"]:
            self.stdout.write(text, ending="")
            return
        try:
            Path(options["output"]).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"Cannot write {options['output']}: {exc}") from exc
        self.stdout.write(f"Wrote {options['output']}.")
