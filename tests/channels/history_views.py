"""The view the history tests route to: no token, the channel handlers on."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from django_aws_api_gateway_websockets.views import CHANNEL_HANDLERS, WebSocketView


class HistoryView(WebSocketView):
    USE_WS_TOKEN = False
    ADDITIONAL_ALLOWED_HANDLERS = [*CHANNEL_HANDLERS]

    def default(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        return None


class PlainView(HistoryView):
    """A 4.1.0-style view: the channel handlers are not whitelisted."""

    ADDITIONAL_ALLOWED_HANDLERS: list[str] = []


class OwnHistoryView(WebSocketView):
    """A 4.1.0 view with a handler of its own named ``history``: exposed automatically,
    as 4.1.0 exposed it."""

    USE_WS_TOKEN = False

    def default(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        return None

    def history(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return JsonResponse({"own": True})
