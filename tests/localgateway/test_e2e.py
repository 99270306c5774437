"""End to end: a live Django server with the package's views, the local gateway in
front of it, and real WebSocket clients. Nothing is faked: the token comes from the token
view over HTTP, Django's replies go through the messaging engine to the gateway's
Management API and on to the client."""

from __future__ import annotations

import contextlib
import json
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, override_settings
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from django_aws_api_gateway_websockets.localgateway import GatewayThread, LocalGateway
from django_aws_api_gateway_websockets.localgateway.cli import build_config, gateway_row_settings
from django_aws_api_gateway_websockets.models import (
    ApiGateway,
    ApiGatewayAdditionalRoute,
    WebSocketSession,
)
from tests.localgateway.test_command import parse

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@contextlib.contextmanager
def stack(live_server: Any, path: str, **overrides: Any) -> Iterator[LocalGateway]:
    """An ``ApiGateway`` row for the view at ``path``, a gateway configured from it as
    ``runLocalGateway --api-gateway`` would, and sending pointed at that gateway."""
    row = ApiGateway.objects.create(
        api_name=f"e2e{path.strip('/')}",
        api_id="e2eapi",
        stage_name="e2e",
        target_base_endpoint=f"{live_server.url}{path}",
    )
    ApiGatewayAdditionalRoute.objects.create(
        api_gateway=row,
        name="Notify",
        route_key="notify",
        integration_url=f"{live_server.url}/ws-echo/notifications",
    )
    # Strict mode: the gateway verifies Django's signatures against what Django signs with.
    options = parse(
        "--api-gateway", str(row.pk), "--route-response", "$default", "--verify-signatures"
    )
    config = replace(build_config(options, gateway_row_settings(row.pk)), **overrides)
    with GatewayThread(LocalGateway(config, port=0)) as gateway:
        endpoint = f"http://127.0.0.1:{gateway.port}/{{stage}}"
        with override_settings(
            ROOT_URLCONF="tests.localgateway.views",
            WEBSOCKETS={"management_endpoint_url": endpoint},
        ):
            yield gateway


def open_socket(gateway: LocalGateway, live_server: Any, query: str = "", **kw: Any):
    return connect(f"{gateway.url}?{query}", origin=live_server.url, open_timeout=10, **kw)


def receive_json(ws: ClientConnection) -> Any:
    return json.loads(ws.recv(timeout=10))


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def session_of(ws: ClientConnection) -> WebSocketSession:
    """The one connected session (each test opens its connections one by one)."""
    wait_until(lambda: WebSocketSession.objects.filter(connected=True).exists())
    return WebSocketSession.objects.filter(connected=True).latest("pk")


def logged_in_cookie(username: str) -> str:
    user = get_user_model().objects.create_user(username, password="x")
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


def fetch_token(live_server: Any, cookie: str) -> str:
    """POST to the token view over HTTP, with the session cookie and CSRF, as a page does."""
    csrf = "c" * 32
    request = urllib.request.Request(
        f"{live_server.url}/ws-token/",
        data=b"",
        method="POST",
        headers={"Cookie": f"{cookie}; csrftoken={csrf}", "X-CSRFToken": csrf},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["token"]


def test_token_connect_message_reply_and_disconnect(live_server):
    cookie = logged_in_cookie("alice")
    with stack(live_server, "/ws/") as gateway:
        token = fetch_token(live_server, cookie)
        headers = {"Cookie": cookie}
        with open_socket(
            gateway, live_server, f"ws_token={token}&channel=room1", additional_headers=headers
        ) as ws:
            session = session_of(ws)
            assert (session.user.username, session.channel_name) == ("alice", "room1")
            ws.send(json.dumps({"action": "chat", "text": "hi"}))
            # ChatView.chat returns a JsonResponse: the $default route response brings it back.
            assert receive_json(ws) == {"user": "alice", "channel": "room1"}
        wait_until(lambda: not WebSocketSession.objects.get(pk=session.pk).connected)

        # A spent token is refused by Django; the handshake fails with Django's status.
        with pytest.raises(InvalidStatus) as replayed:
            open_socket(gateway, live_server, f"ws_token={token}", additional_headers=headers)
        assert replayed.value.response.status_code == 400
        assert b"token" in replayed.value.response.body.lower()
        assert WebSocketSession.objects.count() == 1


def test_handlers_reply_with_send_message_and_broadcasts_reach_everyone(live_server):
    with (
        stack(live_server, "/ws-open/") as gateway,
        open_socket(gateway, live_server, "channel=lobby") as first,
    ):
        wait_until(lambda: WebSocketSession.objects.filter(connected=True).count() == 1)
        with open_socket(gateway, live_server, "channel=lobby") as second:
            wait_until(lambda: WebSocketSession.objects.filter(connected=True).count() == 2)
            first.send(json.dumps({"action": "reply", "text": "ping"}))
            assert receive_json(first) == {"type": "reply", "echo": "ping"}

            result = WebSocketSession.objects.in_channel("lobby").send_message({"n": 1})
            assert receive_json(first) == {"n": 1}
            assert receive_json(second) == {"n": 1}
            assert len(list(result)) == 2


def test_an_oversized_frame_closes_with_1009_and_the_session_ends(live_server):
    with stack(live_server, "/ws-open/") as gateway, open_socket(gateway, live_server) as ws:
        session = session_of(ws)
        ws.send("x" * (32 * 1024 + 1))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
        assert closed.value.rcvd.code == 1009
        wait_until(lambda: not WebSocketSession.objects.get(pk=session.pk).connected)


def test_a_post_to_a_closed_connection_gets_410_and_marks_the_session(live_server):
    with stack(live_server, "/ws-open/", drop_disconnect=1.0) as gateway:
        with open_socket(gateway, live_server) as ws:
            session = session_of(ws)
        time.sleep(0.3)  # $disconnect was dropped: Django still believes it is open
        session.refresh_from_db()
        assert session.connected
        assert session.send_message({"late": True}) is None
        session.refresh_from_db()
        assert not session.connected


def test_a_custom_route_reaches_its_own_integration(live_server):
    with stack(live_server, "/ws-echo/") as gateway, open_socket(gateway, live_server) as ws:
        ws.send(json.dumps({"action": "notify", "n": 1}))
        assert receive_json(ws) == {"route": "notifications", "body": {"action": "notify", "n": 1}}
        ws.send(json.dumps({"action": "anything-else"}))
        assert receive_json(ws)["route"] == "default"
