"""Database statements per event (DESIGN section 6), counting every statement.

These tests run outside a test transaction, as requests do in production, so nothing
is hidden: a transaction's BEGIN and COMMIT would be captured (and counted), as would
savepoints. Middleware runs as in production. Caches are warm, as they are
for every event but the first after a change (a cold gateway or channel-permission
cache costs one query each).
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from django_aws_api_gateway_websockets.models import ApiGateway
from django_aws_api_gateway_websockets.testing import ApiGatewayRequests

pytestmark = pytest.mark.django_db(transaction=True)


def statements(call) -> list[str]:
    with CaptureQueriesContext(connection) as context:
        response = call()
    assert response.status_code == 200, response.content
    return [query["sql"] for query in context.captured_queries]


@pytest.fixture
def warm(client, django_user_model):
    """A logged-in client and a gateway whose caches are warm."""
    gateway = ApiGateway.objects.create(api_name="budget", api_id="budgetapi1")
    user = django_user_model.objects.create_user("bob", password="pw")
    warmup = ApiGatewayRequests(client, api_id=gateway.api_id)
    assert warmup.connect(token=warmup.issue_token(user), channel="general").status_code == 200
    return client, gateway, user


def test_connect_with_token_at_most_4(warm):
    client, gateway, user = warm
    ws = ApiGatewayRequests(client, api_id=gateway.api_id)
    token = ws.issue_token(user)
    sql = statements(lambda: ws.connect(token=token, channel="general"))
    assert len(sql) <= 4, sql
    # The Django session (is the login still valid?), the token with its user, the
    # limit, the session row.
    assert sql[0].startswith("UPDATE")
    assert "auth_user" in sql[0]
    assert sql[1].startswith("SELECT")
    assert "django_session" in sql[1]
    assert [s.split()[0] for s in sql[2:]] == ["INSERT", "INSERT"]


def test_connect_without_token_at_most_4(warm):
    client, gateway, user = warm
    ApiGatewayRequests(client, path="/ws-open/", api_id=gateway.api_id).connect()  # warm
    ws = ApiGatewayRequests(client, path="/ws-open/", api_id=gateway.api_id)
    ws.login(user)
    sql = statements(ws.connect)
    # The Django session and its user (middleware), the limit, the session row.
    assert len(sql) <= 4, sql


def test_message_at_most_1(warm):
    client, gateway, _ = warm
    connected = ApiGatewayRequests(client, api_id=gateway.api_id)
    connected.connect(token=connected.issue_token(warm[2]), channel="general")
    sql = statements(lambda: connected.message({"handler": "chat", "text": "hi"}))
    assert len(sql) == 1, sql
    # Counts the message and loads session and user.
    assert sql[0].startswith("UPDATE")
    assert "RETURNING" in sql[0]


def test_read_only_message_at_most_1(warm, settings):
    client, gateway, user = warm
    settings.WEBSOCKETS = {"count_messages": False}
    connected = ApiGatewayRequests(client, api_id=gateway.api_id)
    connected.connect(token=connected.issue_token(user), channel="general")
    sql = statements(lambda: connected.message({"handler": "chat", "text": "hi"}))
    assert len(sql) == 1, sql
    assert sql[0].startswith("SELECT")


def test_disconnect_exactly_1(warm):
    client, gateway, user = warm
    ws = ApiGatewayRequests(client, api_id=gateway.api_id)
    ws.connect(token=ws.issue_token(user))
    sql = statements(ws.disconnect)
    assert len(sql) == 1, sql
    assert sql[0].startswith("UPDATE")


def test_token_issue(warm):
    client, _, _ = warm
    sql = statements(lambda: client.post("/ws-token/"))
    # Session and user (Django's middleware), the limit counter, the token.
    assert len(sql) <= 4, sql
