"""The end-to-end views plus Django's logout view, for the live server."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path("logout/", auth_views.LogoutView.as_view(next_page="/")),
    path("", include("tests.localgateway.views")),
]
