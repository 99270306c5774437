"""WebSocket views routed by urls_checks.py, one per check they should trigger."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse

from django_aws_api_gateway_websockets.views import WebSocketView


class OpenView(WebSocketView):
    """W004 only: unlisted channels are open; no handlers beyond the base ones."""

    def default(self, request: Any, *args: Any, **kwargs: Any) -> None:
        return None


class ChattyView(WebSocketView):
    """W005: two handlers exposed automatically."""

    ALLOW_UNLISTED_CHANNELS = False

    def default(self, request: Any, *args: Any, **kwargs: Any) -> None:
        return None

    def chat(self, request: Any) -> None:
        return None

    def kick(self, request: Any) -> None:
        return None


class ListedView(ChattyView):
    """Nothing: the handlers are listed."""

    ALLOWED_HANDLERS = frozenset({"default", "chat"})


class ShoutView(ChattyView):
    """W005 for handlers inherited from an intermediate class too."""

    def shout(self, request: Any) -> None:
        return None


class LongChannelView(ListedView):
    """E005: longer channel names than a session can hold."""

    MAX_CHANNEL_NAME_LENGTH = 191


def plain_view(request: Any) -> HttpResponse:
    return HttpResponse("not a WebSocket view")


class CleanView(WebSocketView):
    """Nothing at all, even under --deploy."""

    ALLOW_UNLISTED_CHANNELS = False
    ALLOWED_HANDLERS = frozenset({"default", "chat"})

    def default(self, request: Any, *args: Any, **kwargs: Any) -> None:
        return None

    def chat(self, request: Any) -> None:
        return None
