"""What creating or syncing a gateway would change in AWS, and where the records and AWS
disagree (drift). The comparison is plain code over states read beforehand."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .domain import hosted_zone_id
from .seams import boto3_client
from .spec import (
    RouteSpec,
    additional_route_spec,
    default_route_specs,
    integration_differences,
    owner_tag_value,
)
from .state import (
    ApiState,
    DomainState,
    find_owned_api,
    read_api_state,
    read_domain_state,
    regional_target,
)
from .sync import api_differences

if TYPE_CHECKING:
    from ..models import ApiGateway, ApiGatewayAdditionalRoute

CREATE, UPDATE, DELETE = "+", "~", "-"


@dataclass(frozen=True)
class Change:
    action: str  # CREATE, UPDATE or DELETE
    resource: str  # "api", "route", "integration", "stage", "domain", ...
    name: str
    detail: str = ""

    def __str__(self) -> str:
        detail = f" ({self.detail})" if self.detail else ""
        return f"{self.action} {self.resource} {self.name}{detail}"


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        lines = [str(change) for change in self.changes] or ["No changes."]
        if self.drift:
            lines += ["", "Drift between the records and AWS:"]
            lines += [f"  {item}" for item in self.drift]
        return lines


def plan_routes(
    state: ApiState, specs: Iterable[RouteSpec], renames: dict[str, str]
) -> list[Change]:
    """Route, integration and route response changes; ``renames`` maps new key -> old."""
    changes = []
    for spec in specs:
        route = state.routes.get(spec.key) or state.routes.get(renames.get(spec.key, ""))
        if route is None:
            if state.orphan_integration(spec.uri) is None:
                changes.append(Change(CREATE, "integration", spec.key, spec.uri))
            else:
                changes.append(Change(UPDATE, "integration", spec.key, "reuse unattached"))
            changes.append(Change(CREATE, "route", spec.key))
            if spec.route_response:
                changes.append(Change(CREATE, "route response", spec.key))
            continue
        if route["RouteKey"] != spec.key:
            changes.append(Change(UPDATE, "route", spec.key, f"rename from {route['RouteKey']}"))
        integration = state.integration_for(route["RouteKey"])
        if integration is None:
            changes.append(Change(CREATE, "integration", spec.key, spec.uri))
            changes.append(Change(UPDATE, "route", spec.key, "new target"))
        else:
            differences = integration_differences(spec.uri, integration)
            if differences:
                changes.append(Change(UPDATE, "integration", spec.key, ", ".join(differences)))
        has_response = bool(state.route_responses.get(route["RouteId"]))
        if spec.route_response and not has_response:
            changes.append(Change(CREATE, "route response", spec.key))
        elif has_response and not spec.route_response:
            changes.append(Change(DELETE, "route response", spec.key))
    return changes


def plan_api(gateway: ApiGateway, routes: list[ApiGatewayAdditionalRoute], state: ApiState) -> Plan:
    plan = Plan()
    stage = gateway.effective_stage_name
    if state.api is None:
        if gateway.api_id:
            plan.drift.append(f"API {gateway.api_id} is recorded but not in AWS")
        plan.changes.append(Change(CREATE, "api", gateway.api_name, "WEBSOCKET"))
    else:
        differences = api_differences(gateway, state.api)
        if differences:
            plan.changes.append(Change(UPDATE, "api", gateway.api_name, ", ".join(differences)))
    renames = {}
    for route in routes:
        aws_route = state.route_by_id(route.route_id) if route.route_id else None
        if aws_route is not None and aws_route["RouteKey"] != route.route_key:
            renames[route.route_key] = aws_route["RouteKey"]
        if route.deployed and aws_route is None and state.api is not None:
            plan.drift.append(f"route {route.route_key} is recorded as deployed but not in AWS")
    specs = [*default_route_specs(gateway), *(additional_route_spec(r) for r in routes)]
    plan.changes += plan_routes(state, specs, renames)
    wanted = {spec.key for spec in specs} | set(renames.values())
    for key in sorted(set(state.routes) - wanted):
        plan.drift.append(f"route {key} is in AWS only (Sync from AWS imports it)")
    if state.stage is None:
        plan.changes.append(Change(CREATE, "stage", stage))
    if gateway.deployment_id and state.api is not None and state.deployment is None:
        plan.drift.append(f"deployment {gateway.deployment_id} is recorded but not in AWS")
    if plan.changes or not gateway.deployment_id:
        plan.changes.append(Change(CREATE, "deployment", stage))
    return plan


def plan_domain(gateway: ApiGateway, state: DomainState) -> Plan:
    plan = Plan()
    if not gateway.domain_name or not gateway.certificate_arn:
        return plan
    if state.domain is None:
        if gateway.custom_domain_created:
            plan.drift.append(f"domain {gateway.domain_name} is recorded but not in AWS")
        plan.changes.append(Change(CREATE, "domain", gateway.domain_name, "REGIONAL, TLS_1_2"))
    stage = gateway.effective_stage_name
    root = [m for m in state.mappings if not m.get("ApiMappingKey")]
    ours = [m for m in root if m.get("ApiId") == gateway.api_id]
    if not ours:
        plan.changes.append(Change(CREATE, "api mapping", gateway.domain_name, stage))
    plan.drift += [
        f"domain {gateway.domain_name} is mapped to API {m.get('ApiId')} stage "
        f"{m.get('Stage')}, the records say API {gateway.api_id or '(not created)'} stage {stage}"
        for m in root
        if m.get("ApiId") != gateway.api_id or m.get("Stage") != stage
    ]
    zone = hosted_zone_id(gateway)
    if zone:
        target = regional_target(state.domain)[0] if state.domain else ""
        alias = (state.dns_record or {}).get("AliasTarget", {})
        if state.dns_record is None or (target and alias.get("DNSName", "").rstrip(".") != target):
            plan.changes.append(
                Change(CREATE, "route53 alias", gateway.domain_name, f"A record in zone {zone}")
            )
            if gateway.dns_record_created:
                plan.drift.append(f"the alias record of {gateway.domain_name} is not as created")
    return plan


def plan_gateway(gateway: ApiGateway, client: Any = None, route53: Any = None) -> Plan:
    """Read AWS (changing nothing) and compare it with the records."""
    client = client or boto3_client("apigatewayv2")
    routes = list(gateway.additional_routes.order_by("pk"))
    api_id, drift = gateway.api_id, []
    if not api_id:
        owned = find_owned_api(client, owner_tag_value(gateway))
        if owned is not None:
            api_id = owned["ApiId"]
            drift.append(
                f"API {api_id} was created for this gateway but its id was not saved "
                "(createApiGateway adopts it)"
            )
    state = read_api_state(client, api_id, gateway.effective_stage_name, gateway.deployment_id)
    plan = plan_api(gateway, routes, state)
    plan.drift[:0] = drift
    if gateway.domain_name and gateway.certificate_arn:
        zone = hosted_zone_id(gateway)
        if zone and route53 is None:
            route53 = boto3_client("route53")
        domain_plan = plan_domain(
            gateway, read_domain_state(client, route53, gateway.domain_name, zone)
        )
        plan.changes += domain_plan.changes
        plan.drift += domain_plan.drift
    return plan
