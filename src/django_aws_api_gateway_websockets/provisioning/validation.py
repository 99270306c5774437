"""Field checks of gateways and routes that Django's field types cannot express.

Each function raises ``ValidationError`` keyed by field, so the admin shows the
message next to the field and nothing reaches AWS.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError

from ..awsnames import is_api_id, is_domain_name, is_stage_name
from ..conf import get_allowed_integration_hosts

if TYPE_CHECKING:
    from ..models import ApiGateway, ApiGatewayAdditionalRoute

API_NAME = re.compile(r"[A-Za-z0-9 _-]+")
HOSTED_ZONE = re.compile(r"(/hostedzone/)?[A-Z0-9]{1,32}")
CHANNEL_NAME = re.compile(r"[a-zA-Z0-9_-]+")


def host_allowed(host: str, allowed: list[str]) -> bool:
    """``*.example.com`` admits sub-domains of example.com, not example.com itself."""
    for pattern in allowed:
        if pattern.startswith("*."):
            if host.endswith(pattern[1:]):
                return True
        elif host == pattern:
            return True
    return False


def validate_integration_host(url: str | None, field: str) -> None:
    """``ValidationError`` when ``WEBSOCKETS["allowed_integration_hosts"]`` excludes the URL."""
    allowed = get_allowed_integration_hosts()
    if not url or not allowed:
        return
    host = (urlsplit(url).hostname or "").lower()
    if not host_allowed(host, allowed):
        raise ValidationError(
            {field: f"{host or url} is not in WEBSOCKETS['allowed_integration_hosts']."}
        )


def _tags_error(tags: Any) -> str:
    if not isinstance(tags, dict):
        return 'Enter an object such as {"team": "web"}.'
    for key, value in tags.items():
        if not isinstance(value, str) or not 1 <= len(key) <= 128 or len(value) > 256:
            return "Tag names need 1-128 characters and values must be text of 256 at most."
    return ""


def validate_gateway(gateway: ApiGateway) -> None:
    errors: dict[str, str] = {}
    if gateway.api_name and not API_NAME.fullmatch(gateway.api_name):
        errors["api_name"] = "Use letters, digits, spaces, underscores and hyphens."
    if gateway.domain_name and not is_domain_name(gateway.domain_name):
        errors["domain_name"] = "Enter a domain name such as ws.example.com."
    if gateway.api_id and not is_api_id(gateway.api_id):
        errors["api_id"] = "Enter the API id AWS gave the API: letters, digits and hyphens."
    if gateway.stage_name and not is_stage_name(gateway.stage_name):
        errors["stage_name"] = "Use letters, digits, underscores and hyphens."
    if gateway.hosted_zone_id and not HOSTED_ZONE.fullmatch(gateway.hosted_zone_id.strip()):
        errors["hosted_zone_id"] = "Enter a Route 53 hosted zone id such as Z0123456789ABC."
    if gateway.default_channel_name and not CHANNEL_NAME.fullmatch(gateway.default_channel_name):
        errors["default_channel_name"] = "Use only letters, numbers, underscores and hyphens."
    tags_error = _tags_error(gateway.tags)
    if tags_error:
        errors["tags"] = tags_error
    try:
        validate_integration_host(gateway.target_base_endpoint, "target_base_endpoint")
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)


def validate_route(route: ApiGatewayAdditionalRoute) -> None:
    if route.route_key.startswith("$"):
        raise ValidationError(
            {"route_key": "Keys starting with $ are API Gateway's own ($connect, $default, ...)."}
        )
    validate_integration_host(route.integration_url, "integration_url")
