"""Message routes: handler selection, sessions, logins that ended, permissions, routes."""

from __future__ import annotations

import logging
from datetime import timedelta

import django
import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from django_aws_api_gateway_websockets.models import ApiGatewayAdditionalRoute, WebSocketSession
from django_aws_api_gateway_websockets.testing import ApiGatewayRequests
from tests.testapp.views import CALLS, ChatView, ChatWithExtrasView, OpenView

# Django 6.0 takes plain addresses and deprecates the (name, address) pairs 5.2 needs.
ADMINS = ["ops@example.com"] if django.VERSION >= (6, 0) else [("Ops", "ops@example.com")]


@pytest.fixture
def connected(ws, user) -> ApiGatewayRequests:
    assert ws.connect(token=ws.issue_token(user), channel="general").status_code == 200
    return ws


@pytest.fixture
def anonymous(open_ws) -> ApiGatewayRequests:
    assert open_ws.connect().status_code == 200
    return open_ws


def called() -> list[str]:
    return [name for _, name, _ in CALLS]


def test_handler_runs_with_the_session_user(connected, user):
    response = connected.message({"handler": "chat", "text": "hi"})
    assert (response.status_code, response.json()) == (200, {"user": "alice", "channel": "general"})
    assert CALLS == [("ChatView", "chat", {"handler": "chat", "text": "hi"})]


def test_falsy_handler_result_is_an_empty_json_object(connected):
    response = connected.message({"handler": "default"})
    assert (response.status_code, response.json(), called()) == (200, {}, ["default"])


def test_action_selects_a_handler(connected):
    connected.message({"action": "chat"})
    assert called() == ["chat"]


def test_explicit_handler_wins_over_action(connected):
    connected.message({"action": "chat", "handler": "default"})
    assert called() == ["default"]


def test_unknown_action_falls_back_to_default(connected):
    # action is also API Gateway's route key, so it may name no handler at all.
    connected.message({"action": "sendmessage"})
    assert called() == ["default"]


@pytest.mark.parametrize(
    "name", ["conect", "connect", "dispatch", "_open", "__init__", 7, ["chat"]]
)
def test_unknown_or_unlisted_handler_is_400_and_logged(connected, name, caplog):
    with caplog.at_level(logging.WARNING, logger="django_aws_api_gateway_websockets.views"):
        response = connected.message({"handler": name})
    assert (response.status_code, response.content) == (400, b"Unknown handler")
    assert called() == []
    assert "unknown handler" in caplog.text


def test_body_without_selection_key(connected):
    response = connected.message({"text": "hi"})
    assert (response.status_code, response.content) == (400, b"Invalid request format (1)")


@pytest.mark.parametrize(
    ("body", "status"),
    [(b"{bad", 400), (b"[1]", 400), (b"\xff", 400), (b"{}" + b" " * 200_000, 413)],
)
def test_bad_bodies(connected, body, status):
    assert connected.message(body).status_code == status
    assert called() == []


def test_inherited_handlers_are_exposed(client, gateway):
    ws = ApiGatewayRequests(client, path="/ws-extras/", api_id=gateway.api_id)
    ChatWithExtrasView.USE_WS_TOKEN = False
    try:
        assert ws.connect().status_code == 200
        ws.message({"handler": "chat"})
        ws.message({"handler": "extra"})
    finally:
        del ChatWithExtrasView.USE_WS_TOKEN
    assert called() == ["chat", "extra"]


def test_allowed_handlers_whitelist(connected, monkeypatch):
    monkeypatch.setattr(ChatView, "ALLOWED_HANDLERS", {"default"})
    assert connected.message({"handler": "chat"}).status_code == 400
    connected.message({"action": "chat"})
    assert called() == ["default"]


def test_automatic_handlers_exclude_base_names():
    assert ChatView._automatic_handlers() == {"default", "chat", "boom", "change_channel"}
    assert "reply" in OpenView._handler_whitelist()
    assert "connect" not in ChatWithExtrasView._handler_whitelist()


def test_unknown_session(ws):
    response = ws.message({"handler": "default"})
    assert (response.status_code, response.content) == (400, b"Invalid connection ID")


def test_disconnected_session_gets_no_messages(connected):
    assert connected.disconnect().status_code == 200
    assert connected.message({"handler": "default"}).status_code == 400


def test_session_of_another_gateway_is_not_found(connected, client):
    from django_aws_api_gateway_websockets.models import ApiGateway

    other = ApiGateway.objects.create(api_name="other", api_id="otherapi")
    forged = ApiGatewayRequests(client, api_id=other.api_id, connection_id=connected.connection_id)
    assert forged.message({"handler": "default"}).status_code == 400


def test_password_change_ends_the_session(connected, user):
    user.set_password("new password")
    user.save()
    response = connected.message({"handler": "chat"})
    assert (response.status_code, response.content) == (400, b"Invalid connection ID")
    assert not WebSocketSession.objects.get().connected
    assert called() == []


def test_deactivation_ends_the_session(connected, user):
    user.is_active = False
    user.save()
    assert connected.message({"handler": "chat"}).status_code == 400
    assert not WebSocketSession.objects.get().connected


def test_secret_key_rotation_keeps_sessions(connected, settings):
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-brand-new-secret-key-for-the-rotation-test-000"
    assert connected.message({"handler": "chat"}).status_code == 200


@pytest.mark.parametrize("fixture", ["connected", "anonymous"])
def test_request_count_counts_each_message(request, fixture, monkeypatch):
    ws = request.getfixturevalue(fixture)
    opened = WebSocketSession.objects.get()
    later = opened.updated_on + timedelta(seconds=90)
    monkeypatch.setattr(timezone, "now", lambda: later)
    for _ in range(5):
        assert ws.message({"handler": "default"}).status_code == 200
    session = WebSocketSession.objects.get()
    # As documented by 4.1.0: the messages sent, plus one.
    assert session.request_count == 6
    # The time of the last message (the liveness probe reads it).
    assert session.updated_on == later


def test_count_messages_off_makes_messages_read_only(connected, settings):
    settings.WEBSOCKETS = {"count_messages": False}
    opened = WebSocketSession.objects.get()
    for _ in range(3):
        assert connected.message({"handler": "chat"}).status_code == 200
    session = WebSocketSession.objects.get()
    assert (session.request_count, session.updated_on) == (1, opened.updated_on)


def test_the_handler_sees_the_counted_session(connected, monkeypatch):
    seen = []

    def default(self, request, *args, **kwargs):
        seen.append((self.websocket_session.request_count, request.user.username))

    monkeypatch.setattr(ChatView, "default", default)
    connected.message({"handler": "default"})
    connected.message({"handler": "default"})
    assert seen == [(2, "alice"), (3, "alice")]


def test_handler_exception_is_mailed_once_per_interval_and_reraised(
    connected, mailoutbox, settings, monkeypatch
):
    from django_aws_api_gateway_websockets import views

    settings.ADMINS = ADMINS
    monkeypatch.setattr(views, "_exception_mails", {})
    for _ in range(2):
        with pytest.raises(RuntimeError):
            connected.message({"handler": "boom"})
    ours = [mail.subject for mail in mailoutbox if "Websocket" in mail.subject]
    assert ours == ["[Django] Unexpected Websocket Exception"]


def test_permissions_any(client, gateway, user):
    ws = ApiGatewayRequests(client, path="/ws-staff/", api_id=gateway.api_id)
    ws.login(user)
    assert ws.connect().status_code == 200
    response = ws.message({"handler": "default"})
    assert (response.status_code, response.content) == (403, b"Permission Denied")
    user.user_permissions.add(Permission.objects.get(codename="view_user"))
    assert ws.message({"handler": "default"}).status_code == 200


def test_permissions_all(client, gateway, user):
    ws = ApiGatewayRequests(client, path="/ws-allperms/", api_id=gateway.api_id)
    ws.login(user)
    assert ws.connect().status_code == 200
    user.user_permissions.add(Permission.objects.get(codename="view_user"))
    assert ws.message({"handler": "default"}).status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="change_user"))
    assert ws.message({"handler": "default"}).status_code == 200


def test_anonymous_fails_permission_lists(client, gateway):
    ws = ApiGatewayRequests(client, path="/ws-staff/", api_id=gateway.api_id)
    assert ws.connect().status_code == 200
    assert ws.message({"handler": "default"}).status_code == 403


def test_unknown_route_is_404(anonymous):
    response = anonymous.message({"handler": "default"}, route="nosuchroute")
    assert (response.status_code, response.content) == (404, b"Unknown route")


def test_routes_declared_on_the_view(anonymous):
    assert anonymous.message({"handler": "default"}, route="notifications").status_code == 200


def test_a_route_named_after_a_handler_is_accepted(anonymous):
    """API Gateway selects a route by ``action``; a route key named after a handler
    reaches the view at that slug, as in 4.1.0."""
    assert anonymous.message({"handler": "default"}, route="reply").status_code == 200
    assert called() == ["default"]
    response = anonymous.message({"handler": "default"}, route="chat")  # ChatView's, not OpenView's
    assert (response.status_code, response.content) == (404, b"Unknown route")


def test_routes_of_the_gateway_are_accepted(anonymous, gateway):
    ApiGatewayAdditionalRoute.objects.bulk_create(
        [
            ApiGatewayAdditionalRoute(
                api_gateway=gateway,
                name="alerts",
                route_key="alerts",
                integration_url="https://testserver/ws-open/alert-feed",
            )
        ]
    )
    from django_aws_api_gateway_websockets import gateways

    gateways.clear_cache()  # bulk_create sends no signal
    assert anonymous.message({"handler": "default"}, route="alert-feed").status_code == 200
    assert anonymous.message({"handler": "default"}, route="alerts").status_code == 200


def test_disconnect_closes_and_reports_unknown(anonymous):
    response = anonymous.disconnect()
    assert (response.status_code, response.json()) == (200, {})
    assert not WebSocketSession.objects.get().connected
    other = ApiGatewayRequests(anonymous.client, path="/ws-open/", api_id=anonymous.api_id)
    response = other.disconnect()
    assert (response.status_code, response.content) == (400, b"Invalid connection ID")


def test_disconnect_returns_the_closed_row(anonymous, rf):
    from django_aws_api_gateway_websockets.sessions import close_session

    session = close_session(anonymous.connection_id, WebSocketSession.objects.get().api_gateway)
    assert session.connection_id == anonymous.connection_id
    assert session.connected is False
    assert session.created_on == WebSocketSession.objects.get().created_on


def test_a_failing_mail_server_does_not_hide_the_handler_exception(
    connected, settings, monkeypatch, caplog
):
    from django_aws_api_gateway_websockets import views

    def unreachable_mail_server(*args, **kwargs):
        raise ConnectionRefusedError("no mail server")

    settings.ADMINS = ADMINS
    # `views.mail_admins` is the name the original's users patch; Django's own request
    # logging keeps using the real one.
    monkeypatch.setattr(views, "mail_admins", unreachable_mail_server)
    monkeypatch.setattr(views, "_exception_mails", {})
    with pytest.raises(RuntimeError, match="handler failed"):
        connected.message({"handler": "boom"})
    assert "Could not mail the admins" in caplog.text
