"""The chat's WebSocket view: API Gateway (here the local gateway) posts every event of
every connection to it. The browser talks to it with websocket-client.js; a room is a
channel that keeps history and presence (``WEBSOCKETS`` in demo/settings.py), so the
package numbers and keeps each message, replays what a page missed, and tells the room
who comes and goes."""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from django_aws_api_gateway_websockets.channel_messages import send_to_channel
from django_aws_api_gateway_websockets.views import CHANNEL_HANDLERS, WebSocketView

logger = logging.getLogger(__name__)

#: Longest chat message, in characters.
MAX_TEXT_LENGTH = 2000


class ChatWebSocketView(WebSocketView):
    """Rooms are channels: the browser connects to the room it shows (its primary
    channel) and subscribes to the other rooms it may join, for their unread counts.
    Every room has a ``ChannelPermission`` row (see ``setup_demo``): the staff room's
    row admits only members of its group, and channels without a row are refused, on
    connect and on subscribe alike."""

    ALLOW_UNLISTED_CHANNELS = False
    #: The methods browsers may call, listed rather than inferred: the chat's own, and
    #: subscribe, unsubscribe, presence, resume and history.
    ALLOWED_HANDLERS = frozenset({"default", "heartbeat", "chat", *CHANNEL_HANDLERS})

    def default(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        """Messages for no handler of ours are ignored."""
        return None

    def heartbeat(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        """The client's keep-alive under API Gateway's 10-minute idle limit: nothing to do."""
        return None

    def chat(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        text = self.body.get("text")
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT_LENGTH:
            self.websocket_session.send_message(
                {"type": "error", "message": f"A message is 1 to {MAX_TEXT_LENGTH} characters."}
            )
            return None
        channel = self.websocket_session.channel_name
        result = send_to_channel(
            channel,
            {
                "user": request.user.get_username(),
                "text": text.strip(),
                "sent_at": timezone.now().isoformat(),
            },
        )
        logger.info("%s in #%s: %s", request.user.get_username(), channel, result)
        return None

    def presence_data(self, request: HttpRequest) -> dict[str, Any]:
        """What the others see of a member in the Online list."""
        return {"name": request.user.get_username()}
