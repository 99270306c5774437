"""Template tags that put the WebSocket URL and the token endpoint into pages, for the
JavaScript client (``static/django_aws_api_gateway_websockets/websocket-client.js``).

``{% load aws_websockets %}`` then ``{% websocket_config channel="lobby" %}`` writes the
settings the client needs as JSON in a ``<script type="application/json">`` element, which
``readPageConfig()`` reads. Keeping them out of inline JavaScript keeps pages compatible
with a strict Content Security Policy.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.core.exceptions import ImproperlyConfigured
from django.middleware.csrf import get_token
from django.urls import NoReverseMatch, reverse
from django.utils.html import json_script
from django.utils.safestring import SafeString

from ..conf import get_websocket_url
from ..models import ApiGateway

register = template.Library()

#: The URL name the documentation gives the token view.
TOKEN_URL_NAME = "websocket_token"


def gateway_websocket_url(gateway: ApiGateway) -> str:
    """Where browsers reach ``gateway``: its custom domain, else its AWS endpoint and stage.

    Token-protected connections need the custom domain in practice: the browser sends the
    Django session cookie only to a host under the site's cookie domain.
    """
    if gateway.domain_name:
        return f"wss://{gateway.domain_name}"
    if gateway.api_endpoint:
        return f"{gateway.api_endpoint.rstrip('/')}/{gateway.effective_stage_name}"
    raise ImproperlyConfigured(
        f"API Gateway {gateway} has neither a domain name nor an endpoint yet."
    )


@register.simple_tag
def websocket_url(url: str = "", gateway: ApiGateway | None = None) -> str:
    """The WebSocket URL: ``url`` if given, else ``WEBSOCKETS["websocket_url"]``, else the
    address of ``gateway``."""
    if url:
        return url
    configured = get_websocket_url()
    if configured:
        return configured
    if gateway is not None:
        return gateway_websocket_url(gateway)
    raise ImproperlyConfigured(
        'Set WEBSOCKETS["websocket_url"] (e.g. "wss://ws.example.com"), or pass url= or '
        "gateway= to the websocket template tag."
    )


@register.simple_tag
def websocket_token_url(token_url: str = "") -> str:
    """The token view's URL: ``token_url`` as a path or a URL name, else the URL named
    ``websocket_token``."""
    if token_url.startswith(("/", "http://", "https://")):
        return token_url
    name = token_url or TOKEN_URL_NAME
    try:
        return reverse(name)
    except NoReverseMatch:
        raise ImproperlyConfigured(
            f"No URL named {name!r}: name your WebSocketTokenView's URL "
            f"{TOKEN_URL_NAME!r} or pass token_url= to the websocket template tag."
        ) from None


@register.simple_tag(takes_context=True)
def websocket_config(
    context: template.Context,
    channel: str = "",
    url: str = "",
    token_url: str = "",
    gateway: ApiGateway | None = None,
    element_id: str = "websocket-config",
) -> SafeString:
    """The client's settings as a JSON script element: ``url``, ``tokenUrl``, ``channel``
    and, when the page has a request, ``csrfToken`` (which also makes Django set the CSRF
    cookie the token request needs)."""
    config: dict[str, Any] = {
        "url": websocket_url(url, gateway),
        "tokenUrl": websocket_token_url(token_url),
        "channel": str(channel),
    }
    request = context.get("request")
    if request is not None:
        config["csrfToken"] = get_token(request)
    return json_script(config, element_id)
