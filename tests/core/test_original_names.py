"""Every public name of the original package 4.1.0 imports from 4.1.0's path.

The list is written out (not read from 4.1.0's sdist): the module-level names of each
4.1.0 module that do not start with ``_`` and are not imports of other libraries, and
the names its documentation mentions, including the function names of 4.1.0's system
checks, which code and tests call directly (their ids, E001 to W005, are kept too, see
docs/system_checks.rst).
"""

from __future__ import annotations

import importlib

import pytest

ORIGINAL_NAMES = {
    "": [],
    "admin": [
        "ApiGatewayAdditionalRouteAdmin",
        "ApiGatewayAdditionalRouteInline",
        "ApiGatewayAdmin",
        "ChannelPermissionAdmin",
        "ChannelPermissionRuleInline",
        "ConnectionRateLimitAdmin",
        "SyncErrorMessageMixin",
        "WebSocketSessionAdmin",
        "WebSocketTokenAdmin",
        "create_api_gateway",
        "create_custom_domain",
        "logger",
        "sync_from_aws",
        "sync_to_aws",
    ],
    "apps": ["DjangoAwsApiGatewayWebsocketsConfig"],
    "checks": [
        "check_aws_region_is_set",
        "check_gateway_secret_format",
        "check_gateway_secret_is_set",
        "check_handlers_are_listed",
        "check_unlisted_channels_are_refused",
        "check_websockets_setting",
    ],
    "conf": [
        "BOOLEAN_DEFAULTS",
        "DEFAULTS",
        "KNOWN_KEYS",
        "OPTIONAL_KEYS",
        "get_allowed_integration_hosts",
        "get_boolean_setting",
        "get_setting",
        "get_websockets_config",
    ],
    "management": [],
    "management.commands": [],
    "management.commands.cleanupWebSocketTokens": ["Command"],
    "management.commands.clearWebSocketSessions": ["Command"],
    "management.commands.createApiGateway": ["Command"],
    "management.commands.createCustomDomain": ["Command"],
    "management.commands.updateApiGatewayIntegrations": [
        "CONNECTION_PARAMETER",
        "Command",
        "SECRET_PARAMETER",
    ],
    "migrations": [],
    "mixins": ["AddWebSocketRouteToContextMixin", "AppChannelWebSocketMixin"],
    "models": [
        "AWS_CONNECT_TIMEOUT",
        "AWS_MAX_ATTEMPTS",
        "AWS_READ_TIMEOUT",
        "ApiGateway",
        "ApiGatewayAdditionalRoute",
        "ApiGatewaySyncError",
        "BROADCAST_CONNECT_TIMEOUT",
        "BROADCAST_MAX_ATTEMPTS",
        "BROADCAST_MAX_WORKERS",
        "BROADCAST_READ_TIMEOUT",
        "ChannelPermission",
        "ChannelPermissionRule",
        "ConnectionRateLimit",
        "GATEWAY_SECRET_HEADER",
        "GATEWAY_SECRET_PATTERN",
        "MAX_MESSAGE_SIZE",
        "RATE_LIMIT_PURGE_BATCH",
        "RATE_LIMIT_PURGE_ONE_IN",
        "RATE_LIMIT_RETENTION_DAYS",
        "WebSocketSession",
        "WebSocketSessionQuerySet",
        "WebSocketToken",
        "clear_boto3_client_cache",
        "close_sessions_on_logout",
        "collect_deferred_sync_errors",
        "delete_route_from_aws",
        "disconnect_sessions_of_deleted_gateway",
        "get_boto3_client",
        "get_gateway_secrets",
        "get_region_name",
        "hash_session_key",
        "hash_user_auth",
        "integration_request_parameters",
        "logger",
        "run_aws_after_commit",
        "serialise_message",
        "validate_integration_host",
    ],
    "sync": [
        "API_FIELDS",
        "ApiGatewaySyncError",
        "DEFAULT_ROUTE_KEYS",
        "SYNCED_GATEWAY_FIELDS",
        "describe_error",
        "integration_id_of",
        "is_not_found",
        "list_integrations",
        "list_routes",
        "logger",
        "pull_gateway",
        "push_gateway",
    ],
    "views": [
        "WebSocketTokenView",
        "WebSocketView",
        "logger",
        # Imported names 4.1.0's views module had and its tests patch there.
        "F",
        "GATEWAY_SECRET_HEADER",
        "HttpResponseBadRequest",
        "HttpResponseForbidden",
        "JsonResponse",
        "mail_admins",
        "time",
        "warnings",
    ],
}

PACKAGE = "django_aws_api_gateway_websockets"
CASES = [(module, name) for module, names in ORIGINAL_NAMES.items() for name in [None, *names]]


def _path(module: str) -> str:
    return f"{PACKAGE}.{module}" if module else PACKAGE


@pytest.mark.parametrize(
    ("module", "name"), CASES, ids=[f"{_path(m)}:{n or '(module)'}" for m, n in CASES]
)
def test_importable_from_its_original_path(module: str, name: str | None) -> None:
    imported = importlib.import_module(_path(module))
    if name is not None:
        namespace: dict[str, object] = {}
        exec(f"from {_path(module)} import {name}", namespace)
        assert namespace[name] is getattr(imported, name)


def test_the_sync_error_is_one_class_on_every_path() -> None:
    from django_aws_api_gateway_websockets import models, provisioning, sync

    assert models.ApiGatewaySyncError is sync.ApiGatewaySyncError
    assert sync.ApiGatewaySyncError is provisioning.ApiGatewaySyncError


def test_the_constants_keep_their_values() -> None:
    from django_aws_api_gateway_websockets import models

    assert (models.BROADCAST_MAX_WORKERS, models.BROADCAST_MAX_ATTEMPTS) == (10, 3)
    assert (models.BROADCAST_CONNECT_TIMEOUT, models.BROADCAST_READ_TIMEOUT) == (5, 10)
    assert (models.AWS_CONNECT_TIMEOUT, models.AWS_READ_TIMEOUT, models.AWS_MAX_ATTEMPTS) == (
        5,
        20,
        3,
    )
    assert models.logger.name == f"{PACKAGE}.models"


def test_an_unknown_name_is_still_an_attribute_error() -> None:
    from django_aws_api_gateway_websockets import admin, models

    with pytest.raises(AttributeError, match="no_such_name"):
        models.no_such_name  # noqa: B018
    with pytest.raises(ImportError):
        exec(f"from {PACKAGE}.admin import _post_to_connection", {})
    assert not hasattr(admin, "no_such_name")


def test_sync_lists_page_through_aws() -> None:
    from django_aws_api_gateway_websockets import sync

    class Client:
        def get_routes(self, **kwargs: object) -> dict[str, object]:
            if "NextToken" in kwargs:
                return {"Items": [{"RouteId": "b"}]}
            return {"Items": [{"RouteId": "a"}], "NextToken": "t"}

        def get_integrations(self, **kwargs: object) -> dict[str, object]:
            return {"Items": [{"IntegrationId": "i1", "IntegrationUri": "u"}]}

    assert sync.list_routes(Client(), "api") == [{"RouteId": "a"}, {"RouteId": "b"}]
    assert sync.list_integrations(Client(), "api") == {
        "i1": {"IntegrationId": "i1", "IntegrationUri": "u"}
    }


def test_moved_names_resolve_on_first_use() -> None:
    """``models`` imports none of their homes (AWS code among them) when it loads."""
    from django_aws_api_gateway_websockets import models

    assert "delete_route_from_aws" not in vars(models)
    assert models.delete_route_from_aws.__module__.endswith("provisioning.receivers")
