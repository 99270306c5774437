"""A view for the end-to-end tests: replies through the Management API, naming the
route slug it was reached by, so a test can see which integration URL was called."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import include, path

from django_aws_api_gateway_websockets.views import WebSocketView


class RouteEchoView(WebSocketView):
    USE_WS_TOKEN = False
    ADDITIONAL_ALLOWED_ROUTES = ["notifications"]

    def default(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        self.websocket_session.send_message({"route": self.kwargs["route"], "body": self.body})


urlpatterns = [
    path("ws-echo/<slug:route>", RouteEchoView.as_view()),
    path("", include("tests.urls")),
]
