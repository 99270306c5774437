"""Database statements per event (DESIGN section 6).

These tests run outside a test transaction, as requests do in production, so nothing
is hidden. A transaction's BEGIN, COMMIT, ROLLBACK and savepoints are captured too but
not counted: the budget is of real statements, and one transaction
around a connect's writes is worth its BEGIN and COMMIT because it saves two commits,
the latency of a database that waits for the disk. Their order is asserted instead.
Middleware runs as in production. Caches are warm, as they are for every event but the
first after a change (a cold gateway or channel-permission cache costs one query each).
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from django_aws_api_gateway_websockets.models import ApiGateway, WebSocketSession
from django_aws_api_gateway_websockets.testing import ApiGatewayRequests

pytestmark = pytest.mark.django_db(transaction=True)


TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


def captured(call) -> list[str]:
    """Everything the call sent, transaction control included."""
    with CaptureQueriesContext(connection) as context:
        response = call()
    assert response.status_code == 200, response.content
    return [query["sql"] for query in context.captured_queries]


def statements(call) -> list[str]:
    """The real statements of the call: what the budgets count."""
    return [sql for sql in captured(call) if not sql.startswith(TRANSACTION_CONTROL)]


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
    sent = captured(lambda: ws.connect(token=token, channel="general"))
    sql = [s for s in sent if not s.startswith(TRANSACTION_CONTROL)]
    assert len(sql) <= 4, sql
    # In one transaction (one commit): the token with its user and the Django session
    # (is the login still valid?), the limit, the session row.
    assert len(sql) == 3, sql
    assert sql[0].startswith("UPDATE")
    assert "auth_user" in sql[0]
    assert "django_session" in sql[0]
    assert [s.split()[0] for s in sent] == ["BEGIN", "UPDATE", "INSERT", "INSERT", "COMMIT"]


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
    assert not WebSocketSession.objects.get(connection_id=ws.connection_id).connected


@pytest.mark.postgres
def test_disconnect_commits_without_waiting_for_the_disk_and_only_itself(warm):
    """On PostgreSQL the disconnect's own commit is asynchronous (best effort, as
    $disconnect is); the connection's setting is untouched afterwards."""
    client, gateway, user = warm
    ws = ApiGatewayRequests(client, api_id=gateway.api_id)
    ws.connect(token=ws.issue_token(user))
    (sql,) = statements(ws.disconnect)
    assert "set_config('synchronous_commit', 'off', true)" in sql
    assert not WebSocketSession.objects.get(connection_id=ws.connection_id).connected
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone() == ("on",)


def test_token_issue(warm):
    client, _, _ = warm
    sql = statements(lambda: client.post("/ws-token/"))
    # Session and user (Django's middleware), the limit counter, the token.
    assert len(sql) <= 4, sql
