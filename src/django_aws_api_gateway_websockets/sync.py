"""4.1.0's module for keeping a deployed API in line with its records. The code now
lives in :mod:`.provisioning`; this module keeps 4.1.0's names at 4.1.0's path."""

from __future__ import annotations

import logging
from typing import Any

from .provisioning.errors import ApiGatewaySyncError, describe_error, is_not_found
from .provisioning.spec import DEFAULT_ROUTE_KEYS
from .provisioning.state import integration_id_of, paged
from .provisioning.sync import SYNCED_GATEWAY_FIELDS, pull_gateway, push_gateway

__all__ = [
    "API_FIELDS",
    "DEFAULT_ROUTE_KEYS",
    "SYNCED_GATEWAY_FIELDS",
    "ApiGatewaySyncError",
    "describe_error",
    "integration_id_of",
    "is_not_found",
    "list_integrations",
    "list_routes",
    "pull_gateway",
    "push_gateway",
]

logger = logging.getLogger(__name__)

#: The ``ApiGateway`` fields AWS holds on the API itself, by their AWS name.
API_FIELDS = {
    "api_name": "Name",
    "api_description": "Description",
    "api_key_selection_expression": "ApiKeySelectionExpression",
    "route_selection_expression": "RouteSelectionExpression",
}


def list_routes(client: Any, api_id: str) -> list[dict[str, Any]]:
    """Every route of the API."""
    return list(paged(client.get_routes, ApiId=api_id))


def list_integrations(client: Any, api_id: str) -> dict[str, dict[str, Any]]:
    """Every integration of the API, by integration id."""
    return {item["IntegrationId"]: item for item in paged(client.get_integrations, ApiId=api_id)}
