"""Template-view mixins that put the WebSocket route and channel into the context,
so a page's script knows which route key to send and which channel to join."""

from __future__ import annotations

import re
import sys
from typing import Any

from django.urls import Resolver404, ResolverMatch, resolve

from .models import ApiGatewayAdditionalRoute

#: Characters a channel name may not contain (see ``WebSocketView.CHANNEL_NAME_PATTERN``).
_NOT_IN_CHANNEL = re.compile(r"[^A-Za-z0-9_-]")
#: The longest channel name a session row holds.
MAX_CHANNEL_LENGTH = 128


def channel_name_for(name: str) -> str:
    """``name`` made a valid channel name: ``apps.blog`` becomes ``apps-blog``."""
    return _NOT_IN_CHANNEL.sub("-", name)[:MAX_CHANNEL_LENGTH]


class AddWebSocketRouteToContextMixin:
    """Adds ``api_gateway_route`` (the additional route with ``websocket_route_key``)
    and ``channel_name`` to the template context.

    When several gateways have a route with the same key, set
    ``websocket_api_gateway_name`` to the ``api_name`` of the gateway to use;
    otherwise the oldest such route is used.
    """

    websocket_route_key = "default"
    channel_name = ""
    websocket_api_gateway_name: str | None = None

    def get_websocket_route(self) -> ApiGatewayAdditionalRoute | None:
        routes = ApiGatewayAdditionalRoute.objects.filter(route_key=self.websocket_route_key)
        if self.websocket_api_gateway_name:
            routes = routes.filter(api_gateway__api_name=self.websocket_api_gateway_name)
        return routes.select_related("api_gateway").order_by("pk").first()

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)  # type: ignore[misc]
        context["api_gateway_route"] = self.get_websocket_route()
        context["channel_name"] = self.channel_name
        return context


class AppChannelWebSocketMixin(AddWebSocketRouteToContextMixin):
    """Route key and channel are the package of the app whose view serves the page
    (``app_channel_override`` replaces the channel only).

    The route key is the package name as it is (``apps.blog``); the channel is that
    name made valid (``apps-blog``), since a dot is not allowed in a channel name.
    """

    request: Any = None
    app_channel_override: str | None = None

    def app_package(self) -> str:
        """The package of the module that defines the view serving this request.

        That view is the request's resolver match, which Django sets on every request it
        routes; a request built without one has its path resolved, as in 4.1.0, and a
        path that resolves to nothing names this view's own package.
        """
        match = getattr(self.request, "resolver_match", None)
        if not isinstance(match, ResolverMatch):
            try:
                match = resolve(self.request.path_info, getattr(self.request, "urlconf", None))
            except Resolver404:
                match = None
        module_name = match.func.__module__ if match is not None else type(self).__module__
        module = sys.modules.get(module_name)
        package = getattr(module, "__package__", None)
        return package if package is not None else module_name.rpartition(".")[0]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        package = self.app_package()
        if package:
            self.websocket_route_key = package
            self.channel_name = channel_name_for(package)
        if self.app_channel_override:
            self.channel_name = self.app_channel_override
        return super().get_context_data(**kwargs)
