"""Print the least-privilege IAM policy for what the package does with one gateway."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from django_aws_api_gateway_websockets.aws import get_boto3_client
from django_aws_api_gateway_websockets.conf import get_region_name
from django_aws_api_gateway_websockets.provisioning import iam_policy
from django_aws_api_gateway_websockets.provisioning.commandline import gateway_or_error
from django_aws_api_gateway_websockets.provisioning.errors import AWS_ERRORS, describe_error


class Command(BaseCommand):
    help = (
        "Print an IAM policy (JSON) that allows exactly the AWS operations the package "
        "performs for one API Gateway record: provisioning, DNS and @connections."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--pk", type=int, required=True, help="pk of the ApiGateway row")
        parser.add_argument(
            "--account-id", default="", help="AWS account id (default: asked from STS)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        gateway = gateway_or_error(options["pk"])
        account_id = options["account_id"]
        if not account_id:
            try:
                account_id = get_boto3_client("sts").get_caller_identity()["Account"]
            except AWS_ERRORS as exc:
                raise CommandError(
                    f"Could not ask STS for the account id ({describe_error(exc)}); "
                    "pass --account-id."
                ) from exc
        if not account_id.isdigit() or len(account_id) != 12:
            raise CommandError("--account-id must be the 12-digit AWS account id.")
        policy = iam_policy(gateway, get_region_name(), account_id)
        self.stdout.write(json.dumps(policy, indent=2))
