"""The pages. The WebSocket side is in websocket.py."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest
from django.views.generic import DetailView, ListView

from .models import Room
from .websocket import ChatWebSocketView


def may_join(request: HttpRequest, room: Room) -> bool:
    """What the WebSocket view will decide on connect, shown in advance on the room list."""
    return ChatWebSocketView().can_join_channel(request, room.slug)


class RoomListView(LoginRequiredMixin, ListView):
    model = Room
    template_name = "chat/rooms.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["rooms"] = [(room, may_join(self.request, room)) for room in self.object_list]
        return context


class RoomView(LoginRequiredMixin, DetailView):
    """The room page renders for everyone logged in: a user without permission sees the
    WebSocket connection refused, as the server decides it. Its connection also
    subscribes to the other rooms the user may join, for their unread counts."""

    model = Room
    template_name = "chat/room.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        others = Room.objects.exclude(pk=self.object.pk)
        context["other_rooms"] = [room for room in others if may_join(self.request, room)]
        context["followed"] = [
            {"channel": room.slug, "title": room.title} for room in context["other_rooms"]
        ]
        return context
