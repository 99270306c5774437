"""Creating, syncing and describing a gateway's AWS resources.

The models' methods (``ApiGateway.create_gateway`` and friends) delegate here; models
import this package lazily, inside those methods, and the package imports its modules
(and botocore with them) when one of its names is first used, so that loading the app
imports no AWS code.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .create import ClaimError, create_gateway
    from .deferred import collect_deferred_sync_errors, run_aws_after_commit
    from .domain import create_custom_domain
    from .errors import ApiGatewaySyncError, describe_error, is_not_found
    from .iam import iam_policy
    from .plan import Plan, plan_gateway
    from .spec import DEFAULT_ROUTE_KEYS, integration_request_parameters
    from .sync import (
        SYNCED_GATEWAY_FIELDS,
        pull_gateway,
        push_gateway,
        push_route,
        remove_route,
        sync_gateway_from_aws,
        sync_gateway_to_aws,
    )

__all__ = [
    "DEFAULT_ROUTE_KEYS",
    "SYNCED_GATEWAY_FIELDS",
    "ApiGatewaySyncError",
    "ClaimError",
    "Plan",
    "collect_deferred_sync_errors",
    "create_custom_domain",
    "create_gateway",
    "describe_error",
    "iam_policy",
    "integration_request_parameters",
    "is_not_found",
    "plan_gateway",
    "pull_gateway",
    "push_gateway",
    "push_route",
    "remove_route",
    "run_aws_after_commit",
    "sync_gateway_from_aws",
    "sync_gateway_to_aws",
]

#: The module of each name above.
_MODULES = {
    "ApiGatewaySyncError": "errors",
    "ClaimError": "create",
    "DEFAULT_ROUTE_KEYS": "spec",
    "Plan": "plan",
    "SYNCED_GATEWAY_FIELDS": "sync",
    "collect_deferred_sync_errors": "deferred",
    "create_custom_domain": "domain",
    "create_gateway": "create",
    "describe_error": "errors",
    "iam_policy": "iam",
    "integration_request_parameters": "spec",
    "is_not_found": "errors",
    "plan_gateway": "plan",
    "pull_gateway": "sync",
    "push_gateway": "sync",
    "push_route": "sync",
    "remove_route": "sync",
    "run_aws_after_commit": "deferred",
    "sync_gateway_from_aws": "sync",
    "sync_gateway_to_aws": "sync",
}


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f".{module}", __name__), name)
