"""A URLconf for the view checks: nested includes, a pattern without ``route``."""

from django.urls import include, path

from .views_for_checks import (
    ChattyView,
    ListedView,
    LongChannelView,
    OpenView,
    ShoutView,
    plain_view,
)

urlpatterns = [
    path("ws/open/<slug:route>", OpenView.as_view()),
    path("plain/", plain_view),
    path(
        "nested/",
        include(
            [
                path("chat/<slug:route>", ChattyView.as_view()),
                path("chat2/<slug:route>", ChattyView.as_view()),
                path("listed/<slug:route>", ListedView.as_view()),
                path("deeper/", include([path("shout/<slug:route>", ShoutView.as_view())])),
            ]
        ),
    ),
    path("long/<slug:route>", LongChannelView.as_view()),
    path("listed-without-route/", ListedView.as_view()),
]
