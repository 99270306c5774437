"""Fixtures for the operations tests: a few rows of every kind."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission

from django_aws_api_gateway_websockets.hashing import hash_session_key, hash_user_auth
from django_aws_api_gateway_websockets.models import (
    ApiGateway,
    ApiGatewayAdditionalRoute,
    ChannelPermission,
    ChannelPermissionRule,
    ConnectionRateLimit,
    RateLimitCounter,
    WebSocketSession,
    WebSocketToken,
)

TOKEN = "ab12cd34" + "e" * 56


@pytest.fixture
def gateway(db: None) -> ApiGateway:
    gateway = ApiGateway.objects.create(
        api_name="ops-gateway",
        api_id="opsapi1234",
        target_base_endpoint="https://www.example.com/ws/",
        domain_name="ws.example.com",
    )
    ApiGatewayAdditionalRoute.objects.create(
        api_gateway=gateway,
        name="Chat route",
        route_key="chat",
        integration_url="https://www.example.com/ws/chat",
    )
    return gateway


@pytest.fixture
def rows(gateway: ApiGateway, django_user_model: Any) -> dict[str, Any]:
    """One user with a connected session, a token, an attempt and a counter."""
    alice = django_user_model.objects.create_user("alice", "alice@example.com", "pw")
    session = WebSocketSession.objects.create(
        connection_id="AliceConn1=",
        channel_name="lobby",
        user=alice,
        api_gateway=gateway,
        session_key_hash=hash_session_key("alice-session-key"),
        auth_hash=hash_user_auth(alice),
    )
    WebSocketSession.objects.create(connection_id="AnonConn2=", channel_name="news")
    token = WebSocketToken.objects.create(
        token=TOKEN, user=alice, session_key=hash_session_key("alice-session-key")
    )
    attempt = ConnectionRateLimit.objects.create(ip_address="203.0.113.9", user=alice)
    counter = RateLimitCounter.objects.create(key="ip:203.0.113.9", updated_at=session.created_on)
    channel = ChannelPermission.objects.create(channel_name="staff-room", access="permissions")
    both = ChannelPermissionRule.objects.create(channel_permission=channel)
    both.permissions.set(
        Permission.objects.filter(
            content_type__app_label="auth", codename__in=["add_user", "change_user"]
        )
    )
    one = ChannelPermissionRule.objects.create(channel_permission=channel)
    one.permissions.set(Permission.objects.filter(codename="view_user"))
    return {
        "alice": alice,
        "session": session,
        "token": token,
        "attempt": attempt,
        "counter": counter,
        "channel": channel,
    }
