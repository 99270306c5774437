"""Fixtures of the channel tests: users with their own browser (test client), and
connections that the recording Management API holds open."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from django_aws_api_gateway_websockets.models import ApiGateway
from django_aws_api_gateway_websockets.testing import (
    ApiGatewayRequests,
    RecordingManagementApi,
    recording_management_api,
)

API_ID = "chanapi001"
PRESENCE = r"room-.*"

pytestmark = pytest.mark.urls("tests.channels.urls")


@pytest.fixture
def api(settings: Any, management_api_server: RecordingManagementApi) -> Iterator[Any]:
    """The recording Management API, with ``room-*`` channels keeping presence."""
    settings.WEBSOCKETS = {"presence_channels": PRESENCE}
    with recording_management_api(management_api_server) as recording:
        yield recording


@pytest.fixture
def gateway(db: None) -> ApiGateway:
    return ApiGateway.objects.create(api_name="channel tests", api_id=API_ID)


@pytest.fixture
def make_user(db: None) -> Callable[[str], Any]:
    def make(name: str) -> Any:
        return get_user_model().objects.create_user(name, password=f"pw-{name}")

    return make


@pytest.fixture
def alice(make_user: Callable[[str], Any]) -> Any:
    return make_user("alice")


@pytest.fixture
def bob(make_user: Callable[[str], Any]) -> Any:
    return make_user("bob")


class Connection(ApiGatewayRequests):
    """One browser tab's connection, with what the Management API delivered to it."""

    recording: RecordingManagementApi

    def send(self, handler: str, **body: Any) -> Any:
        """A channel request; the HTTP answer."""
        return self.message({"action": handler, "handler": handler, **body})

    def received(self) -> list[Any]:
        return self.recording.json_messages(self.connection_id)

    def last(self) -> Any:
        return self.received()[-1]

    def of_type(self, kind: str) -> list[Any]:
        return [m for m in self.received() if m.get("type") == kind]


@pytest.fixture
def connect(api: RecordingManagementApi, gateway: ApiGateway) -> Callable[..., Connection]:
    """``connect(user, channel)``: a new tab of ``user`` (``None``: anonymous) connected
    to ``channel``; ``client`` reuses a browser (its cookies)."""

    def open_tab(
        user: Any, channel: str = "lobby", client: Client | None = None, path: str = "/ws/"
    ) -> Connection:
        tab = Connection(client or Client(), path=path, api_id=gateway.api_id)
        tab.recording = api
        if user is not None and client is None:
            tab.login(user)
        api.connect(tab.connection_id)
        response = tab.connect(channel=channel)
        assert response.status_code == 200, response.content
        return tab

    return open_tab
