"""The README's minimal example works end to end: its view and URLs, routed in a real
project, accept a token-protected connection, run the handler for a message, and the
handler's broadcast reaches the connection through a real Management API."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings
from django.urls import clear_url_caches

from django_aws_api_gateway_websockets.models import ApiGateway, WebSocketSession
from django_aws_api_gateway_websockets.testing import ApiGatewayRequests

from .blocks import README, blocks_of

URLCONF = "tests.docs.readme_urls"


def _readme_namespace() -> dict[str, object]:
    namespace: dict[str, object] = {"__name__": URLCONF}
    for block in blocks_of(README):
        if block.language == "python" and not block.compile_only:
            exec(compile(block.code, block.where, "exec"), namespace)
    return namespace


@pytest.fixture
def readme_urls() -> Iterator[dict[str, object]]:
    namespace = _readme_namespace()
    module = types.ModuleType(URLCONF)
    module.urlpatterns = namespace["urlpatterns"]  # type: ignore[attr-defined]
    sys.modules[URLCONF] = module
    clear_url_caches()
    with override_settings(
        ROOT_URLCONF=URLCONF, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing"
    ):
        yield namespace
    clear_url_caches()
    del sys.modules[URLCONF]


@pytest.mark.django_db
def test_readme_example_end_to_end(readme_urls, management_api, client) -> None:
    ApiGateway.objects.create(
        api_name="Readme", api_id="testapi123", target_base_endpoint="https://www.example.com/ws/"
    )
    user = get_user_model().objects.create_user("alice", password="pw")
    client.force_login(user)

    token_response = client.post("/api/ws-token/")
    assert token_response.status_code == 200, token_response.content
    token = token_response.json()["token"]

    gateway = ApiGatewayRequests(client)
    management_api.connect(gateway.connection_id)
    assert gateway.connect(token=token, channel="general").status_code == 200
    session = WebSocketSession.objects.get(connection_id=gateway.connection_id)
    assert (session.user, session.channel_name, session.connected) == (user, "general", True)

    reply = gateway.message({"action": "chat_message", "message": "Hello"})
    assert reply.status_code == 200, reply.content
    assert management_api.json_messages(gateway.connection_id) == [
        {"type": "chat", "message": "Hello"}
    ]

    # The README's "send from anywhere" call, to the same user.
    result = WebSocketSession.objects.filter(user__username="alice").send_message(
        {"type": "notification", "text": "Your report is ready"}
    )
    assert result.sent == [gateway.connection_id]
    assert management_api.json_messages(gateway.connection_id)[-1]["type"] == "notification"
