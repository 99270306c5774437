from django.urls import path

from django_aws_api_gateway_websockets.views import WebSocketTokenView
from tests.channels import views

urlpatterns: list = [
    path("ws/<slug:route>", views.ChannelsView.as_view()),
    path("ws-token/", WebSocketTokenView.as_view(websocket_view=views.ChannelsView)),
    path("ws-plain/<slug:route>", views.PlainView.as_view()),
    path("ws-own/<slug:route>", views.OwnSubscribeView.as_view()),
]
