"""Create, change and delete one route and its integration in AWS.

Every function reads the current :class:`~.state.ApiState` and changes only what
differs, so running them again after a failure part way finishes the job: an
integration left without a route by a failed ``create_route`` is found by its URI and
reused instead of being duplicated. Each change is reported in 4.1.0's words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import is_not_found
from .spec import (
    DEFAULT_ROUTE_KEYS,
    ROUTE_RESPONSE_KEY,
    RouteSpec,
    integration_attributes,
    integration_differences,
    integration_update,
)
from .state import ApiState, integration_id_of


@dataclass
class RouteIds:
    route_id: str
    integration_id: str
    changes: list[str]


def ensure_route(
    client: Any, api_id: str, state: ApiState, spec: RouteSpec, previous_key: str = ""
) -> RouteIds:
    """Make the route ``spec.key`` exist as specified (renaming ``previous_key`` if given)."""
    changes: list[str] = []
    route = state.routes.get(spec.key)
    if route is None and previous_key and previous_key in state.routes:
        client.update_route(
            ApiId=api_id, RouteId=state.routes[previous_key]["RouteId"], RouteKey=spec.key
        )
        route = state.routes[spec.key] = state.routes.pop(previous_key) | {"RouteKey": spec.key}
        changes.append(f"Renamed the {previous_key} route")
    if route is not None and not route.get("RouteId"):
        # A listing that names a route without its id leaves nothing to change it by
        # (a stand-in client's answer): it is taken as it is, as 4.1.0 took every
        # existing route.
        return RouteIds("", "", changes)
    integration_id = integration_id_of(route) if route else ""
    integration = state.integrations.get(integration_id) if integration_id else None
    if integration is None and integration_id:
        # AWS keeps a route's target; a listing that leaves it out does not make it gone
        # (4.1.0 updated it by the route's id), so it is updated, never duplicated.
        integration = state.integrations[integration_id] = {"IntegrationId": integration_id}
    if integration is None:
        integration = state.orphan_integration(spec.uri)
        if integration is None:
            created = client.create_integration(ApiId=api_id, **integration_attributes(spec.uri))
            # What was sent is what AWS now holds (a stand-in's answer may leave it out).
            integration = integration_attributes(spec.uri) | {
                "IntegrationId": created["IntegrationId"]
            }
        state.integrations[integration["IntegrationId"]] = integration
    differences = integration_differences(spec.uri, integration)
    if differences:
        update = integration_update(spec.uri, integration)
        client.update_integration(
            ApiId=api_id, IntegrationId=integration["IntegrationId"], **update
        )
        # What was sent is what AWS now holds; the answer is not needed.
        integration = state.integrations[integration["IntegrationId"]] = integration | update
        changes += _integration_changes(spec, differences)
    target = f"integrations/{integration['IntegrationId']}"
    selection = ROUTE_RESPONSE_KEY if spec.route_response else None
    if route is None:
        route = client.create_route(ApiId=api_id, **route_attributes(spec.key, target, selection))
        state.routes[spec.key] = route
        changes.append(f"Created the {spec.key} route")
    elif route.get("Target") != target or (
        spec.route_response and route.get("RouteResponseSelectionExpression") != selection
    ):
        attributes = route_attributes(spec.key, target, selection)
        client.update_route(ApiId=api_id, RouteId=route["RouteId"], **attributes)
        state.routes[spec.key] = state.routes[spec.key] | attributes
        moved = route.get("Target") != target
        changes.append(_pointed(spec) if moved else f"Updated the {spec.key} route")
    changes += _ensure_route_response(client, api_id, state, state.routes[spec.key], spec)
    return RouteIds(
        _stored_id(state.routes[spec.key]["RouteId"]),
        _stored_id(integration["IntegrationId"]),
        changes,
    )


def _stored_id(value: Any) -> str:
    """An id as a record keeps it: AWS's text; anything else (a stand-in client's answer)
    is not stored, as 4.1.0 did not."""
    return value if isinstance(value, str) else ""


def _pointed(spec: RouteSpec) -> str:
    """4.1.0's words for a route now served at ``spec.uri``."""
    if spec.key in DEFAULT_ROUTE_KEYS:
        return f"Pointed the {spec.key} route at {spec.uri}"
    return f"Pointed the {spec.key} route at its new URL"


def _integration_changes(spec: RouteSpec, differences: list[str]) -> list[str]:
    others = [d for d in differences if not d.startswith("uri ")]
    changes = [_pointed(spec)] if len(others) < len(differences) else []
    if others:
        changes.append(f"Updated the {spec.key} integration: {', '.join(others)}")
    return changes


def route_attributes(key: str, target: str, selection: str | None) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "ApiKeyRequired": False,
        "AuthorizationType": "NONE",
        "RouteKey": key,
        "Target": target,
    }
    if selection:
        attributes["RouteResponseSelectionExpression"] = selection
    return attributes


def _ensure_route_response(
    client: Any, api_id: str, state: ApiState, route: dict[str, Any], spec: RouteSpec
) -> list[str]:
    """A ``$default`` route response exists exactly when the records ask for one."""
    if spec.route_response is None:
        return []
    route_id = route["RouteId"]
    responses = state.route_responses.get(route_id, [])
    if spec.route_response and not responses:
        created = client.create_route_response(
            ApiId=api_id, RouteId=route_id, RouteResponseKey=ROUTE_RESPONSE_KEY
        )
        state.route_responses[route_id] = [created]
        return [f"Created the {spec.key} route response"]
    if not spec.route_response and responses:
        for response in responses:
            client.delete_route_response(
                ApiId=api_id, RouteId=route_id, RouteResponseId=response["RouteResponseId"]
            )
        state.route_responses[route_id] = []
        return [f"Deleted the {spec.key} route response"]
    return []


def delete_route(client: Any, api_id: str, route_id: str, integration_id: str) -> list[str]:
    """Delete a route and its integration; either being gone already is fine."""
    changes = []
    for call, kwargs, what in (
        (client.delete_route, {"RouteId": route_id}, "route"),
        (client.delete_integration, {"IntegrationId": integration_id}, "integration"),
    ):
        if not next(iter(kwargs.values())):
            continue
        try:
            call(ApiId=api_id, **kwargs)
            changes.append(f"deleted {what} {next(iter(kwargs.values()))}")
        except Exception as exc:
            if not is_not_found(exc):
                raise
    return changes
