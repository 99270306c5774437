"""The chat's WebSocket view: API Gateway (here the local gateway) posts every event of
every connection to it. The browser talks to it with websocket-client.js's
``send(handler, payload)``; replies go out through ``send_message``."""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from django_aws_api_gateway_websockets.messaging.results import BroadcastResult
from django_aws_api_gateway_websockets.models import WebSocketSession, WebSocketSessionQuerySet
from django_aws_api_gateway_websockets.views import WebSocketView

logger = logging.getLogger(__name__)

#: Longest chat message, in characters.
MAX_TEXT_LENGTH = 2000


def room_sessions(channel: str) -> WebSocketSessionQuerySet:
    return WebSocketSession.objects.filter(channel_name=channel, connected=True)


def online_users(channel: str) -> list[str]:
    names = room_sessions(channel).filter(user__isnull=False).values_list("user__username")
    return sorted({name for (name,) in names})


def broadcast(channel: str, message: dict[str, Any]) -> BroadcastResult:
    """Send to everyone in the room. $disconnect is best effort, so a send is also how
    the room learns that someone left: their connection answers 410 (gone), the package
    marks the session disconnected, and the room hears the new list of who is online."""
    result = room_sessions(channel).send_message(message)
    if result.gone:
        announce_presence(channel)
    return result


def announce_presence(channel: str) -> None:
    """Tell everyone in the room who is in it (again while that finds someone gone)."""
    for _ in range(3):
        message = {"type": "presence", "room": channel, "users": online_users(channel)}
        if not room_sessions(channel).send_message(message).gone:
            return


class ChatWebSocketView(WebSocketView):
    """Rooms are channels: the browser picks one with ``?channel=`` when it connects.
    Every room has a ``ChannelPermission`` row (see ``setup_demo``): the staff room's
    row admits only members of its group, and channels without a row are refused."""

    ALLOW_UNLISTED_CHANNELS = False
    #: The methods browsers may call, listed rather than inferred.
    ALLOWED_HANDLERS = frozenset({"default", "heartbeat", "join", "chat"})

    def default(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        """Messages for no handler of ours are ignored."""
        return None

    def heartbeat(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        """The client's keep-alive under API Gateway's 10-minute idle limit: nothing to do."""
        return None

    def join(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        """Sent by the page once connected (posting during $connect would get 410)."""
        announce_presence(self.websocket_session.channel_name)

    def chat(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        text = self.body.get("text")
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT_LENGTH:
            self.websocket_session.send_message(
                {"type": "error", "message": f"A message is 1 to {MAX_TEXT_LENGTH} characters."}
            )
            return None
        channel = self.websocket_session.channel_name
        result = broadcast(
            channel,
            {
                "type": "message",
                "room": channel,
                "user": request.user.get_username(),
                "text": text.strip(),
                "sent_at": timezone.now().isoformat(),
            },
        )
        logger.info("%s in #%s: %s", request.user.get_username(), channel, result)
        return None

    def disconnect(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        """Tell the room who is left. $disconnect may never come (API Gateway delivers it
        best effort), so presence also heals when a send finds a connection gone."""
        response = super().disconnect(request, *args, **kwargs)
        if isinstance(self.websocket_session, WebSocketSession):
            announce_presence(self.websocket_session.channel_name)
        return response
