"""The policy shown in the IAM page is the one printIamPolicy prints for its example."""

from __future__ import annotations

import json

from django_aws_api_gateway_websockets.models import ApiGateway
from django_aws_api_gateway_websockets.provisioning import iam_policy
from tests.docs.blocks import DOCS, blocks_of


def test_iam_page_policy_matches_the_generated_one():
    [block] = [b for b in blocks_of(DOCS / "aws_iam_setup.rst") if b.language == "json"]
    gateway = ApiGateway(
        api_name="Chat",
        api_id="abc123defg",
        domain_name="ws.example.com",
        hosted_zone_id="Z0123456789ABCDEFGHIJ",
    )

    assert json.loads(block.code) == iam_policy(gateway, "eu-west-1", "123456789012")
