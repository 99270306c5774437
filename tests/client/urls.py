"""A page that uses the template tags, and the token view named as the docs name it."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template import RequestContext, Template
from django.urls import path

from django_aws_api_gateway_websockets.views import WebSocketTokenView

PAGE = Template(
    "{% load aws_websockets %}"
    "<main>{% websocket_config channel=channel %}</main>"
    "<p>{% websocket_url %}|{% websocket_token_url %}</p>"
)


def page(request: HttpRequest) -> HttpResponse:
    channel = request.GET.get("channel", "lobby")
    return HttpResponse(PAGE.render(RequestContext(request, {"channel": channel})))


def token(request: HttpRequest) -> HttpResponse:
    return HttpResponse(status=405)


urlpatterns = [
    path("room/", page),
    path("api/ws-token/", WebSocketTokenView.as_view(), name="websocket_token"),
    path("other/token/", token, name="other-token"),
]
