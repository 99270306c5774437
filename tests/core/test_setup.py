"""Django's way to unit-test a class-based view: ``view.setup(request, ...)``, then call
a handler or a hook directly. The view must hand them what dispatch would."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import AnonymousUser

from django_aws_api_gateway_websockets.models import WebSocketSession
from django_aws_api_gateway_websockets.testing import ApiGatewayRequests
from tests.testapp.views import CALLS, ChatView, OpenView


def _message_request(rf, ws: ApiGatewayRequests, body: dict, route: str = "default"):
    raw = json.dumps(body).encode()
    headers = {**ws.integration_headers(), "Content-Length": str(len(raw))}
    return rf.generic("POST", f"/ws/{route}", raw, content_type="application/json", headers=headers)


@pytest.fixture
def session(gateway, user, open_ws) -> WebSocketSession:
    return WebSocketSession.objects.create(
        connection_id=open_ws.connection_id, channel_name="lobby", api_gateway=gateway, user=user
    )


def test_a_handler_called_after_setup_sees_event_body_gateway_and_session(
    rf, open_ws, session, gateway, django_assert_num_queries
):
    request = _message_request(rf, open_ws, {"handler": "chat", "text": "hi"})
    request.user = session.user
    view = ChatView()
    view.setup(request, route="default")

    assert view.body == {"handler": "chat", "text": "hi"}
    assert view.event.connection_id == open_ws.connection_id
    assert view.api_gateway == gateway
    with django_assert_num_queries(1):  # loaded on first read, once
        assert view.websocket_session.pk == session.pk
        assert view.websocket_session.user == session.user
    response = view.chat(request, route="default")
    assert json.loads(response.content) == {"user": "alice", "channel": "lobby"}
    assert CALLS == [("ChatView", "chat", {"handler": "chat", "text": "hi"})]


def test_a_hook_called_after_setup_moves_the_session(rf, open_ws, session):
    request = _message_request(rf, open_ws, {"handler": "change_channel", "channel": "news"})
    request.user = AnonymousUser()
    view = ChatView()
    view.setup(request, route="default")

    assert view.change_channel(request) is None
    session.refresh_from_db()
    assert session.channel_name == "news"


def test_without_an_open_session_the_session_is_none(rf, open_ws, gateway):
    view = OpenView()
    view.setup(_message_request(rf, open_ws, {"handler": "default"}), route="default")
    assert view.websocket_session is None
    assert view.body == {"handler": "default"}


def test_a_session_given_to_the_constructor_is_kept(rf, open_ws, session, gateway):
    given = WebSocketSession(connection_id="given", api_gateway=gateway)
    view = OpenView(websocket_session=given)
    view.setup(_message_request(rf, open_ws, {"handler": "default"}), route="default")
    assert view.websocket_session is given


def _set_up_connect(rf, ws: ApiGatewayRequests):
    """A ``$connect`` to ``?channel=news`` and an OpenView set up with it."""
    headers = {**ws.integration_headers(), **ws.handshake_headers()}
    request = rf.post("/ws/connect?channel=news", headers=headers, content_type="")
    request.META["CONTENT_LENGTH"] = "0"
    view = OpenView()
    view.setup(request, route="connect")
    return request, view


def test_connect_route_after_setup_has_the_event_and_no_session(rf, open_ws, gateway):
    request, view = _set_up_connect(rf, open_ws)
    assert view.event.channel == "news"
    assert view.api_gateway == gateway
    assert view.websocket_session is False  # as 4.1.0: set once connect has run
    assert view.can_join_channel(request, view.event.channel)


def test_setup_then_dispatch_answers_like_the_client(rf, open_ws, session):
    request = _message_request(rf, open_ws, {"handler": "chat"})
    view = ChatView()
    view.setup(request, route="default")
    response = view.dispatch(request, route="default")
    assert response.status_code == 200
    assert json.loads(response.content) == {"user": "alice", "channel": "lobby"}


def test_a_refused_request_is_refused_by_dispatch_after_setup(rf, open_ws, session):
    request = _message_request(rf, open_ws, {"handler": "chat"})
    del request.META["HTTP_X_AMZN_APIGATEWAY_API_ID"]
    view = ChatView()
    view.setup(request, route="default")
    assert not hasattr(view, "event")
    response = view.dispatch(request, route="default")
    assert (response.status_code, response.content) == (400, b"Invalid request headers")
    assert CALLS == []


@pytest.mark.parametrize(
    ("raw", "body", "line"),
    [
        (b'{"handler": "chat"}', {"handler": "chat"}, None),
        (b"{not json", {}, "Body is invalid JSON"),
        (b"[1, 2]", {}, "Body is not a JSON object"),
        (b"x" * (OpenView.MAX_BODY_SIZE + 1), {}, "Request body too large"),
    ],
)
def test_setup_of_a_refused_request_reads_the_body_as_4_1_0(rf, open_ws, raw, body, line):
    """A unit test may call a handler after ``setup()`` of a bare request; dispatch
    still refuses it, and the ``missing_headers`` hook runs there, not in setup."""
    request = rf.generic("POST", "/ws/default", raw, content_type="application/json")
    view = ChatView(debug=True)
    view.setup(request, route="default")
    assert view.body == body
    assert view.debug_log == ["Within setup", *([line] if line else []), "Setup completed"]
    response = view.dispatch(request, route="default")
    assert (response.status_code, response.content) == (400, b"Invalid request headers")
    assert view.debug_log[-1].startswith("Expected headers")
    assert CALLS == []


def test_setup_of_a_request_without_the_gateway_secret_leaves_its_body_unread(
    rf, open_ws, settings
):
    settings.WEBSOCKETS = {"gateway_secret": "s" * 32}
    request = _message_request(rf, open_ws, {"handler": "chat"})
    del request.META["HTTP_X_WS_GATEWAY_SECRET"]  # a forged call: not from API Gateway
    view = ChatView()
    view.setup(request, route="default")
    assert view.body == {}
    assert view.dispatch(request, route="default").status_code == 403


def test_dispatch_without_setup_reads_the_request_itself(rf, open_ws, session):
    request = _message_request(rf, open_ws, {"handler": "chat"})
    view = ChatView()
    view.request, view.args, view.kwargs = request, (), {"route": "default"}
    response = view.dispatch(request, route="default")
    assert response.status_code == 200
    assert view.websocket_session.pk == session.pk


def test_the_client_path_reads_the_request_once(open_ws, session, django_assert_num_queries):
    # The gateway row is cached; the one statement is the session's.
    open_ws.message({"handler": "default"})
    with django_assert_num_queries(1):
        assert open_ws.message({"handler": "default"}).status_code == 200


def test_setup_reads_only_posts(rf, open_ws, session, django_assert_num_queries):
    """API Gateway only POSTs; dispatch answers other methods without setup's work."""
    request = rf.get("/ws/default", headers=open_ws.integration_headers())
    view = ChatView()
    with django_assert_num_queries(0):
        view.setup(request, route="default")
    assert not hasattr(view, "event")


# 4.1.0's hooks read their request themselves, so its tests call them on a bare view:
# ``WebSocketView(api_gateway=gw).connect(request)``. Dispatch's own checks (gateway
# secret, common headers, the gateway lookup) are not theirs, as in 4.1.0.


def test_connect_on_a_view_never_set_up_reads_its_request(rf, open_ws, gateway):
    headers = {**open_ws.handshake_headers(), "Host": "testserver", "Connectionid": "bare-connect="}
    request = rf.post("/ws/connect?channel=news", headers=headers, content_type="")
    request.user = AnonymousUser()

    response = OpenView(api_gateway=gateway).connect(request, route="connect")

    assert response.status_code == 200
    session = WebSocketSession.objects.get(connection_id="bare-connect=")
    assert (session.channel_name, session.api_gateway, session.connected) == (
        "news",
        gateway,
        True,
    )


def test_connect_on_a_view_never_set_up_still_checks_the_connection_id(rf, open_ws, gateway):
    headers = {**open_ws.handshake_headers(), "Host": "testserver", "Connectionid": "no spaces!"}
    request = rf.post("/ws/connect", headers=headers, content_type="")

    response = OpenView(api_gateway=gateway).connect(request)

    assert (response.status_code, response.content) == (400, b"Invalid connection ID")
    assert not WebSocketSession.objects.exists()


def test_disconnect_on_a_view_never_set_up_closes_in_one_statement_and_returns_none(
    rf, open_ws, session, gateway, django_assert_num_queries
):
    request = rf.post("/ws/disconnect", headers={"Connectionid": session.connection_id})
    view = OpenView(api_gateway=gateway)

    with django_assert_num_queries(1):
        assert view.disconnect(request) is None  # dispatch answers {} for 4.1.0's None

    session.refresh_from_db()
    assert not session.connected
    unknown = rf.post("/ws/disconnect", headers={"Connectionid": "unknown"})
    assert OpenView(api_gateway=gateway).disconnect(unknown).status_code == 400


def test_a_hook_after_setup_uses_the_event_setup_read(rf, open_ws, gateway):
    request, view = _set_up_connect(rf, open_ws)
    request.META["HTTP_CONNECTIONID"] = "changed-after-setup"  # not read again

    assert view.connect(request, route="connect").status_code == 200
    assert WebSocketSession.objects.get().connection_id == open_ws.connection_id
