"""The least-privilege IAM policy for what the package does with one gateway.

Each statement names the operations the package performs and the resources of this
gateway only: its API, its custom domain, its hosted zone and its stage's
``@connections``. Before the API exists its id is unknown, so the API statement then
covers ``/apis/*``; print the policy again after creation to narrow it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .domain import hosted_zone_id

if TYPE_CHECKING:
    from ..models import ApiGateway

#: The ``@connections`` methods the package calls: it only posts messages. (GET reads a
#: connection's state and DELETE closes it; grant them if your own code calls them.)
CONNECTION_METHODS = ("POST",)


def iam_policy(gateway: ApiGateway, region: str, account_id: str) -> dict[str, Any]:
    apigw = f"arn:aws:apigateway:{region}::"
    api = f"{apigw}/apis/{gateway.api_id}" if gateway.api_id else f"{apigw}/apis/*"
    statements: list[dict[str, Any]] = [
        {
            "Sid": "CreateWebSocketApi",
            "Effect": "Allow",
            # GET lists the APIs, to find one an interrupted run created (owner tag).
            "Action": ["apigateway:GET", "apigateway:POST"],
            "Resource": [f"{apigw}/apis", f"{apigw}/tags/*"],
        },
        {
            "Sid": "ManageWebSocketApi",
            "Effect": "Allow",
            "Action": [
                "apigateway:GET",
                "apigateway:POST",
                "apigateway:PATCH",
                "apigateway:DELETE",
            ],
            "Resource": sorted({api, f"{api}/*"}),
        },
    ]
    if gateway.domain_name:
        domain = f"{apigw}/domainnames/{gateway.domain_name}"
        statements += [
            {
                "Sid": "ManageCustomDomain",
                "Effect": "Allow",
                "Action": ["apigateway:GET", "apigateway:POST"],
                "Resource": [f"{apigw}/domainnames", domain, f"{domain}/*"],
            },
            {
                "Sid": "ApiGatewayServiceLinkedRole",
                "Effect": "Allow",
                "Action": ["iam:CreateServiceLinkedRole"],
                "Resource": (
                    f"arn:aws:iam::{account_id}:role/aws-service-role/"
                    "ops.apigateway.amazonaws.com/AWSServiceRoleForAPIGateway"
                ),
                "Condition": {
                    "StringEquals": {"iam:AWSServiceName": "ops.apigateway.amazonaws.com"}
                },
            },
        ]
    zone = hosted_zone_id(gateway)
    if zone:
        statements.append(
            {
                "Sid": "CustomDomainAliasRecord",
                "Effect": "Allow",
                "Action": ["route53:ChangeResourceRecordSets", "route53:ListResourceRecordSets"],
                "Resource": f"arn:aws:route53:::hostedzone/{zone}",
            }
        )
    connections = (
        f"arn:aws:execute-api:{region}:{account_id}:{gateway.api_id or '*'}/"
        f"{gateway.effective_stage_name}"
    )
    statements.append(
        {
            "Sid": "ManageConnections",
            "Effect": "Allow",
            "Action": ["execute-api:ManageConnections"],
            "Resource": [f"{connections}/{method}/@connections/*" for method in CONNECTION_METHODS],
        }
    )
    return {"Version": "2012-10-17", "Statement": statements}
