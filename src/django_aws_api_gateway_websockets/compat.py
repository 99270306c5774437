"""Names of the original package (4.1.0) whose code now lives elsewhere.

A project written for 4.1.0 imports them from 4.1.0's module paths; each of those
modules resolves them here, on first use (module ``__getattr__``), so that loading a
model row imports nothing from AWS. The module :mod:`.sync` re-exports the rest.
Only names a project may use are here; 4.1.0's private helpers are not
(docs/upgrading_from_original.rst lists what changed).
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

# 4.1.0's tuning constants of ``models``. Sending is now configured by the
# ``send_*`` settings and provisioning by ``aws.default_config``; these keep their
# 4.1.0 values for code that reads them.
BROADCAST_MAX_WORKERS = 10
BROADCAST_CONNECT_TIMEOUT = 5
BROADCAST_READ_TIMEOUT = 10
BROADCAST_MAX_ATTEMPTS = 3
AWS_CONNECT_TIMEOUT = 5
AWS_READ_TIMEOUT = 20
AWS_MAX_ATTEMPTS = 3
RATE_LIMIT_RETENTION_DAYS = 7
RATE_LIMIT_PURGE_ONE_IN = 100
RATE_LIMIT_PURGE_BATCH = 500

_HERE = "django_aws_api_gateway_websockets.compat"
_PROVISIONING = "django_aws_api_gateway_websockets.provisioning"

#: For each module of this package: 4.1.0 name -> (module, attribute) it now is.
MOVED: dict[str, dict[str, tuple[str, str]]] = {
    "models": {
        **{
            name: (_HERE, name)
            for name in (
                "BROADCAST_MAX_WORKERS",
                "BROADCAST_CONNECT_TIMEOUT",
                "BROADCAST_READ_TIMEOUT",
                "BROADCAST_MAX_ATTEMPTS",
                "AWS_CONNECT_TIMEOUT",
                "AWS_READ_TIMEOUT",
                "AWS_MAX_ATTEMPTS",
                "RATE_LIMIT_RETENTION_DAYS",
                "RATE_LIMIT_PURGE_ONE_IN",
                "RATE_LIMIT_PURGE_BATCH",
            )
        },
        "ApiGatewaySyncError": (_PROVISIONING, "ApiGatewaySyncError"),
        "collect_deferred_sync_errors": (_PROVISIONING, "collect_deferred_sync_errors"),
        "run_aws_after_commit": (_PROVISIONING, "run_aws_after_commit"),
        "get_region_name": ("django_aws_api_gateway_websockets.conf", "get_region_name"),
        # The library itself: 4.1.0's tests replace ``models.boto3``; clients are built
        # through it (``aws.boto3_library``).
        "boto3": ("django_aws_api_gateway_websockets.aws", "boto3"),
        "get_boto3_client": ("django_aws_api_gateway_websockets.aws", "get_boto3_client"),
        "clear_boto3_client_cache": (
            "django_aws_api_gateway_websockets.aws",
            "clear_boto3_client_cache",
        ),
        "close_sessions_on_logout": (
            "django_aws_api_gateway_websockets.signals",
            "close_sessions_on_logout",
        ),
        "disconnect_sessions_of_deleted_gateway": (
            "django_aws_api_gateway_websockets.signals",
            "close_sessions_of_deleted_gateway",
        ),
        "delete_route_from_aws": (f"{_PROVISIONING}.receivers", "delete_route_in_aws"),
    },
    "admin": {
        name: (f"{_PROVISIONING}.admin_actions", name)
        for name in ("create_api_gateway", "create_custom_domain", "sync_from_aws", "sync_to_aws")
    }
    | {"SyncErrorMessageMixin": (f"{_PROVISIONING}.admin_actions", "ReportSyncErrorsMixin")},
    "management.commands.updateApiGatewayIntegrations": {
        "SECRET_PARAMETER": (f"{_PROVISIONING}.spec", "SECRET_PARAMETER"),
        "CONNECTION_PARAMETER": (f"{_PROVISIONING}.spec", "CONNECTION_ID_PARAMETER"),
    },
}

_PACKAGE = "django_aws_api_gateway_websockets."


def moved_name(module: str, name: str) -> Any:
    """The value of 4.1.0's ``module.name``, for that module's ``__getattr__``."""
    short = module.removeprefix(_PACKAGE)
    if name == "logger" and short in {"models", "admin"}:
        return logging.getLogger(module)
    try:
        home, attribute = MOVED[short][name]
    except KeyError:
        raise AttributeError(f"module {module!r} has no attribute {name!r}") from None
    return getattr(importlib.import_module(home), attribute)
