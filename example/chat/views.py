"""The pages. The WebSocket side is in websocket.py."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.views.generic import DetailView, ListView

from django_aws_api_gateway_websockets.models import ChannelPermission

from .models import Room


def may_join(room: Room, user: Any) -> bool:
    """What the WebSocket view will decide on connect, shown in advance on the room list."""
    rule = ChannelPermission.for_channel(room.slug)
    return rule is None or rule.allows(user)


class RoomListView(LoginRequiredMixin, ListView):
    model = Room
    template_name = "chat/rooms.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["rooms"] = [(room, may_join(room, self.request.user)) for room in self.object_list]
        return context


class RoomView(LoginRequiredMixin, DetailView):
    """The room page renders for everyone logged in: a user without permission sees the
    WebSocket connection refused, as the server decides it."""

    model = Room
    template_name = "chat/room.html"
