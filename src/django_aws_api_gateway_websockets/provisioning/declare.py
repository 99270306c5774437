"""A gateway's AWS resources as a declaration, for CloudFormation and Terraform.

Built from the same description provisioning and planning use (``spec.py``,
``routes.route_attributes``, ``iam.iam_policy``), so an exported template, a
``planApiGateway`` of a new gateway and ``createApiGateway`` name the same resources with
the same attributes. Values that only exist once AWS made something (the API id, the
domain's regional name) are references, written ``⟦LogicalId⟧`` or
``⟦LogicalId.Attribute⟧`` inside strings; each renderer turns them into its own syntax.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .domain import hosted_zone_id
from .iam import iam_policy
from .routes import route_attributes
from .spec import (
    DEFAULT_ROUTE_KEYS,
    ROUTE_RESPONSE_KEY,
    SECRET_PARAMETER,
    RouteSpec,
    additional_route_spec,
    alias_change,
    api_attributes,
    default_route_specs,
    domain_configuration,
    integration_attributes,
    tags,
)

if TYPE_CHECKING:
    from ..models import ApiGateway

#: References inside strings: ``⟦Api⟧`` (an id), ``⟦Domain.RegionalDomainName⟧``.
REFERENCE = re.compile(r"⟦([A-Za-z0-9:]+)(?:\.([A-Za-z]+))?⟧")

API = "Api"
STAGE = "Stage"
DEPLOYMENT = "Deployment"
DOMAIN = "CustomDomain"
#: The template parameter holding the gateway secret, never written into a template.
SECRET = "GatewaySecret"
REGION = "AWS::Region"
ACCOUNT = "AWS::AccountId"


def ref(logical_id: str, attribute: str = "") -> str:
    return f"⟦{logical_id}.{attribute}⟧" if attribute else f"⟦{logical_id}⟧"


Reference = tuple[str, str]  # (logical id, attribute or "")


def split_references(text: str) -> list[str | Reference]:
    """``"integrations/⟦X⟧"`` -> ``["integrations/", ("X", "")]``."""
    parts: list[str | Reference] = []
    position = 0
    for match in REFERENCE.finditer(text):
        if match.start() > position:
            parts.append(text[position : match.start()])
        parts.append((match[1], match[2] or ""))
        position = match.end()
    if position < len(text):
        parts.append(text[position:])
    return parts


@dataclass(frozen=True)
class Resource:
    """One AWS resource; ``kind`` and ``name`` are the ones ``planApiGateway`` prints."""

    kind: str
    name: str
    logical_id: str
    properties: dict[str, Any]
    depends_on: tuple[str, ...] = ()


@dataclass
class Declaration:
    resources: list[Resource] = field(default_factory=list)
    #: Whether the integrations send the gateway secret (a template parameter).
    uses_secret: bool = False

    def planned(self) -> set[tuple[str, str]]:
        """(kind, name) of what ``planApiGateway`` lists for a gateway not yet in AWS."""
        return {(r.kind, r.name) for r in self.resources if r.kind != "iam policy"}


def _route_prefix(spec: RouteSpec, taken: set[str]) -> str:
    """A logical id prefix: ``Connect`` for ``$connect``, ``Chat`` for ``chat``."""
    words = re.findall(r"[A-Za-z0-9]+", spec.key)
    base = "".join(word[:1].upper() + word[1:] for word in words)[:40] or "Route"
    if spec.key not in DEFAULT_ROUTE_KEYS and base in {"Connect", "Disconnect", "Default"}:
        base = f"Custom{base}"
    prefix, number = base, 2
    while prefix in taken:
        prefix, number = f"{base}{number}", number + 1
    taken.add(prefix)
    return prefix


def _route_resources(spec: RouteSpec, prefix: str, uses_secret: bool) -> list[Resource]:
    integration = integration_attributes(spec.uri)
    if uses_secret:
        integration["RequestParameters"][SECRET_PARAMETER] = f"'{ref(SECRET)}'"
    selection = ROUTE_RESPONSE_KEY if spec.route_response else None
    route = route_attributes(spec.key, f"integrations/{ref(prefix + 'Integration')}", selection)
    resources = [
        Resource(
            "integration", spec.key, f"{prefix}Integration", {"ApiId": ref(API)} | integration
        ),
        Resource("route", spec.key, f"{prefix}Route", {"ApiId": ref(API)} | route),
    ]
    if spec.route_response:
        response = {
            "ApiId": ref(API),
            "RouteId": ref(f"{prefix}Route"),
            "RouteResponseKey": ROUTE_RESPONSE_KEY,
        }
        resources.append(Resource("route response", spec.key, f"{prefix}RouteResponse", response))
    return resources


def declare(gateway: ApiGateway) -> Declaration:
    """Every resource ``createApiGateway`` and ``createCustomDomain`` would make."""
    declaration = Declaration(
        uses_secret=SECRET_PARAMETER in integration_attributes("")["RequestParameters"]
    )
    resources = declaration.resources
    api: dict[str, Any] = {"ProtocolType": "WEBSOCKET", "DisableSchemaValidation": True}
    api |= api_attributes(gateway)
    if tags(gateway):
        api["Tags"] = tags(gateway)
    resources.append(Resource("api", gateway.api_name, API, api))
    taken: set[str] = set()
    routes = [*default_route_specs(gateway)]
    routes += [additional_route_spec(route) for route in gateway.additional_routes.order_by("pk")]
    for spec in routes:
        resources += _route_resources(spec, _route_prefix(spec, taken), declaration.uses_secret)
    stage_name = gateway.effective_stage_name
    resources.append(
        Resource(
            "deployment",
            stage_name,
            DEPLOYMENT,
            {"ApiId": ref(API), "Description": gateway.stage_description},
            depends_on=tuple(r.logical_id for r in resources if r.kind.startswith("route")),
        )
    )
    stage: dict[str, Any] = {
        "ApiId": ref(API),
        "StageName": stage_name,
        "Description": gateway.stage_description,
        "DeploymentId": ref(DEPLOYMENT),
    }
    if tags(gateway):
        stage["Tags"] = tags(gateway)
    resources.append(Resource("stage", stage_name, STAGE, stage))
    if gateway.domain_name and gateway.certificate_arn:
        resources += _domain_resources(gateway)
    resources.append(_policy(gateway))
    return declaration


def _domain_resources(gateway: ApiGateway) -> list[Resource]:
    domain: dict[str, Any] = {
        "DomainName": gateway.domain_name,
        "DomainNameConfigurations": [domain_configuration(gateway)],
    }
    if tags(gateway):
        domain["Tags"] = tags(gateway)
    mapping = {"ApiId": ref(API), "DomainName": ref(DOMAIN), "Stage": ref(STAGE)}
    resources = [
        Resource("domain", gateway.domain_name, DOMAIN, domain),
        Resource("api mapping", gateway.domain_name, "ApiMapping", mapping),
    ]
    zone = hosted_zone_id(gateway)
    if zone:
        change = alias_change(
            gateway, ref(DOMAIN, "RegionalDomainName"), ref(DOMAIN, "RegionalHostedZoneId")
        )
        record = {"HostedZoneId": zone} | change["Changes"][0]["ResourceRecordSet"]
        resources.append(Resource("route53 alias", gateway.domain_name, "AliasRecord", record))
    return resources


def _policy(gateway: ApiGateway) -> Resource:
    """The least-privilege policy, with the API's id, region and account as references."""
    template = copy.copy(gateway)
    template.api_id = ref(API)
    document = iam_policy(template, ref(REGION), ref(ACCOUNT))
    properties = {
        "Description": f"What django-aws-api-gateway-websockets does with {gateway.api_name}",
        "PolicyDocument": document,
    }
    return Resource("iam policy", gateway.api_name, "Policy", properties)
