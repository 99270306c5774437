"""Fixtures of the trust tests: a gateway, a user, connections through the core views."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from django_aws_api_gateway_websockets.models import ApiGateway
from django_aws_api_gateway_websockets.testing import ApiGatewayRequests

API_ID = "trustapi01"


@pytest.fixture
def gateway(db: None) -> ApiGateway:
    return ApiGateway.objects.create(api_name="trust tests", api_id=API_ID, stage_name="prod")


@pytest.fixture
def user(db: None):
    return get_user_model().objects.create_user("alice", password="pw-alice")


@pytest.fixture
def connect(gateway, management_api):
    """Open a token connection for ``user`` from ``client`` (a browser, its login)."""

    def open_connection(client, user, channel: str = "general") -> ApiGatewayRequests:
        ws = ApiGatewayRequests(client, path="/ws/", api_id=gateway.api_id)
        management_api.connect(ws.connection_id)
        assert ws.connect(token=ws.issue_token(user), channel=channel).status_code == 200
        return ws

    return open_connection
