"""The token endpoint and the token service: hashed, single-use, session-bound."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone

from django_aws_api_gateway_websockets.hashing import hash_session_key
from django_aws_api_gateway_websockets.models import WebSocketToken
from django_aws_api_gateway_websockets.tokens import (
    consume_token,
    consume_token_user,
    delete_tokens_older_than,
    issue_token,
)


def test_token_view_requires_login(client, db):
    response = client.post("/ws-token/")
    assert (response.status_code, response.content) == (403, b"Authentication required")
    assert not WebSocketToken.objects.exists()


def test_token_view_only_answers_post(client, user):
    client.force_login(user)
    assert client.get("/ws-token/").status_code == 405


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


def test_token_view_rate_limit(client, user, settings):
    settings.WEBSOCKETS = {"token_rate_limit_per_minute": 3}
    client.force_login(user)
    statuses = [client.post("/ws-token/").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 403, 403]
    assert client.post("/ws-token/").content == b"Rate limit exceeded"
    assert WebSocketToken.objects.count() == 3


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
