"""WebSocket views the core tests route to."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from django_aws_api_gateway_websockets.views import WebSocketView

#: (view class name, handler name, body) of every handler call, for assertions.
CALLS: list[tuple[str, str, dict[str, Any]]] = []


class ChatView(WebSocketView):
    """Token-protected, the defaults otherwise; exposes two handlers and change_channel."""

    def default(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        CALLS.append((type(self).__name__, "default", self.body))

    def chat(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        CALLS.append((type(self).__name__, "chat", self.body))
        return JsonResponse(
            {"user": str(request.user), "channel": self.websocket_session.channel_name}
        )

    def boom(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("handler failed")

    def change_channel(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        return super().change_channel(request, *args, **kwargs)


class ChatWithExtrasView(ChatView):
    """Inherits ChatView's handlers (intermediate base) and adds one."""

    def extra(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        CALLS.append((type(self).__name__, "extra", self.body))


class OpenView(WebSocketView):
    """No token (non-browser clients, legacy frontends)."""

    USE_WS_TOKEN = False
    ADDITIONAL_ALLOWED_ROUTES = ["notifications"]

    def default(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        CALLS.append((type(self).__name__, "default", self.body))

    def reply(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        """Answers through the Management API, as handlers must."""
        self.websocket_session.send_message({"type": "reply", "echo": self.body.get("text")})


class StaffView(OpenView):
    permissions_required = ["auth.view_user", "auth.change_user"]


class AllPermsView(OpenView):
    all_permissions_required = ["auth.view_user", "auth.change_user"]


class HookedView(OpenView):
    """Refuses connections from the hook when asked to by the query string."""

    def _additional_connection_checks(
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> tuple[bool, str]:
        if request.GET.get("refuse"):
            return False, "Refused by hook"
        return True, ""


class FuzzView(WebSocketView):
    """Token-protected, with handlers that cannot fail: the target of property tests."""

    ADDITIONAL_ALLOWED_ROUTES = ["custom"]

    def default(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        return None

    def echo(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return JsonResponse({"keys": sorted(self.body)})
