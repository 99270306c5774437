"""Fixtures of the core request-path tests."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from django_aws_api_gateway_websockets.models import ApiGateway
from django_aws_api_gateway_websockets.testing import ApiGatewayRequests
from tests.testapp.views import CALLS

API_ID = "coreapi001"


@pytest.fixture(autouse=True)
def _no_calls_yet() -> None:
    # The package's pytest plugin empties the gateway and channel caches per test.
    CALLS.clear()


@pytest.fixture
def gateway(db: None) -> ApiGateway:
    return ApiGateway.objects.create(api_name="core tests", api_id=API_ID)


@pytest.fixture
def user(db: None):
    return get_user_model().objects.create_user("alice", password="pw-alice")


@pytest.fixture
def ws(client, gateway: ApiGateway) -> ApiGatewayRequests:
    """A connection to the token-protected ChatView at /ws/."""
    return ApiGatewayRequests(client, path="/ws/", api_id=gateway.api_id)


@pytest.fixture
def open_ws(client, gateway: ApiGateway) -> ApiGatewayRequests:
    """A connection to OpenView (no token) at /ws-open/."""
    return ApiGatewayRequests(client, path="/ws-open/", api_id=gateway.api_id)


@pytest.fixture
def connected_session(ws, user):
    """An open session of ``user`` on ``ws``, as $connect stored it."""
    from django_aws_api_gateway_websockets.models import WebSocketSession

    assert ws.connect(token=ws.issue_token(user), channel="general").status_code == 200
    return WebSocketSession.objects.get()
