"""Bring the request parameters of a gateway's existing integrations up to date, e.g.
after ``WEBSOCKETS["gateway_secret"]`` was set, rotated or removed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .create import record
from .spec import CONNECTION_ID_PARAMETER, SECRET_PARAMETER, integration_request_parameters
from .state import paged

if TYPE_CHECKING:
    from ..models import ApiGateway


def wanted_parameters(current: dict[str, str]) -> dict[str, str]:
    """The settings' mapping, keeping the other parameters the integration carries (as
    4.1.0 did)."""
    own = {CONNECTION_ID_PARAMETER, SECRET_PARAMETER}
    return {k: v for k, v in current.items() if k not in own} | integration_request_parameters()


def stale_integrations(client: Any, gateway: ApiGateway) -> dict[str, dict[str, str]]:
    """The package's integrations (those mapping the connection id) whose request
    parameters differ from the settings, by id, with the parameters they should carry."""
    stale = {}
    for item in paged(client.get_integrations, ApiId=gateway.api_id):
        current = item.get("RequestParameters") or {}
        if CONNECTION_ID_PARAMETER in current and current != wanted_parameters(current):
            stale[item["IntegrationId"]] = wanted_parameters(current)
    return stale


def update_integrations(client: Any, gateway: ApiGateway, stale: dict[str, dict[str, str]]) -> str:
    """Set the parameters on each integration and redeploy; returns the deployment id."""
    for integration_id, parameters in stale.items():
        client.update_integration(
            ApiId=gateway.api_id, IntegrationId=integration_id, RequestParameters=parameters
        )
    deployment_id = gateway.deploy_api(client)
    record(gateway, deployment_id=deployment_id)
    return deployment_id
