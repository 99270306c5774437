"""The admin and a WebSocket view that passes every check, for the ops tests
(selected with ``pytest.mark.urls``)."""

from django.contrib import admin
from django.urls import path

from .views_for_checks import CleanView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("ws/<slug:route>", CleanView.as_view()),
]
