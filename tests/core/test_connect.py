"""$connect: every refusal's status and body, and what a refusal leaves behind."""

from __future__ import annotations

import pytest
from django.test import Client

from django_aws_api_gateway_websockets.models import (
    ChannelPermission,
    RateLimitCounter,
    WebSocketSession,
    WebSocketToken,
)
from django_aws_api_gateway_websockets.testing import ApiGatewayRequests
from tests.testapp.views import ChatView

SECRET = "s" * 40


def assert_refused(response, status: int, body: str) -> None:
    assert (response.status_code, response.content.decode()) == (status, body)
    assert not WebSocketSession.objects.exists()


def test_connect_with_token_opens_a_session(ws, user, gateway):
    token = ws.issue_token(user)
    response = ws.connect(token=token, channel="general")
    assert (response.status_code, response.json()) == (200, {})
    session = WebSocketSession.objects.get()
    assert (session.connection_id, session.channel_name) == (ws.connection_id, "general")
    assert (session.user, session.api_gateway, session.connected) == (user, gateway, True)
    assert len(session.session_key_hash) == 64
    assert session.auth_hash
    assert WebSocketToken.objects.get().used


def test_token_is_single_use(ws, user):
    token = ws.issue_token(user)
    assert ws.connect(token=token).status_code == 200
    again = ApiGatewayRequests(ws.client, api_id=ws.api_id)
    response = again.connect(token=token)
    assert (response.status_code, response.content) == (400, b"Invalid or expired token")
    assert WebSocketSession.objects.count() == 1


@pytest.mark.parametrize("token", [None, "", "0" * 64, "not-hex", "A" * 64])
def test_missing_or_unknown_token(ws, user, token):
    ws.login(user)
    assert_refused(ws.connect(token=token), 400, "Invalid or expired token")


def test_connect_without_session_cookie(ws, user):
    assert_refused(ws.connect(token="0" * 64), 400, "Invalid session")


def test_token_bound_to_another_session_is_refused(ws, user):
    token = ws.issue_token(user)
    other = ApiGatewayRequests(Client(), api_id=ws.api_id)
    other.login(user)
    assert_refused(other.connect(token=token), 400, "Invalid or expired token")
    assert not WebSocketToken.objects.get().used


def test_expired_token_is_refused(ws, user, settings):
    settings.WEBSOCKETS = {"token_expiry_seconds": 5}
    token = ws.issue_token(user)
    WebSocketToken.objects.update(
        created_at=WebSocketToken.objects.get().created_at.replace(year=2020)
    )
    assert_refused(ws.connect(token=token), 400, "Invalid or expired token")


def test_gateway_secret(open_ws, settings, django_assert_num_queries):
    settings.WEBSOCKETS = {"gateway_secret": [SECRET, "t" * 40]}
    with django_assert_num_queries(0):
        missing = open_ws.connect(headers={"X-Ws-Gateway-Secret": None})
        wrong = open_ws.connect(headers={"X-Ws-Gateway-Secret": "x" * 40})
    assert_refused(missing, 403, "Invalid request")
    assert_refused(wrong, 403, "Invalid request")
    # Any configured secret is accepted (rotation).
    assert open_ws.connect(headers={"X-Ws-Gateway-Secret": "t" * 40}).status_code == 200


def test_builder_sends_the_configured_secret(open_ws, settings):
    settings.WEBSOCKETS = {"gateway_secret": SECRET}
    assert open_ws.connect().status_code == 200


def test_unknown_api_id(client, gateway):
    ws = ApiGatewayRequests(client, path="/ws-open/", api_id="unknown")
    assert_refused(ws.connect(), 400, "Invalid request headers")


def test_view_pinned_to_an_api_id(client, gateway, monkeypatch):
    monkeypatch.setattr(ChatView, "aws_api_gateway_id", "pinned")
    monkeypatch.setattr(ChatView, "USE_WS_TOKEN", False)
    assert_refused(
        ApiGatewayRequests(client, api_id=gateway.api_id).connect(), 400, "Invalid request headers"
    )
    # No ApiGateway row is needed for a pinned id.
    assert ApiGatewayRequests(client, api_id="pinned").connect().status_code == 200
    assert WebSocketSession.objects.get().api_gateway is None


@pytest.mark.parametrize(
    "header", ["Host", "X-Forwarded-For", "Content-Length", "Connectionid", "User-Agent"]
)
def test_missing_integration_header(open_ws, header):
    assert_refused(open_ws.connect(headers={header: None}), 400, "Invalid request headers")


def test_missing_handshake_headers(open_ws):
    response = open_ws.connect(headers={"Sec-WebSocket-Key": None, "Sec-WebSocket-Version": None})
    assert_refused(response, 400, "Missing 2 headers")


def test_non_browser_client_without_origin_cookie_or_extensions(open_ws):
    open_ws.origin = None
    response = open_ws.connect(headers={"Sec-WebSocket-Extensions": None})
    assert response.status_code == 200
    assert WebSocketSession.objects.get().user is None


@pytest.mark.parametrize(
    ("allowed", "status"), [(["*"], 200), ([".example.com"], 200), (["other.org"], 400)]
)
def test_allowed_hosts_use_djangos_rules(client, gateway, settings, allowed, status):
    settings.ALLOWED_HOSTS = allowed
    ws = ApiGatewayRequests(
        client,
        path="/ws-open/",
        api_id=gateway.api_id,
        host="api.example.com",
        origin="https://api.example.com",
    )
    response = ws.connect()
    assert response.status_code == status
    assert b"other.org" not in response.content  # the list is never echoed


def test_origin_must_match_the_backend_host(open_ws):
    open_ws.origin = "https://evil.test"
    assert_refused(open_ws.connect(), 400, "Host is not in Origin")


def test_allowed_origins_setting(open_ws, settings):
    settings.WEBSOCKETS = {"allowed_origins": ["https://app.example.org"]}
    open_ws.origin = "https://testserver"
    assert_refused(open_ws.connect(), 400, "Host is not in Origin")
    open_ws.origin = "https://app.example.org"
    assert open_ws.connect().status_code == 200


@pytest.mark.parametrize("channel", ["has space", "x" * 129, "semi;colon"])
def test_invalid_channel(open_ws, channel):
    assert_refused(open_ws.connect(channel=channel), 400, "Invalid channel")


def test_gateway_default_channel(open_ws, gateway):
    gateway.default_channel_name = "lobby"
    gateway.save(update_fields=["default_channel_name"])  # also clears the gateway cache
    assert open_ws.connect().status_code == 200
    assert WebSocketSession.objects.get().channel_name == "lobby"


def test_invalid_gateway_default_channel_is_refused(open_ws, gateway):
    gateway.default_channel_name = "not valid"
    gateway.save(update_fields=["default_channel_name"])
    assert_refused(open_ws.connect(), 400, "Invalid channel")


def test_duplicate_connection_id_is_409_and_keeps_the_token(ws, user):
    assert ws.connect(token=ws.issue_token(user)).status_code == 200
    token = ws.issue_token(user)
    response = ws.connect(token=token)
    assert (response.status_code, response.content) == (409, b"Duplicate connection ID")
    assert WebSocketSession.objects.count() == 1
    assert WebSocketToken.objects.filter(used=False).count() == 1
    fresh = ApiGatewayRequests(ws.client, api_id=ws.api_id)
    assert fresh.connect(token=token).status_code == 200


def test_channel_refusal_keeps_the_token(ws, user):
    ChannelPermission.objects.create(
        channel_name="staff", access=ChannelPermission.Access.STAFF_ONLY
    )
    token = ws.issue_token(user)
    assert_refused(ws.connect(token=token, channel="staff"), 403, "Permission Denied")
    assert not WebSocketToken.objects.get().used
    # The attempt passed the limit, so it counts (as in 4.1.0): probing a protected
    # channel is limited like connecting.
    assert [row.admitted for row in RateLimitCounter.objects.all()] == [1, 1]
    assert ws.connect(token=token, channel="general").status_code == 200


def test_hook_refusal(client, gateway):
    ws = ApiGatewayRequests(client, path="/ws-hooked/", api_id=gateway.api_id)
    assert_refused(ws.connect(query={"refuse": "1"}), 400, "Refused by hook")
    assert ws.connect().status_code == 200


def test_connect_user_agent_check(open_ws, monkeypatch):
    from tests.testapp.views import OpenView

    monkeypatch.setattr(OpenView, "CHECK_CONNECT_USERAGENT", True)
    assert_refused(open_ws.connect(), 400, "Unexpected Useragent")
    open_ws.user_agent = f"AmazonAPIGateway_{open_ws.api_id}"
    assert open_ws.connect().status_code == 200


def test_permissions_on_connect(client, gateway, user, monkeypatch):
    from django.contrib.auth.models import Permission

    from tests.testapp.views import StaffView

    monkeypatch.setattr(StaffView, "CHECK_PERMISSIONS_ON_CONNECT", True)
    ws = ApiGatewayRequests(client, path="/ws-staff/", api_id=gateway.api_id)
    ws.login(user)
    assert_refused(ws.connect(), 403, "Permission Denied")
    user.user_permissions.add(Permission.objects.get(codename="change_user"))
    assert ws.connect().status_code == 200


def test_unknown_method_is_405(open_ws):
    response = open_ws.client.generic(
        "BREW",
        "/ws-open/connect",
        b"",
        headers={**open_ws.integration_headers(), "Content-Length": "0"},
    )
    assert response.status_code == 405


def test_hooks_can_read_the_client_ip(client, gateway, monkeypatch):
    from tests.testapp.views import HookedView

    seen = []

    def hook(self, request, *args, **kwargs):
        seen.append(self._get_client_ip(request))
        return True, ""

    monkeypatch.setattr(HookedView, "_additional_connection_checks", hook)
    ws = ApiGatewayRequests(
        client, path="/ws-hooked/", api_id=gateway.api_id, client_ip="6.6.6.6, 198.51.100.4"
    )
    assert ws.connect().status_code == 200
    assert seen == ["198.51.100.4"]
