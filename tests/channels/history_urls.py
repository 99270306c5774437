from django.urls import path

from tests.channels.history_views import HistoryView, PlainView

urlpatterns: list = [
    path("ws-history/<slug:route>", HistoryView.as_view()),
    path("ws-plain/<slug:route>", PlainView.as_view()),
]
