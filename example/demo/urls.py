from chat import views
from chat.websocket import ChatWebSocketView
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path

from django_aws_api_gateway_websockets.metrics import metrics_view
from django_aws_api_gateway_websockets.views import WebSocketTokenView

urlpatterns = [
    path("", views.RoomListView.as_view(), name="rooms"),
    path("rooms/<slug:slug>/", views.RoomView.as_view(), name="room"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The browser asks for a single-use token here before every connect.
    path("api/ws-token/", WebSocketTokenView.as_view(), name="websocket_token"),
    # API Gateway (here: the local gateway) posts every event here.
    path("ws/<slug:route>", ChatWebSocketView.as_view(), name="websocket"),
    path("admin/", admin.site.urls),
    # Prometheus metrics (with the "metrics" extra installed); guard it in production.
    path("metrics", metrics_view, name="metrics"),
]
