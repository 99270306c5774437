"""The token endpoint and the token service: hashed, single-use, session-bound."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone

from django_aws_api_gateway_websockets.hashing import hash_session_key
from django_aws_api_gateway_websockets.models import ApiGateway, ChannelPermission, WebSocketToken
from django_aws_api_gateway_websockets.testing import ApiGatewayRequests
from django_aws_api_gateway_websockets.tokens import (
    consume_token,
    consume_token_user,
    delete_tokens_older_than,
    issue_token,
)


def refusal(response) -> tuple[int, dict]:
    assert response["Content-Type"] == "application/json"
    return response.status_code, response.json()


def test_token_view_requires_login(client, db):
    response = client.post("/ws-token/")
    assert refusal(response) == (
        403,
        {"error": "Authentication required", "reason": "not_authenticated"},
    )
    assert not WebSocketToken.objects.exists()


def test_token_view_only_answers_post(client, user):
    client.force_login(user)
    response = client.get("/ws-token/")
    assert refusal(response) == (
        405,
        {"error": "Only POST is allowed", "reason": "method_not_allowed"},
    )
    assert response["Allow"] == "POST"


def test_token_view_requires_csrf(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.post("/ws-token/").status_code == 403
    assert not WebSocketToken.objects.exists()


def test_token_view_issues_a_hashed_token(client, user, settings):
    settings.WEBSOCKETS = {"token_expiry_seconds": 90}
    client.force_login(user)
    response = client.post("/ws-token/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["expires_in"] == 90
    assert len(body["token"]) == 64
    row = WebSocketToken.objects.get()
    # Only the hash is stored; the row is bound to the session, not its raw key.
    assert row.token == hashlib.sha256(body["token"].encode()).hexdigest() != body["token"]
    session_key = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    assert row.session_key == hash_session_key(session_key) != session_key
    row.full_clean()  # the stored hash fits the original's field validator


def test_token_view_issues_through_the_models_generate_token(client, user, monkeypatch):
    """4.1.0's public call: a project's test that replaces it sees the token issued."""
    issued = []

    def generate_token(user, session_key):
        issued.append((user, session_key))
        return WebSocketToken(token="b" * 64)

    monkeypatch.setattr(WebSocketToken, "generate_token", generate_token)
    client.force_login(user)
    response = client.post("/ws-token/")
    assert response.json()["token"] == "b" * 64
    assert issued == [(user, client.session.session_key)]


def test_token_view_rate_limit(client, user, settings, monkeypatch):
    settings.WEBSOCKETS = {"token_rate_limit_per_minute": 3}
    start = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: start)
    client.force_login(user)
    statuses = [client.post("/ws-token/").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    monkeypatch.setattr(timezone, "now", lambda: start + timedelta(seconds=20.5))
    response = client.post("/ws-token/")
    assert refusal(response) == (
        429,
        {"error": "Rate limit exceeded", "reason": "rate_limited", "retry_after": 40},
    )
    assert response["Retry-After"] == "40"
    assert WebSocketToken.objects.count() == 3
    monkeypatch.setattr(timezone, "now", lambda: start + timedelta(seconds=60))
    assert client.post("/ws-token/").status_code == 200


@pytest.fixture
def staff_room(db):
    return ChannelPermission.objects.create(
        channel_name="staff-room", access=ChannelPermission.Access.STAFF_ONLY
    )


@pytest.mark.parametrize("how", ["form", "json", "query"])
def test_token_view_answers_for_a_channel(client, user, staff_room, how):
    client.force_login(user)

    def ask(channel):
        if how == "form":
            return client.post("/ws-token/", {"channel": channel})
        if how == "json":
            return client.post("/ws-token/", {"channel": channel}, content_type="application/json")
        return client.post(f"/ws-token/?{urlencode({'channel': channel})}")

    assert refusal(ask("staff-room")) == (
        403,
        {"error": "Permission Denied", "reason": "forbidden_channel"},
    )
    assert refusal(ask("not a channel")) == (
        400,
        {"error": "Invalid channel", "reason": "invalid_channel"},
    )
    assert not WebSocketToken.objects.exists()
    assert set(ask("general").json()) == {"token", "expires_in"}
    user.is_staff = True
    user.save()
    assert ask("staff-room").status_code == 200


def test_token_view_refuses_a_channel_that_is_not_a_string(client, user):
    client.force_login(user)
    response = client.post("/ws-token/", {"channel": 5}, content_type="application/json")
    assert refusal(response)[1]["reason"] == "invalid_channel"


def test_token_view_follows_its_websocket_view(client, user, monkeypatch):
    from django_aws_api_gateway_websockets.views import WebSocketTokenView
    from tests.testapp.views import ChatView

    monkeypatch.setattr(ChatView, "ALLOW_UNLISTED_CHANNELS", False)
    monkeypatch.setattr(WebSocketTokenView, "websocket_view", ChatView)
    client.force_login(user)
    response = client.post("/ws-token/", {"channel": "unlisted"})
    assert refusal(response)[1]["reason"] == "forbidden_channel"


def test_token_view_bad_origin(client, user, settings):
    settings.WEBSOCKETS = {"allowed_origins": ["https://app.example.org"]}
    client.force_login(user)
    response = client.post("/ws-token/", headers={"Origin": "https://elsewhere.example"})
    assert refusal(response) == (
        403,
        {"error": "This page's origin may not connect", "reason": "bad_origin"},
    )
    ok = client.post("/ws-token/", headers={"Origin": "https://app.example.org"})
    assert ok.status_code == 200


def test_token_view_tells_when_the_connection_limit_is_reached(client, user, settings):
    settings.WEBSOCKETS = {"rate_limit_max_attempts": 2}
    for n in range(2):
        ws = ApiGatewayRequests(client, api_id=gateway_api_id(), client_ip=f"198.51.100.{n}")
        assert ws.connect(token=ws.issue_token(user)).status_code == 200
    response = client.post("/ws-token/")
    status, body = refusal(response)
    assert (status, body["reason"]) == (429, "rate_limited")
    assert 55 <= body["retry_after"] <= 60
    assert response["Retry-After"] == str(body["retry_after"])
    assert WebSocketToken.objects.filter(used=False).count() == 0


def test_consume_once(user):
    raw = issue_token(user, "session-1").token
    first = consume_token(raw, "session-1", 60)
    assert first is not None
    assert (first.user_id, len(first.auth_hash)) == (user.pk, 64)
    assert consume_token(raw, "session-1", 60) is None


def test_consume_checks_session_and_age(user):
    raw = issue_token(user, "session-1").token
    assert consume_token(raw, "session-2", 60) is None
    WebSocketToken.objects.update(created_at=timezone.now() - timedelta(seconds=61))
    assert consume_token(raw, "session-1", 60) is None
    assert consume_token(raw, "session-1", 120) is not None


@pytest.mark.parametrize("value", [None, 12, "", "g" * 64, "a" * 63, "A" * 64])
def test_malformed_token_values_are_refused_without_a_query(user, value, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert consume_token(value, "session-1", 60) is None


def test_stored_hash_is_not_a_usable_token(user):
    issue_token(user, "session-1")
    stored = WebSocketToken.objects.get().token
    assert consume_token(stored, "session-1", 60) is None


def test_fallback_secret_keys_are_accepted(user, settings):
    raw = issue_token(user, "session-1").token
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "rotated-secret-key-for-tests-0123456789-abcdefgh"
    assert consume_token(raw, "session-1", 60) is not None


def test_compat_model_methods(user):
    row = WebSocketToken.generate_token(user, "session-9")
    assert WebSocketToken.validate_and_consume(row.token, "session-9") == user
    assert WebSocketToken.validate_and_consume(row.token, "session-9") is None
    assert consume_token_user("0" * 64, "session-9") is None


def test_cleanup_deletes_old_tokens(user):
    issue_token(user, "old")
    issue_token(user, "new")
    WebSocketToken.objects.filter(session_key=hash_session_key("old")).update(
        created_at=timezone.now() - timedelta(seconds=600)
    )
    assert delete_tokens_older_than(300)[0] == 1
    assert WebSocketToken.cleanup_expired(300)[0] == 0
    assert WebSocketToken.objects.count() == 1


def gateway_api_id() -> str:
    return ApiGateway.objects.get_or_create(api_name="tokens", api_id="tokenapi01")[0].api_id
