"""The seams 4.1.0 projects test their sends with: a replaced
``models.get_boto3_client``, moto's ``mock_aws`` and a botocore ``Stubber``. Each sees
every post of a single send, a queryset send, a send from a handler (through the view)
and a background send (the immediate task backend), with the region, stage and
credentials the settings select."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any
from unittest.mock import MagicMock, patch
from urllib.parse import quote

import pytest
from botocore.exceptions import ClientError
from botocore.stub import ANY, Stubber
from moto import mock_aws
from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends
from moto.core import DEFAULT_ACCOUNT_ID

from django_aws_api_gateway_websockets import models
from django_aws_api_gateway_websockets.aws import clear_boto3_client_cache
from django_aws_api_gateway_websockets.messaging.transport import BotoTransport, get_transport
from django_aws_api_gateway_websockets.models import ApiGateway, WebSocketSession
from django_aws_api_gateway_websockets.testing import ApiGatewayRequests

pytestmark = pytest.mark.django_db

REGION = "eu-west-2"
ENDPOINT = f"https://abc123.execute-api.{REGION}.amazonaws.com/prod"
PROFILE_KEY = "AKIDFROMPROFILE"
MESSAGE = {"type": "news", "text": "héllo"}
REPLY = {"type": "reply", "echo": "ping"}


@pytest.fixture(autouse=True)
def aws_settings(settings: Any) -> Iterator[None]:
    """Sends go to AWS's endpoint (no ``management_endpoint_url``) in the gateway region,
    which differs from the general one."""
    settings.AWS_GATEWAY_REGION_NAME = REGION
    settings.AWS_REGION_NAME = "us-west-1"
    settings.WEBSOCKETS = {}
    clear_boto3_client_cache()
    yield
    clear_boto3_client_cache()


@pytest.fixture
def profile(settings: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials from ``AWS_IAM_PROFILE``, in a credentials file of this test's own."""
    credentials = tmp_path / "credentials"
    credentials.write_text(
        f"[websockets]\naws_access_key_id = {PROFILE_KEY}\naws_secret_access_key = s3cret\n"
    )
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    settings.AWS_IAM_PROFILE = "websockets"


def _single(gateway: ApiGateway) -> tuple[list[str], dict[str, Any]]:
    session = WebSocketSession.objects.create(connection_id="one=", api_gateway=gateway)
    session.send_message(MESSAGE)
    return [session.connection_id], MESSAGE


def _queryset(gateway: ApiGateway) -> tuple[list[str], dict[str, Any]]:
    ids = [f"room{i}=" for i in range(3)]
    for cid in ids:
        WebSocketSession.objects.create(connection_id=cid, channel_name="room", api_gateway=gateway)
    WebSocketSession.objects.create(connection_id="elsewhere=", api_gateway=gateway)
    WebSocketSession.objects.filter(channel_name="room").send_message(MESSAGE)
    return ids, MESSAGE


def _in_handler(gateway: ApiGateway) -> tuple[list[str], dict[str, Any]]:
    ws = ApiGatewayRequests(path="/ws-open/", api_id=gateway.api_id, connection_id="handler=")
    assert ws.connect().status_code == 200
    assert ws.message({"handler": "reply", "text": "ping"}).status_code == 200
    return [ws.connection_id], REPLY


def _background(gateway: ApiGateway) -> tuple[list[str], dict[str, Any]]:
    ids = [f"bg{i}=" for i in range(5)]
    for cid in ids:
        WebSocketSession.objects.create(connection_id=cid, channel_name="bg", api_gateway=gateway)
    WebSocketSession.objects.filter(channel_name="bg").send_message_in_background(
        MESSAGE, batch_size=2
    )
    return ids, MESSAGE


SENDS: dict[str, Callable[[ApiGateway], tuple[list[str], dict[str, Any]]]] = {
    "single": _single,
    "queryset": _queryset,
    "in-handler": _in_handler,
    "background": _background,
}


@pytest.mark.parametrize("send", SENDS)
def test_a_patched_factory_gets_one_post_per_recipient(gateway: ApiGateway, send: str) -> None:
    client = MagicMock()
    with patch(
        "django_aws_api_gateway_websockets.models.get_boto3_client", return_value=client
    ) as factory:
        ids, message = SENDS[send](gateway)

    factory.assert_called_with("apigatewaymanagementapi", endpoint_url=ENDPOINT)
    posts = client.post_to_connection.call_args_list
    assert sorted(post.kwargs["ConnectionId"] for post in posts) == sorted(ids)
    assert {post.kwargs["Data"] for post in posts} == {json.dumps(message)}
    assert WebSocketSession.objects.filter(connected=False).count() == 0


def test_a_single_send_returns_what_the_patched_client_answered(gateway: ApiGateway) -> None:
    """As 4.1.0: ``send_message`` returns ``post_to_connection``'s answer as it is."""
    client = MagicMock()
    session = WebSocketSession.objects.create(connection_id="one=", api_gateway=gateway)
    with patch("django_aws_api_gateway_websockets.models.get_boto3_client", return_value=client):
        answer = session.send_message(MESSAGE)
    assert answer is client.post_to_connection.return_value


def test_a_queryset_send_yields_what_the_patched_client_answered(gateway: ApiGateway) -> None:
    """As 4.1.0's list: one answer per delivered message, the client's own."""
    client = MagicMock()
    client.post_to_connection.side_effect = lambda ConnectionId, Data: {"id": ConnectionId}
    for cid in ("a=", "b="):
        WebSocketSession.objects.create(connection_id=cid, channel_name="room", api_gateway=gateway)
    with patch("django_aws_api_gateway_websockets.models.get_boto3_client", return_value=client):
        result = WebSocketSession.objects.filter(channel_name="room").send_message(MESSAGE)
    assert sorted(result, key=lambda answer: answer["id"]) == [{"id": "a="}, {"id": "b="}]
    assert result[0] == {"id": result.sent[0]}


def _gone(ConnectionId: str, Data: str) -> dict[str, Any]:
    if ConnectionId.startswith(("one", "room1", "bg3")):
        raise ClientError(
            {"Error": {"Code": "GoneException"}, "ResponseMetadata": {"HTTPStatusCode": 410}},
            "PostToConnection",
        )
    return {"ResponseMetadata": {"HTTPStatusCode": 200}}


@pytest.mark.parametrize("send", ["single", "queryset", "background"])
def test_a_patched_factorys_gone_exception_marks_the_session(
    gateway: ApiGateway, send: str
) -> None:
    client = MagicMock()
    client.post_to_connection.side_effect = _gone
    with patch("django_aws_api_gateway_websockets.models.get_boto3_client", return_value=client):
        ids, _ = SENDS[send](gateway)

    gone = WebSocketSession.objects.filter(connected=False).values_list("connection_id", flat=True)
    assert len(ids) > 1 or list(gone) == ids
    assert len(gone) == 1
    assert client.post_to_connection.call_count == len(ids)


def test_a_patched_factory_sees_the_single_sends_error(gateway: ApiGateway) -> None:
    client = MagicMock()
    client.post_to_connection.side_effect = ClientError(
        {"Error": {"Code": "ForbiddenException"}, "ResponseMetadata": {"HTTPStatusCode": 403}},
        "PostToConnection",
    )
    with (
        patch("django_aws_api_gateway_websockets.models.get_boto3_client", return_value=client),
        pytest.raises(ClientError, match="ForbiddenException"),
    ):
        _single(gateway)
    client.post_to_connection.assert_called_once()


def _recorder(client: Any) -> list[Any]:
    """The requests ``client`` sends, seen before moto answers them."""
    requests: list[Any] = []
    client.meta.events.register_first(
        "before-send.apigatewaymanagementapi", lambda request, **_: requests.append(request)
    )
    return requests


@pytest.mark.parametrize("send", SENDS)
def test_mock_aws_receives_every_post(gateway: ApiGateway, profile: None, send: str) -> None:
    with mock_aws():
        # The client a 4.1.0 test would take from the factory: the one the send uses.
        requests = _recorder(
            models.get_boto3_client("apigatewaymanagementapi", endpoint_url=ENDPOINT)
        )
        ids, message = SENDS[send](gateway)
        # moto keeps the data under the id as it stands in the path, percent-encoded.
        connections = apigatewaymanagementapi_backends[DEFAULT_ACCOUNT_ID][REGION].connections
        received = {cid: json.loads(connections[quote(cid, safe="")].data) for cid in ids}
        assert received == dict.fromkeys(ids, message)

    assert len(requests) == len(ids)
    for request in requests:
        assert request.url.startswith(f"{ENDPOINT}/@connections/")
        credential = request.headers["Authorization"].decode().split("Credential=")[1]
        assert credential.startswith(f"{PROFILE_KEY}/")
        assert f"/{REGION}/execute-api/aws4_request" in credential


@pytest.mark.parametrize("send", SENDS)
def test_a_stubber_on_the_factorys_client_sees_every_post(
    gateway: ApiGateway, settings: Any, send: str
) -> None:
    settings.AWS_ACCESS_KEY_ID = "AKIDSTUBBER"
    settings.AWS_SECRET_ACCESS_KEY = "stubber-secret"
    client = models.get_boto3_client("apigatewaymanagementapi", endpoint_url=ENDPOINT)
    assert client.meta.region_name == REGION
    assert client._request_signer._credentials.access_key == "AKIDSTUBBER"
    stubber = Stubber(client)
    count = {"single": 1, "queryset": 3, "in-handler": 1, "background": 5}[send]
    message = REPLY if send == "in-handler" else MESSAGE
    for _ in range(count):
        stubber.add_response(
            "post_to_connection", {}, {"ConnectionId": ANY, "Data": json.dumps(message)}
        )
    with stubber:
        ids, _ = SENDS[send](gateway)
        stubber.assert_no_pending_responses()
    assert len(ids) == count


def test_without_a_double_the_engine_sends(gateway: ApiGateway) -> None:
    """Importing moto, or creating clients without stubbing them, changes nothing."""
    models.get_boto3_client("apigatewaymanagementapi", endpoint_url=ENDPOINT)
    assert not isinstance(get_transport(), BotoTransport)
    with mock_aws():
        assert isinstance(get_transport(), BotoTransport)
    assert not isinstance(get_transport(), BotoTransport)


def test_models_resolves_the_factory_without_holding_it() -> None:
    """A patch puts its double in the module; the package's own stays out of it."""
    from django_aws_api_gateway_websockets import aws

    assert models.get_boto3_client is aws.get_boto3_client
    assert "get_boto3_client" not in vars(models)


@pytest.mark.parametrize("send", ["single", "queryset"])
def test_a_patched_boto3_in_models_gets_one_post_per_recipient(
    gateway: ApiGateway, send: str
) -> None:
    """4.1.0's tests replace ``models.boto3``; sends then go through the client it makes."""
    with patch("django_aws_api_gateway_websockets.models.boto3") as library:
        ids, _ = SENDS[send](gateway)

    library.client.assert_called_with(
        "apigatewaymanagementapi", region_name=REGION, endpoint_url=ENDPOINT, config=ANY
    )
    posts = library.client.return_value.post_to_connection.call_args_list
    assert sorted(post.kwargs["ConnectionId"] for post in posts) == sorted(ids)
    assert "boto3" not in vars(models)
