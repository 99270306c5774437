"""The core test URLs plus Django's own password change view."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path("password/", auth_views.PasswordChangeView.as_view(success_url="/done/")),
    path("", include("tests.urls")),
]
