"""$connect admits only a login that is still valid, only over POST, and a failure of the
server undoes what the connect did (and never mails the token)."""

from __future__ import annotations

from datetime import timedelta

import django
import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_aws_api_gateway_websockets import admission
from django_aws_api_gateway_websockets.models import (
    ApiGateway,
    ChannelPermission,
    RateLimitCounter,
    WebSocketSession,
    WebSocketToken,
)
from django_aws_api_gateway_websockets.testing import ApiGatewayRequests
from django_aws_api_gateway_websockets.tokens import issue_token
from tests.testapp.views import CALLS, HookedView

ADMINS = ["ops@example.com"] if django.VERSION >= (6, 0) else [("Ops", "ops@example.com")]


def session_key(ws: ApiGatewayRequests) -> str:
    return ws.client.cookies[django_settings.SESSION_COOKIE_NAME].value


def assert_refused_login(response) -> None:
    assert (response.status_code, response.content) == (400, b"Invalid session")
    assert not WebSocketSession.objects.exists()


# -- the login behind the token ------------------------------------------------------


def test_a_token_minted_before_logout_does_not_connect(ws, user):
    token = ws.issue_token(user)
    SessionStore(session_key(ws)).delete()  # what logout does to the session
    assert_refused_login(ws.connect(token=token))


def test_a_token_minted_before_a_password_change_does_not_connect(ws, user):
    token = ws.issue_token(user)
    # A queryset update sends no signal, so revocation does not spend the token first:
    # this is the check at connect on its own.
    user.set_password("a-new-password")
    type(user).objects.filter(pk=user.pk).update(password=user.password)
    assert_refused_login(ws.connect(token=token))


def test_a_deactivated_users_token_does_not_connect(ws, user):
    token = ws.issue_token(user)
    type(user).objects.filter(pk=user.pk).update(is_active=False)  # no signal, see above
    assert_refused_login(ws.connect(token=token))


def test_a_token_bound_to_another_users_session_does_not_connect(ws, user, django_user_model):
    bob = django_user_model.objects.create_user("bob", password="pw-bob")
    ws.login(bob)
    token = issue_token(user, session_key(ws)).token
    assert_refused_login(ws.connect(token=token))


def test_an_expired_django_session_does_not_connect(ws, user):
    """The statement that spends the token reads the session as Django's store would:
    only while it has not expired."""
    token = ws.issue_token(user)
    Session.objects.filter(session_key=session_key(ws)).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    assert_refused_login(ws.connect(token=token))


@pytest.mark.parametrize(
    "engine",
    [
        "django.contrib.sessions.backends.cached_db",
        "django.contrib.sessions.backends.cache",
        "django.contrib.sessions.backends.signed_cookies",
    ],
)
def test_other_session_stores_load_their_own_session(
    client, gateway, user, settings, django_user_model, engine
):
    settings.SESSION_ENGINE = engine
    ws = ApiGatewayRequests(client, path="/ws/", api_id=gateway.api_id)
    assert ws.connect(token=ws.issue_token(user)).status_code == 200
    bob = django_user_model.objects.create_user("bob", password="pw-bob")
    other = ApiGatewayRequests(client, path="/ws/", api_id=gateway.api_id)
    other.login(bob)
    assert other.connect(token=issue_token(user, session_key(other)).token).status_code == 400


def test_a_session_from_another_backend_is_refused(ws, user, settings):
    token = ws.issue_token(user)
    settings.AUTHENTICATION_BACKENDS = ["tests.no.such.Backend"]
    assert_refused_login(ws.connect(token=token))


def test_rotated_secret_key_keeps_the_login(ws, user, settings):
    token = ws.issue_token(user)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-brand-new-secret-key-for-the-rotation-test-000"
    assert ws.connect(token=token).status_code == 200


def test_a_refused_login_does_not_count(ws, user, settings):
    settings.WEBSOCKETS = {"rate_limit_max_attempts": 1}
    token = ws.issue_token(user)
    user.is_active = False
    user.save()
    assert ws.connect(token=token).status_code == 400
    assert not RateLimitCounter.objects.exclude(hits="").exists()


def test_login_is_current_without_a_session():
    assert not admission.login_is_current(None, object())


# -- only POST -----------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"])
def test_connect_answers_405_to_anything_but_post(ws, user, method):
    token = ws.issue_token(user)
    headers = {**ws.integration_headers(), **ws.handshake_headers()}
    response = ws.client.generic(method, f"/ws/connect?ws_token={token}", headers=headers)
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert not WebSocketSession.objects.exists()
    assert not WebSocketToken.objects.get().used
    assert not RateLimitCounter.objects.exists()


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("route", ["default", "disconnect"])
def test_messages_and_disconnects_answer_405_to_anything_but_post(ws, user, method, route):
    assert ws.connect(token=ws.issue_token(user)).status_code == 200
    before = WebSocketSession.objects.values_list("connected", "request_count", "updated_on")
    expected = list(before)
    response = ws.client.generic(
        method,
        f"/ws/{route}",
        b'{"handler": "default"}',
        content_type="application/json",
        headers=ws.integration_headers(),
    )
    assert response.status_code == 405
    assert list(before.all()) == expected
    assert CALLS == []


# -- forwarded addresses ---------------------------------------------------------------


@pytest.mark.parametrize(
    "forwarded",
    [
        "fe80::1%" + "a" * 300,
        "fe80::1%eth0",
        "1" * 1000,
        "2001:db8::1/64",
    ],
)
def test_forwarded_addresses_must_be_storable(open_ws, forwarded):
    open_ws.client_ip = forwarded
    response = open_ws.connect()
    assert (response.status_code, response.content) == (400, b"Invalid request headers")
    assert not WebSocketSession.objects.exists()
    assert not RateLimitCounter.objects.exists()


# -- a failing server ------------------------------------------------------------------


@pytest.fixture
def failing_client(ws) -> ApiGatewayRequests:
    """``ws`` with a client that answers 500 instead of raising."""
    ws.client = Client(raise_request_exception=False)
    return ws


def test_an_exception_during_connect_undoes_token_and_count(
    failing_client, user, monkeypatch, settings, mailoutbox
):
    settings.ADMINS = ADMINS
    ws = failing_client
    token = ws.issue_token(user)

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(admission, "open_session", broken)
    response = ws.connect(token=token, channel="general")
    assert response.status_code == 500
    assert not WebSocketToken.objects.get().used
    assert not RateLimitCounter.objects.exclude(hits="").exists()
    # The error mail names the request but never the token.
    assert mailoutbox, "Django mails the admins about a 500"
    for mail in mailoutbox:
        text = mail.body + "".join(str(part[0]) for part in mail.alternatives)
        assert token not in text
        assert "ws_token" in text  # the parameter is there, redacted
    monkeypatch.undo()
    assert ws.connect(token=token, channel="general").status_code == 200


def test_an_exception_in_a_hook_undoes_token_and_count(client, gateway, monkeypatch):
    ws = ApiGatewayRequests(
        Client(raise_request_exception=False), path="/ws-hooked/", api_id=gateway.api_id
    )

    def hook(self, request, *args, **kwargs):
        raise ValueError("hook failed")

    monkeypatch.setattr(HookedView, "_additional_connection_checks", hook)
    assert ws.connect().status_code == 500
    assert not RateLimitCounter.objects.exclude(hits="").exists()


def test_a_duplicate_connection_id_gives_the_count_back(ws, user, settings):
    settings.WEBSOCKETS = {"rate_limit_max_attempts": 2}
    assert ws.connect(token=ws.issue_token(user)).status_code == 200
    assert ws.connect(token=ws.issue_token(user)).status_code == 409
    other = ApiGatewayRequests(ws.client, api_id=ws.api_id)
    assert other.connect(token=other.issue_token(user)).status_code == 200


def test_handlers_see_no_token_in_the_request(client, gateway, monkeypatch):
    seen = []

    def hook(self, request, *args, **kwargs):
        seen.append((request.GET.get("ws_token"), request.META["QUERY_STRING"]))
        return True, ""

    monkeypatch.setattr(HookedView, "_additional_connection_checks", hook)
    ws = ApiGatewayRequests(client, path="/ws-hooked/", api_id=gateway.api_id)
    assert ws.connect(query={"ws_token": "a" * 64, "keep": "1"}).status_code == 200
    assert seen == [("[redacted]", "ws_token=[redacted]&keep=1")]


# -- how the connect's transaction ends, with real commits and rollbacks ----------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("atomic_requests", [False, True])
def test_committed_outcomes_of_refusals_and_failures(client, monkeypatch, atomic_requests):
    """Outside a test transaction, as in production: a refused channel or hook keeps the
    count and gives the token back; a duplicate id and an exception give both back. With
    ``ATOMIC_REQUESTS`` the connect's transaction is a savepoint of the request's."""
    monkeypatch.setitem(connection.settings_dict, "ATOMIC_REQUESTS", atomic_requests)
    gateway = ApiGateway.objects.create(api_name="tx", api_id="txapi00001")
    user = get_user_model().objects.create_user("tx", password="pw")
    ChannelPermission.objects.create(
        channel_name="staff", access=ChannelPermission.Access.STAFF_ONLY
    )
    ws = ApiGatewayRequests(client, path="/ws/", api_id=gateway.api_id)

    def admitted() -> list[int]:
        return sorted(row.admitted for row in RateLimitCounter.objects.all())

    token = ws.issue_token(user)
    with CaptureQueriesContext(connection) as sent:
        assert ws.connect(token=token, channel="staff").status_code == 403
    savepoints = [query for query in sent.captured_queries if "SAVEPOINT" in query["sql"]]
    assert bool(savepoints) == atomic_requests
    assert not WebSocketToken.objects.get().used
    assert admitted() == [1, 1]
    assert ws.connect(token=token, channel="general").status_code == 200
    assert admitted() == [2, 2]

    duplicate = ws.issue_token(user)
    assert ws.connect(token=duplicate).status_code == 409
    assert WebSocketToken.objects.filter(used=False).count() == 1
    assert admitted() == [2, 2]

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    working = admission.open_session
    monkeypatch.setattr(admission, "open_session", broken)
    ws.client.raise_request_exception = False
    fresh = ApiGatewayRequests(ws.client, path="/ws/", api_id=gateway.api_id)
    assert fresh.connect(token=duplicate).status_code == 500
    assert WebSocketToken.objects.filter(used=False).count() == 1
    assert admitted() == [2, 2]
    monkeypatch.setattr(admission, "open_session", working)

    hooked = ApiGatewayRequests(client, path="/ws-hooked/", api_id=gateway.api_id)
    assert hooked.connect(query={"refuse": "1"}).status_code == 400
    assert admitted() == [3, 3]  # the same IP and logged-in user, so the same keys
    assert WebSocketSession.objects.count() == 1
