"""Read what AWS holds for a gateway (the I/O side of planning and syncing)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .errors import is_not_found
from .spec import OWNER_TAG


def paged(call: Callable[..., dict[str, Any]], **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Every item of an apigatewayv2 list call, following ``NextToken``."""
    while True:
        page = call(MaxResults="100", **kwargs)
        yield from page.get("Items", [])
        token = page.get("NextToken")
        if not token or not isinstance(token, str):  # a malformed page ends the listing
            return
        kwargs["NextToken"] = token


def text_of(value: Any) -> str:
    """A value read from an AWS answer as the text a record stores. boto3 gives ``str``;
    a stand-in client's answer may not, and 4.1.0 stored whatever it got as text."""
    return value if isinstance(value, str) else str(value)


def integration_id_of(route: dict[str, Any]) -> str:
    """The integration a route targets (``integrations/<id>``), or ``""``."""
    target = route.get("Target") or ""
    return target.split("/", 1)[1] if target.startswith("integrations/") else ""


def get_or_none(call: Callable[..., dict[str, Any]], **kwargs: Any) -> dict[str, Any] | None:
    try:
        return call(**kwargs)
    except Exception as exc:
        if is_not_found(exc):
            return None
        raise


@dataclass
class ApiState:
    """An API as AWS has it; ``api`` is ``None`` when the API does not exist."""

    api: dict[str, Any] | None
    routes: dict[str, dict[str, Any]] = field(default_factory=dict)  # by route key
    integrations: dict[str, dict[str, Any]] = field(default_factory=dict)  # by id
    route_responses: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by route id
    stage: dict[str, Any] | None = None
    deployment: dict[str, Any] | None = None

    def integration_for(self, route_key: str) -> dict[str, Any] | None:
        route = self.routes.get(route_key)
        return self.integrations.get(integration_id_of(route)) if route else None

    def route_by_id(self, route_id: str) -> dict[str, Any] | None:
        return next((r for r in self.routes.values() if r.get("RouteId") == route_id), None)

    def orphan_integration(self, uri: str) -> dict[str, Any] | None:
        """An integration for ``uri`` that no route uses (left by an interrupted run)."""
        used = {integration_id_of(route) for route in self.routes.values()}
        for integration_id, integration in self.integrations.items():
            if integration_id not in used and integration.get("IntegrationUri") == uri:
                return integration
        return None


def find_owned_api(client: Any, owner: str) -> dict[str, Any] | None:
    """The WebSocket API whose owner tag (``spec.OWNER_TAG``) is ``owner``, if any."""
    for api in paged(client.get_apis):
        owned = (api.get("Tags") or {}).get(OWNER_TAG) == owner
        if owned and api.get("ProtocolType") == "WEBSOCKET":
            return api
    return None


def read_api_state(client: Any, api_id: str, stage_name: str, deployment_id: str) -> ApiState:
    if not api_id:
        return ApiState(api=None)
    api = get_or_none(client.get_api, ApiId=api_id)
    if api is None:
        return ApiState(api=None)
    state = ApiState(api=api)
    state.routes = {route["RouteKey"]: route for route in paged(client.get_routes, ApiId=api_id)}
    state.integrations = {
        item["IntegrationId"]: item for item in paged(client.get_integrations, ApiId=api_id)
    }
    for route in state.routes.values():
        if route.get("RouteResponseSelectionExpression"):
            state.route_responses[route["RouteId"]] = list(
                paged(client.get_route_responses, ApiId=api_id, RouteId=route["RouteId"])
            )
    state.stage = get_or_none(client.get_stage, ApiId=api_id, StageName=stage_name)
    if deployment_id:
        state.deployment = get_or_none(
            client.get_deployment, ApiId=api_id, DeploymentId=deployment_id
        )
    return state


@dataclass
class DomainState:
    domain: dict[str, Any] | None
    mappings: list[dict[str, Any]] = field(default_factory=list)
    dns_record: dict[str, Any] | None = None


def regional_target(domain: dict[str, Any]) -> tuple[str, str]:
    """API Gateway's regional domain name and the hosted zone it lives in."""
    configuration = (domain.get("DomainNameConfigurations") or [{}])[0]
    return configuration.get("ApiGatewayDomainName", ""), configuration.get("HostedZoneId", "")


def read_domain_state(client: Any, route53: Any, domain_name: str, zone_id: str) -> DomainState:
    domain = get_or_none(client.get_domain_name, DomainName=domain_name)
    if domain is None:
        return DomainState(domain=None)
    state = DomainState(domain=domain)
    state.mappings = list(paged(client.get_api_mappings, DomainName=domain_name))
    if zone_id and route53 is not None:
        state.dns_record = find_alias_record(route53, zone_id, domain_name)
    return state


def find_alias_record(route53: Any, zone_id: str, name: str) -> dict[str, Any] | None:
    wanted = name.rstrip(".").lower() + "."
    page = route53.list_resource_record_sets(
        HostedZoneId=zone_id, StartRecordName=wanted, StartRecordType="A", MaxItems="1"
    )
    for record in page.get("ResourceRecordSets", []):
        if record["Name"].lower() == wanted and record["Type"] == "A":
            return record
    return None
