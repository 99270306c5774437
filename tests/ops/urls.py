"""The admin, a WebSocket view that passes every check and a page with a mixin, for
the ops tests (selected with ``pytest.mark.urls``)."""

from django.contrib import admin
from django.urls import path

from .pages import AppPage
from .views_for_checks import CleanView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("ws/<slug:route>", CleanView.as_view()),
    path("pages/app/", AppPage.as_view()),
]
