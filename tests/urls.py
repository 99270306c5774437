from django.urls import path

from django_aws_api_gateway_websockets.views import WebSocketTokenView
from tests.testapp import views

urlpatterns: list = [
    path("ws-token/", WebSocketTokenView.as_view(), name="ws-token"),
    path("ws/<slug:route>", views.ChatView.as_view(), name="ws"),
    path("ws-extras/<slug:route>", views.ChatWithExtrasView.as_view()),
    path("ws-open/<slug:route>", views.OpenView.as_view()),
    path("ws-staff/<slug:route>", views.StaffView.as_view()),
    path("ws-allperms/<slug:route>", views.AllPermsView.as_view()),
    path("ws-hooked/<slug:route>", views.HookedView.as_view()),
    path("ws-fuzz/<slug:route>", views.FuzzView.as_view()),
]
