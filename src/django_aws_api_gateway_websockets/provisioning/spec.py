"""What AWS should hold for a gateway, derived from its records. Plain code, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..conf import (
    GATEWAY_SECRET_HEADER,
    GATEWAY_SECRET_PATTERN,
    get_gateway_secrets,
    newline_hint,
)

if TYPE_CHECKING:
    from ..models import ApiGateway, ApiGatewayAdditionalRoute

#: The routes every gateway has, and the slug of the Django URL each one calls.
DEFAULT_ROUTE_KEYS = {"$connect": "connect", "$disconnect": "disconnect", "$default": "default"}

CONNECTION_ID_PARAMETER = "integration.request.header.connectionId"
SECRET_PARAMETER = f"integration.request.header.{GATEWAY_SECRET_HEADER}"

#: The only route response key WebSocket APIs accept.
ROUTE_RESPONSE_KEY = "$default"


def integration_request_parameters() -> dict[str, str]:
    """The mapping every integration carries: the connection id, and the secret if set.

    ``ValueError`` when the configured secret could not travel as a mapping literal.
    """
    parameters = {CONNECTION_ID_PARAMETER: "context.connectionId"}
    secrets = get_gateway_secrets()
    if secrets:
        if not GATEWAY_SECRET_PATTERN.fullmatch(secrets[0]):
            raise ValueError(
                "WEBSOCKETS['gateway_secret'] must be 32 or more of A-Z a-z 0-9 . _ ~ + / = -"
                + newline_hint(secrets[0])
            )
        parameters[SECRET_PARAMETER] = f"'{secrets[0]}'"
    return parameters


@dataclass(frozen=True)
class RouteSpec:
    """One route as AWS should have it."""

    key: str
    uri: str
    route_response: bool | None  # None: leave the route's response as AWS has it


def default_route_specs(gateway: ApiGateway) -> list[RouteSpec]:
    base = base_endpoint(gateway)
    return [
        RouteSpec(key, base + slug, key == "$default" and gateway.default_route_response)
        for key, slug in DEFAULT_ROUTE_KEYS.items()
    ]


def additional_route_spec(route: ApiGatewayAdditionalRoute) -> RouteSpec:
    return RouteSpec(route.route_key, route.integration_url, route.route_response)


def base_endpoint(gateway: ApiGateway) -> str:
    """The target base URL with exactly one trailing slash."""
    if not gateway.target_base_endpoint:
        raise ValueError(f"{gateway.api_name} has no target_base_endpoint.")
    return gateway.target_base_endpoint.rstrip("/") + "/"


def api_attributes(gateway: ApiGateway) -> dict[str, str]:
    """The API's settable attributes (no quick-create RouteKey/Target: HTTP APIs only)."""
    return {
        "Name": gateway.api_name,
        "Description": gateway.api_description,
        "RouteSelectionExpression": gateway.route_selection_expression,
        "ApiKeySelectionExpression": gateway.api_key_selection_expression,
    }


def tags(gateway: ApiGateway) -> dict[str, str]:
    return {str(key): str(value) for key, value in (gateway.tags or {}).items()}


#: The tag on every API the package creates, naming the row it was created for, so that a
#: run that died after AWS made the API but before its id was saved finds it again.
OWNER_TAG = "django-aws-api-gateway-websockets:gateway"


def owner_tag_value(gateway: ApiGateway) -> str:
    """The row's pk and creation time: another database's row with the same pk differs."""
    return f"{gateway.pk}/{gateway.created_on:%Y%m%dT%H%M%S.%f}"


def integration_attributes(uri: str) -> dict[str, Any]:
    """An HTTP_PROXY integration that calls ``uri`` with the request parameters."""
    return {
        "ConnectionType": "INTERNET",
        "IntegrationMethod": "POST",
        "IntegrationType": "HTTP_PROXY",
        "IntegrationUri": uri,
        "PassthroughBehavior": "WHEN_NO_MATCH",
        "PayloadFormatVersion": "1.0",
        "RequestParameters": integration_request_parameters(),
        "TimeoutInMillis": 29000,
    }


def integration_differences(spec_uri: str, actual: dict[str, Any]) -> list[str]:
    """Which integration attributes differ from what the records ask for. An answer that
    leaves out the type or the request parameters is not taken to differ in them, as
    4.1.0 compared the URI alone."""
    wanted = integration_attributes(spec_uri)
    differences = []
    if actual.get("IntegrationUri") != spec_uri:
        differences.append(f"uri {actual.get('IntegrationUri')} -> {spec_uri}")
    if "RequestParameters" in actual and (
        (actual["RequestParameters"] or {}) != wanted["RequestParameters"]
    ):
        differences.append("request parameters")
    if "IntegrationType" in actual and actual["IntegrationType"] != "HTTP_PROXY":
        differences.append(f"type {actual.get('IntegrationType')} -> HTTP_PROXY")
    return differences


def integration_update(spec_uri: str, actual: dict[str, Any]) -> dict[str, Any]:
    """What an ``UpdateIntegration`` sends to bring ``actual`` in line: the URI alone when
    only it differs (4.1.0's call), else every attribute; nothing when nothing differs."""
    differences = integration_differences(spec_uri, actual)
    if differences and len(differences) == 1 and actual.get("IntegrationUri") != spec_uri:
        return {"IntegrationUri": spec_uri}
    return integration_attributes(spec_uri) if differences else {}


def domain_configuration(gateway: ApiGateway) -> dict[str, str]:
    """The input fields of a regional domain; AWS fills in the output ones."""
    return {
        "CertificateArn": gateway.certificate_arn,
        "EndpointType": "REGIONAL",
        "SecurityPolicy": "TLS_1_2",
    }


def alias_change(gateway: ApiGateway, target_name: str, target_zone: str) -> dict[str, Any]:
    """A Route 53 UPSERT of the domain's alias to API Gateway's regional name."""
    return {
        "Comment": f"WebSocket custom domain of {gateway.api_name}",
        "Changes": [
            {
                "Action": "UPSERT",
                "ResourceRecordSet": {
                    "Name": gateway.domain_name,
                    "Type": "A",
                    "AliasTarget": {
                        "DNSName": target_name,
                        "HostedZoneId": target_zone,
                        "EvaluateTargetHealth": False,
                    },
                },
            }
        ],
    }
