"""Creating, syncing and describing a gateway's AWS resources.

The models' methods (``ApiGateway.create_gateway`` and friends) delegate here; models
import this package lazily, inside those methods.
"""

from __future__ import annotations

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
