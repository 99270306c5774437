"""Template views using the mixins (their module's package is ``tests.ops``)."""

from django.views.generic import TemplateView

from django_aws_api_gateway_websockets.mixins import (
    AddWebSocketRouteToContextMixin,
    AppChannelWebSocketMixin,
)


class ChatPage(AddWebSocketRouteToContextMixin, TemplateView):
    template_name = "unused.html"
    websocket_route_key = "chat"
    channel_name = "lobby"


class SecondGatewayChatPage(ChatPage):
    websocket_api_gateway_name = "second"


class AppPage(AppChannelWebSocketMixin, TemplateView):
    template_name = "unused.html"


class AppPageWithOverride(AppPage):
    app_channel_override = "news"
