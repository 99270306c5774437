"""The recording Management API of ``testing.py`` and its ``management_api`` fixture,
through unchanged boto3 and through the package's own sending."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from django_aws_api_gateway_websockets.conf import get_management_endpoint_template
from django_aws_api_gateway_websockets.localgateway import Limits
from django_aws_api_gateway_websockets.models import ApiGateway, WebSocketSession
from django_aws_api_gateway_websockets.testing import RecordingManagementApi
from tests.localgateway.helpers import CREDENTIALS, management_client


def code_of(call) -> str:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"]


def test_each_message_is_kept_separately_and_answers_are_like_aws():
    with RecordingManagementApi(Limits(management_rate=None)) as api:
        client = management_client(api.endpoint("prod"))
        connection_id = api.connect()
        client.post_to_connection(ConnectionId=connection_id, Data=b'{"n": 1}')
        client.post_to_connection(ConnectionId=connection_id, Data=b'{"n": 2}')
        info = client.get_connection(ConnectionId=connection_id)
        assert api.messages(connection_id) == [b'{"n": 1}', b'{"n": 2}']
        assert api.json_messages(connection_id) == [{"n": 1}, {"n": 2}]
        assert info["Identity"]["SourceIp"] == "203.0.113.7"

        def post(cid, data=b"x"):
            return lambda: client.post_to_connection(ConnectionId=cid, Data=data)

        assert code_of(post("bmV2ZXItb3BlbmVk")) == "GoneException"
        assert code_of(post(connection_id, b"x" * (128 * 1024 + 1))) == "PayloadTooLargeException"
        api.fail_next(429)
        assert code_of(post(connection_id)) == "LimitExceededException"
        api.disconnect(connection_id)
        assert code_of(post(connection_id)) == "GoneException"
        assert not api.is_connected(connection_id)
        assert [r.status for r in api.requests] == [200, 200, 200, 410, 413, 429, 410]
        assert api.all_messages() == {connection_id: [b'{"n": 1}', b'{"n": 2}']}
        client.close()
        api.reset()
        assert api.requests == []
        assert api.all_messages() == {}


def test_the_recorder_verifies_signatures_when_given_credentials():
    with RecordingManagementApi(credentials=CREDENTIALS) as api:
        connection_id = api.connect()
        wrong = management_client(api.endpoint("prod"), secret="wrong")
        assert (
            code_of(lambda: wrong.post_to_connection(ConnectionId=connection_id, Data=b"1"))
            == "InvalidSignatureException"
        )
        right = management_client(api.endpoint("prod"))
        right.post_to_connection(ConnectionId=connection_id, Data=b"2")
        assert api.messages(connection_id) == [b"2"]


def test_the_recorder_applies_the_request_rate():
    with RecordingManagementApi(Limits(management_rate=0.01, management_burst=1)) as api:
        client = management_client(api.endpoint("prod"))
        connection_id = api.connect()
        client.post_to_connection(ConnectionId=connection_id, Data=b"1")
        assert (
            code_of(lambda: client.post_to_connection(ConnectionId=connection_id, Data=b"2"))
            == "LimitExceededException"
        )
        assert api.messages(connection_id) == [b"1"]
        client.close()


@pytest.mark.django_db
def test_management_api_fixture_points_sending_at_itself(management_api):
    assert get_management_endpoint_template() == management_api.endpoint_template
    gateway = ApiGateway.objects.create(api_name="t", api_id="abc123", stage_name="dev")
    live = WebSocketSession.objects.create(
        connection_id=management_api.connect(), api_gateway=gateway
    )
    gone = WebSocketSession.objects.create(
        connection_id="Z29uZS1jb25uZWN0aW9u", api_gateway=gateway
    )

    assert live.send_message({"hello": "world"}) is not None
    assert gone.send_message({"hello": "world"}) is None

    assert management_api.json_messages(live.connection_id) == [{"hello": "world"}]
    assert management_api.messages(gone.connection_id) == []
    gone.refresh_from_db()
    assert gone.connected is False
    live.refresh_from_db()
    assert live.connected is True


def test_the_fixture_restores_the_setting(management_api_server):
    assert get_management_endpoint_template() != management_api_server.endpoint_template
