"""The WebSocket view the channel tests route to."""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpRequest

from django_aws_api_gateway_websockets.views import CHANNEL_HANDLERS, WebSocketView


def own_channel(request: HttpRequest, match: re.Match[str]) -> bool:
    """``user-<pk>`` is its user's own channel (an object-level rule)."""
    user = request.user
    return user.is_authenticated and match["pk"] == str(user.pk)


class ChannelsView(WebSocketView):
    """Logged-in users without tokens (each test client is one browser), no connection
    limit, every channel handler on."""

    USE_WS_TOKEN = False
    RATE_LIMIT_ENABLED = False
    ADDITIONAL_ALLOWED_HANDLERS = [*CHANNEL_HANDLERS, "change_channel"]
    CHANNEL_RULES = {r"user-(?P<pk>\d+)": own_channel}

    def default(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        return None

    def presence_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"name": request.user.get_username()}


class PlainView(WebSocketView):
    """A view that lists no channel handler."""

    USE_WS_TOKEN = False
    RATE_LIMIT_ENABLED = False

    def default(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        return None


class OwnSubscribeView(PlainView):
    """A 4.1.0 view with a handler of its own called ``subscribe``."""

    def subscribe(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        self.websocket_session.send_message({"type": "own"})
