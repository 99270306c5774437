from django.contrib import admin
from django.urls import path

from tests.channels.history_views import HistoryView, OwnHistoryView, PlainView

urlpatterns: list = [
    path("ws-history/<slug:route>", HistoryView.as_view()),
    path("ws-plain/<slug:route>", PlainView.as_view()),
    path("ws-own/<slug:route>", OwnHistoryView.as_view()),
    path("admin/", admin.site.urls),
]
