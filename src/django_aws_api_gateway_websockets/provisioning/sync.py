"""Keep AWS and the records in step after creation.

``push_gateway`` makes AWS match the records (API attributes, the default routes'
integrations, additional routes, route responses) and redeploys if anything changed.
``pull_gateway`` copies what AWS holds back into the records. As 4.1.0's ``sync``
functions, both return one sentence per change, in 4.1.0's words, and let AWS's errors
through; ``sync_gateway_to_aws`` and ``sync_gateway_from_aws`` (``ApiGateway.sync_to_aws``
and ``sync_from_aws``) also record the outcome in ``last_error``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.utils.timezone import now

from ..models import ApiGateway, ApiGatewayAdditionalRoute
from .create import deploy, ensure_stage, record
from .errors import AWS_ERRORS, ApiGatewaySyncError, describe_error
from .routes import delete_route, ensure_route
from .seams import boto3_client
from .spec import (
    DEFAULT_ROUTE_KEYS,
    additional_route_spec,
    api_attributes,
    default_route_specs,
)
from .state import ApiState, get_or_none, integration_id_of, paged, read_api_state, text_of

#: Record fields whose change is pushed to AWS when a gateway is saved.
SYNCED_GATEWAY_FIELDS = (
    "api_name",
    "api_description",
    "api_key_selection_expression",
    "route_selection_expression",
    "target_base_endpoint",
    "stage_description",
    "default_route_response",
)


def _require_deployed(gateway: ApiGateway, direction: str) -> None:
    if not gateway.is_deployed:
        raise ValueError(f"The API must be deployed before it can be synced {direction} AWS")


def _guarded(gateway: ApiGateway, work: Any) -> list[str]:
    """Run ``work``; record and re-raise failures as :class:`ApiGatewaySyncError`
    (a ``ValueError`` here is a setting or an AWS state the records cannot follow)."""
    try:
        changes = work()
    except (*AWS_ERRORS, ValueError) as exc:
        record(gateway, last_error=describe_error(exc))
        raise ApiGatewaySyncError(describe_error(exc)) from exc
    if gateway.last_error:
        record(gateway, last_error="")
    return changes


def api_differences(gateway: ApiGateway, api: dict[str, Any]) -> dict[str, str]:
    return {
        key: value for key, value in api_attributes(gateway).items() if api.get(key, "") != value
    }


def _read_existing_api(client: Any, gateway: ApiGateway) -> tuple[ApiState, dict[str, Any]]:
    """What AWS holds for the gateway's API, and the API; ``ValueError`` if it is gone."""
    state = read_api_state(client, gateway.api_id, gateway.effective_stage_name, "")
    if state.api is None:
        raise ValueError(f"The API {gateway.api_id} of {gateway.api_name} is not in AWS.")
    return state, state.api


#: Which record field sets which API attribute.
API_ATTRIBUTE_FIELDS = {
    "Name": "api_name",
    "Description": "api_description",
    "RouteSelectionExpression": "route_selection_expression",
    "ApiKeySelectionExpression": "api_key_selection_expression",
}

#: Record fields the default routes' integrations and route response are built from.
DEFAULT_ROUTE_FIELDS = {"target_base_endpoint", "default_route_response"}


def sync_gateway_to_aws(gateway: ApiGateway, client: Any = None, fields: Any = None) -> list[str]:
    """:func:`push_gateway` for a deployed gateway, its failure recorded in ``last_error``
    and raised as :class:`ApiGatewaySyncError`."""
    _require_deployed(gateway, "to")
    return _guarded(gateway, lambda: push_gateway(gateway, client, fields))


def push_gateway(gateway: ApiGateway, client: Any = None, fields: Any = None) -> list[str]:
    """Make AWS match the records. ``fields``, as in 4.1.0, names the record fields that
    changed: only what they set is pushed (a stage description only redeploys), and the
    additional routes and the stage are left alone; ``None`` pushes everything."""
    wanted = set(SYNCED_GATEWAY_FIELDS if fields is None else fields)
    if not wanted & set(SYNCED_GATEWAY_FIELDS):
        return []
    client = client or boto3_client("apigatewayv2")
    changes = []
    if fields is None or wanted & DEFAULT_ROUTE_FIELDS:
        state, api = _read_existing_api(client, gateway)
        differences = api_differences(gateway, api)
    else:  # as 4.1.0: the named API attributes are sent without reading AWS first
        state, differences = None, api_attributes(gateway)
    differences = {k: v for k, v in differences.items() if API_ATTRIBUTE_FIELDS[k] in wanted}
    if differences:
        client.update_api(ApiId=gateway.api_id, **differences)
        changes += [f"Updated the API {key}" for key in differences]
    if state is not None and wanted & DEFAULT_ROUTE_FIELDS and gateway.target_base_endpoint:
        for spec in default_route_specs(gateway):
            if "default_route_response" not in wanted:
                spec = replace(spec, route_response=None)
            changes += ensure_route(client, gateway.api_id, state, spec).changes
    if state is not None and fields is None:
        for route in gateway.additional_routes.order_by("pk"):
            changes += _push_route(client, gateway, route, state)
        if ensure_stage(client, gateway, state):
            changes.append(f"Created the {gateway.effective_stage_name} stage")
        elif stage_description_differs(client, gateway, state):
            changes.append("Updated the stage description")
    elif "stage_description" in wanted:  # as 4.1.0: a named change only redeploys
        changes.append("Updated the stage description")
    if changes:
        gateway.deploy_api(client)
        record(gateway, deployment_id=gateway.deployment_id)
        changes.append("Deployed the stage")
    return changes


def stage_description_differs(client: Any, gateway: ApiGateway, state: ApiState) -> bool:
    """Whether the deployment the stage serves was made with another stage description
    (a deployment carries it), as 4.1.0's full sync compared; the recorded deployment
    stands in when the stage does not name one."""
    deployment_id = (state.stage or {}).get("DeploymentId") or gateway.deployment_id
    if not deployment_id:
        return False
    deployment = get_or_none(
        client.get_deployment, ApiId=gateway.api_id, DeploymentId=deployment_id
    )
    return deployment is not None and deployment.get("Description", "") != gateway.stage_description


def _push_route(
    client: Any,
    gateway: ApiGateway,
    route: ApiGatewayAdditionalRoute,
    state: ApiState,
    previous_key: str = "",
) -> list[str]:
    if not previous_key and route.route_id:
        existing = state.route_by_id(route.route_id)
        previous_key = existing["RouteKey"] if existing else ""
    ids = ensure_route(client, gateway.api_id, state, additional_route_spec(route), previous_key)
    if route.pk is not None:  # an unsaved route is marked in memory only
        ApiGatewayAdditionalRoute.objects.filter(pk=route.pk).update(
            route_id=ids.route_id,
            integration_id=ids.integration_id,
            deployed=True,
            updated_on=now(),
        )
    route.route_id, route.integration_id, route.deployed = ids.route_id, ids.integration_id, True
    return ids.changes


def push_route(
    route: ApiGatewayAdditionalRoute,
    client: Any = None,
    deploy_after: bool = True,
    previous_key: str = "",
) -> list[str]:
    """Create or update one additional route in AWS (a renamed key is renamed). As in
    4.1.0 the API must exist (an ``api_id``), not yet be deployed."""
    gateway = route.api_gateway
    if not gateway.api_id:
        raise ValueError(f"{gateway.api_name} has not been created in AWS yet.")
    client = client or boto3_client("apigatewayv2")

    def work() -> list[str]:
        state = read_api_state(client, gateway.api_id, gateway.effective_stage_name, "")
        changes = _push_route(client, gateway, route, state, previous_key)
        if changes and deploy_after:
            deploy(client, gateway)
            record(gateway, deployment_id=gateway.deployment_id)
            changes.append("Deployed the stage")
        return changes

    return _guarded(gateway, work)


def remove_route(
    route: ApiGatewayAdditionalRoute, client: Any = None, deploy_after: bool = True
) -> list[str]:
    """Delete one additional route and its integration in AWS. The route is looked up
    first, by its stored id or else its key, as 4.1.0 did: one already gone is no change."""
    gateway = route.api_gateway
    if not gateway.is_deployed or not route.deployed:
        return []
    client = client or boto3_client("apigatewayv2")

    def work() -> list[str]:
        routes = list(paged(client.get_routes, ApiId=gateway.api_id))
        aws_route = next((r for r in routes if r["RouteId"] == route.route_id), None) or next(
            (r for r in routes if r["RouteKey"] == route.route_key), None
        )
        if aws_route is None:
            return []
        changes = delete_route(
            client, gateway.api_id, aws_route["RouteId"], integration_id_of(aws_route)
        )
        if changes and deploy_after:
            deploy(client, gateway)
            record(gateway, deployment_id=gateway.deployment_id)
            changes.append("Deployed the stage")
        return changes

    return _guarded(gateway, work)


def sync_gateway_from_aws(gateway: ApiGateway, client: Any = None) -> list[str]:
    """:func:`pull_gateway` for a deployed gateway, its failure recorded in ``last_error``
    and raised as :class:`ApiGatewaySyncError`."""
    _require_deployed(gateway, "from")
    return _guarded(gateway, lambda: pull_gateway(gateway, client))


def pull_gateway(gateway: ApiGateway, client: Any = None) -> list[str]:
    """Copy AWS's API attributes and routes into the records."""
    client = client or boto3_client("apigatewayv2")
    state, _ = _read_existing_api(client, gateway)
    return _pull_api(gateway, state, client) + _pull_routes(gateway, state)


def _pull_api(gateway: ApiGateway, state: ApiState, client: Any) -> list[str]:
    assert state.api is not None
    fields = {
        "api_name": state.api.get("Name", gateway.api_name),
        "api_description": state.api.get("Description", ""),
        "route_selection_expression": state.api.get("RouteSelectionExpression", ""),
        "api_key_selection_expression": state.api.get("ApiKeySelectionExpression", ""),
        "api_endpoint": state.api.get("ApiEndpoint", gateway.api_endpoint),
    }
    # The deployment the stage serves, and the stage description it was made with (4.1.0).
    deployment_id = (state.stage or {}).get("DeploymentId")
    if deployment_id:
        fields["deployment_id"] = text_of(deployment_id)
        deployment = get_or_none(
            client.get_deployment, ApiId=gateway.api_id, DeploymentId=deployment_id
        )
        if deployment is not None:
            fields["stage_description"] = deployment.get("Description", "")
    default = state.integration_for("$default")
    uri = (default or {}).get("IntegrationUri", "")
    if uri.endswith(DEFAULT_ROUTE_KEYS["$default"]):
        fields["target_base_endpoint"] = uri[: -len(DEFAULT_ROUTE_KEYS["$default"])]
    route = state.routes.get("$default")
    if route is not None:
        fields["default_route_response"] = bool(state.route_responses.get(route["RouteId"]))
    changed = {k: v for k, v in fields.items() if getattr(gateway, k) != v}
    if changed:
        record(gateway, **changed)
    return [f"Updated {name}" for name in changed]


def _pull_routes(gateway: ApiGateway, state: ApiState) -> list[str]:
    changes = []
    known: set[str] = set()
    for route in gateway.additional_routes.order_by("pk"):
        aws_route = state.route_by_id(route.route_id) if route.route_id else None
        if aws_route is None:
            aws_route = state.routes.get(route.route_key)
        if aws_route is None:
            if route.deployed or route.route_id:
                _update_route_record(route, deployed=False, route_id="", integration_id="")
                changes.append(
                    f"The {route.route_key} route is not in AWS, so it is marked as not deployed"
                )
            continue
        known.add(aws_route["RouteId"])
        integration = state.integrations.get(integration_id_of(aws_route), {})
        fields = {
            "route_key": aws_route["RouteKey"],
            "integration_url": integration.get("IntegrationUri", route.integration_url),
            "route_id": aws_route["RouteId"],
            "integration_id": integration_id_of(aws_route),
            "route_response": bool(state.route_responses.get(aws_route["RouteId"])),
            "deployed": True,
        }
        changed = {k: v for k, v in fields.items() if getattr(route, k) != v}
        if changed:
            _update_route_record(route, **changed)
            changes.append(f"Updated the {aws_route['RouteKey']} route")
    new_rows = []
    for key, aws_route in state.routes.items():
        if key in DEFAULT_ROUTE_KEYS or aws_route["RouteId"] in known:
            continue
        integration = state.integrations.get(integration_id_of(aws_route), {})
        new_rows.append(
            ApiGatewayAdditionalRoute(
                api_gateway=gateway,
                name=key[:63],
                route_key=key,
                integration_url=integration.get("IntegrationUri", ""),
                route_id=aws_route["RouteId"],
                integration_id=integration_id_of(aws_route),
                route_response=bool(state.route_responses.get(aws_route["RouteId"])),
                deployed=True,
            )
        )
        changes.append(f"Added the {key} route")
    ApiGatewayAdditionalRoute.objects.bulk_create(new_rows)
    return changes


def _update_route_record(route: ApiGatewayAdditionalRoute, **fields: Any) -> None:
    ApiGatewayAdditionalRoute.objects.filter(pk=route.pk).update(**fields)
    for name, value in fields.items():
        setattr(route, name, value)
