"""End to end: logging out over HTTP closes the browser's socket. A live Django server,
the local gateway in front of it, a real WebSocket client; the close travels as
``DELETE @connections/{id}`` from Django to the gateway and on to the client."""

from __future__ import annotations

import http.client

import pytest
from django.test import override_settings
from websockets.exceptions import ConnectionClosed

from django_aws_api_gateway_websockets.models import WebSocketSession
from tests.localgateway.test_e2e import (
    fetch_token,
    logged_in_cookie,
    open_socket,
    session_of,
    stack,
    wait_until,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def post_logout(live_server, cookie: str) -> int:
    """POST to Django's logout view over HTTP, as the page's logout button does."""
    host, port = live_server.thread.host, live_server.thread.port
    connection = http.client.HTTPConnection(host, port, timeout=10)
    try:
        csrf = "c" * 32
        connection.request(
            "POST",
            "/logout/",
            headers={"Cookie": f"{cookie}; csrftoken={csrf}", "X-CSRFToken": csrf},
        )
        return connection.getresponse().status
    finally:
        connection.close()


def test_logout_closes_the_browsers_socket(live_server):
    cookie = logged_in_cookie("alice")
    with (
        stack(live_server, "/ws/") as gateway,
        override_settings(ROOT_URLCONF="tests.trust.urls_e2e"),
    ):
        token = fetch_token(live_server, cookie)
        with open_socket(
            gateway,
            live_server,
            f"ws_token={token}&channel=room1",
            additional_headers={"Cookie": cookie},
        ) as ws:
            session = session_of(ws)
            assert post_logout(live_server, cookie) == 302
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=10)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 1000
        session.refresh_from_db()
        assert not session.connected
        wait_until(lambda: not WebSocketSession.objects.filter(connected=True).exists())
