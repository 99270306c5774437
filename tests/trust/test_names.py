"""API ids, stage names and domain names are AWS names: refused by ``clean()`` and again
before a Management API URL is built, so a crafted value never sends anything."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from unittest.mock import patch

import pytest
from django.core.exceptions import ValidationError

from django_aws_api_gateway_websockets.messaging.endpoint import management_endpoint
from django_aws_api_gateway_websockets.models import ApiGateway, WebSocketSession


@pytest.fixture
def listener() -> Iterator[tuple[int, list[socket.socket]]]:
    """A TCP server on 127.0.0.1 that counts the connections made to it."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], accepted
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    server.close()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("api_id", "127.0.0.1:18150/#"),
        ("api_id", "-abc123"),
        ("api_id", "abc.evil.com"),
        ("stage_name", "prod/../x"),
        ("stage_name", "prod?x=1"),
        ("domain_name", "evil.com/#"),
    ],
)
def test_clean_refuses_names_aws_would_not_give(db, field, value):
    gateway = ApiGateway(api_name="names", **{field: value})
    with pytest.raises(ValidationError) as refused:
        gateway.full_clean()
    assert field in refused.value.message_dict


def test_aws_names_pass(db):
    ApiGateway(
        api_name="names", api_id="a1b2c3d4e5", stage_name="prod_v-2", domain_name="ws.example.com"
    ).full_clean()


@pytest.mark.parametrize("api_id", ["ABC123", "APIGateway-1", "A1"])
def test_api_ids_4_1_0_accepted_still_pass(db, api_id):
    """4.1.0 saved any API id (its own tests register ``APIGateway-1``); one host label
    adds no host, port or path to a URL, so such ids are still accepted."""
    ApiGateway.objects.create(api_name="names", api_id=api_id)
    assert management_endpoint(ApiGateway(api_id=api_id, stage_name="prod")).startswith(
        f"https://{api_id}.execute-api."
    )


def test_a_gateway_without_an_api_id_sends_through_a_replaced_factory(db):
    """4.1.0's tests register gateways with no API id and replace the client factory;
    a blank id names no host, so the send reaches the replaced client."""
    gateway = ApiGateway.objects.create(api_name="names", api_id="", stage_name="prod")
    session = WebSocketSession.objects.create(connection_id="conn=", api_gateway=gateway)
    with patch("django_aws_api_gateway_websockets.models.get_boto3_client") as factory:
        session.send_message({"hello": "world"})
    factory.return_value.post_to_connection.assert_called_once_with(
        Data='{"hello": "world"}', ConnectionId="conn="
    )


def test_a_crafted_api_id_in_the_database_sends_nothing(db, listener):
    port, accepted = listener
    gateway = ApiGateway.objects.create(api_name="names", api_id="abc123", stage_name="prod")
    # Written past clean(), as a raw UPDATE or an old row would be.
    ApiGateway.objects.filter(pk=gateway.pk).update(api_id=f"127.0.0.1:{port}/#")
    session = WebSocketSession.objects.create(connection_id="conn=", api_gateway=gateway)
    session = WebSocketSession.objects.select_related("api_gateway").get(pk=session.pk)

    with pytest.raises(ValueError, match="invalid API id"):
        session.send_message({"secret": "body"})
    with pytest.raises(ValueError, match="invalid API id"):
        WebSocketSession.objects.all().send_message({"secret": "body"})
    assert accepted == []


def test_a_crafted_stage_is_refused_even_with_a_local_endpoint(db, settings):
    settings.WEBSOCKETS = {"management_endpoint_url": "http://127.0.0.1:9/{stage}"}
    gateway = ApiGateway(api_name="names", api_id="", stage_name="x/../../evil")
    with pytest.raises(ValueError, match="invalid API id or stage"):
        management_endpoint(gateway)
    gateway.stage_name = "local"
    assert management_endpoint(gateway) == "http://127.0.0.1:9/local"
