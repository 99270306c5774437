"""Bring the request parameters of a gateway's existing integrations up to date, e.g.
after ``WEBSOCKETS["gateway_secret"]`` was set, rotated or removed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .create import record
from .spec import CONNECTION_ID_PARAMETER, integration_request_parameters
from .state import paged

if TYPE_CHECKING:
    from ..models import ApiGateway


def stale_integrations(client: Any, gateway: ApiGateway) -> list[str]:
    """Ids of the package's integrations (those mapping the connection id) whose
    request parameters differ from the settings."""
    wanted = integration_request_parameters()
    return [
        item["IntegrationId"]
        for item in paged(client.get_integrations, ApiId=gateway.api_id)
        if CONNECTION_ID_PARAMETER in (item.get("RequestParameters") or {})
        and item["RequestParameters"] != wanted
    ]


def update_integrations(client: Any, gateway: ApiGateway, integration_ids: list[str]) -> str:
    """Set the parameters on each integration and redeploy; returns the deployment id."""
    wanted = integration_request_parameters()
    for integration_id in integration_ids:
        client.update_integration(
            ApiId=gateway.api_id, IntegrationId=integration_id, RequestParameters=wanted
        )
    deployment_id = gateway.deploy_api(client)
    record(gateway, deployment_id=deployment_id)
    return deployment_id
