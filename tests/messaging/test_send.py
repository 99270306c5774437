"""Sending to one session: the original's semantics over a real HTTP Management API."""

from __future__ import annotations

import asyncio
import json
import threading
from collections import deque

import pytest
from asgiref.sync import async_to_sync
from botocore.exceptions import ClientError, NoCredentialsError

from django_aws_api_gateway_websockets.messaging.endpoint import management_endpoint
from django_aws_api_gateway_websockets.messaging.send import ManagementApiError
from django_aws_api_gateway_websockets.messaging.signing import LOCAL_CREDENTIALS
from django_aws_api_gateway_websockets.models import (
    MAX_MESSAGE_SIZE,
    ApiGateway,
    WebSocketSession,
    serialise_message,
)

from .conftest import assert_signed
from .double import ManagementApiDouble

pytestmark = pytest.mark.django_db


@pytest.fixture
def session(gateway: ApiGateway, make_sessions) -> WebSocketSession:
    make_sessions(1, gateway)
    return WebSocketSession.objects.select_related("api_gateway").get()


def test_send_posts_the_json_signed_to_the_connection(management_api, session) -> None:
    response = session.send_message({"type": "hello", "text": "héllo"})

    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert response["ResponseMetadata"]["RequestId"].startswith("req-")
    (post,) = management_api.posts
    assert post.raw_path == "/prod/@connections/conn00000%3D"
    assert json.loads(post.body) == {"type": "hello", "text": "héllo"}
    assert_signed(post)


def test_gone_marks_the_session_disconnected_in_one_update(
    management_api, session, django_assert_num_queries
) -> None:
    management_api.gone.add(session.connection_id)
    before = session.updated_on

    with django_assert_num_queries(1):
        assert session.send_message({"n": 1}) is None

    assert session.connected is False
    assert session.updated_on > before
    stored = WebSocketSession.objects.get(pk=session.pk)
    assert stored.connected is False
    assert stored.updated_on == session.updated_on
    assert len(management_api.posts) == 1  # never retried


def test_gateway_not_loaded_is_read_with_one_query(
    management_api, gateway, make_sessions, django_assert_num_queries
) -> None:
    make_sessions(1, gateway)
    session = WebSocketSession.objects.get()
    with django_assert_num_queries(1):
        session.send_message({"n": 1})
    assert len(management_api.posts) == 1


def test_serialise_message_is_kept_in_models() -> None:
    assert serialise_message({"a": "é"}) == '{"a": "\\u00e9"}'
    with pytest.raises(ValueError, match=r"^Message exceeds AWS limit: .* at most 131072"):
        serialise_message("x" * MAX_MESSAGE_SIZE)  # 4.1.0's words first


def test_no_gateway_is_a_value_error(management_api, make_sessions) -> None:
    (session,) = make_sessions(1, None)
    with pytest.raises(ValueError, match="no API Gateway"):  # 4.1.0's words
        session.send_message({"n": 1})
    assert management_api.posts == []


def test_the_128_kb_limit_counts_utf8_json_bytes(management_api, session) -> None:
    fits = "x" * (MAX_MESSAGE_SIZE - 2)  # plus two quotes
    assert session.send_message(fits) is not None
    with pytest.raises(ValueError, match="131073 bytes"):
        session.send_message(fits + "x")
    assert len(management_api.posts) == 1
    assert len(management_api.posts[0].body) == MAX_MESSAGE_SIZE


@pytest.mark.parametrize(
    ("status", "code"),
    [(403, "ForbiddenException"), (413, "PayloadTooLargeException"), (400, "BadRequestException")],
)
def test_client_errors_raise_at_once(management_api, session, status: int, code: str) -> None:
    management_api.plan[session.connection_id] = deque([status])
    with pytest.raises(ClientError) as caught:
        session.send_message({"n": 1})
    assert isinstance(caught.value, ManagementApiError)
    assert caught.value.response["Error"]["Code"] == code
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert len(management_api.posts) == 1
    assert WebSocketSession.objects.get(pk=session.pk).connected


def test_throttling_and_server_errors_are_retried(management_api, session) -> None:
    management_api.plan[session.connection_id] = deque([429, 502])
    response = session.send_message({"n": 1})
    assert response["ResponseMetadata"]["RetryAttempts"] == 2
    assert [p.action for p in management_api.posts] == [429, 502, 200]


def test_gives_up_after_the_configured_attempts(management_api, session, settings) -> None:
    settings.WEBSOCKETS = {**settings.WEBSOCKETS, "send_max_attempts": 2}
    management_api.plan[session.connection_id] = deque(["timeout", "timeout"])
    with pytest.raises(ManagementApiError) as caught:
        session.send_message({"n": 1})
    assert caught.value.response["Error"]["Code"] == "RequestTimeout"
    assert "may have arrived" in caught.value.response["Error"]["Message"]
    assert len(management_api.posts) == 2


def test_blank_stage_means_production(management_api, make_sessions) -> None:
    gateway = ApiGateway.objects.create(api_name="blank", api_id="zz9", stage_name="")
    (session,) = make_sessions(1, gateway)
    session.send_message({"n": 1})
    assert management_api.posts[0].raw_path.startswith("/production/@connections/")


def test_async_send(management_api, session) -> None:
    management_api.gone.add(session.connection_id)
    assert async_to_sync(session.asend_message)({"n": 1}) is None
    assert not WebSocketSession.objects.get(pk=session.pk).connected


def test_sync_send_from_inside_a_running_event_loop(management_api, session) -> None:
    async def handler() -> dict:
        return session.send_message({"n": 1})  # a sync call where a loop runs

    response = asyncio.run(handler())
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    # and again, on a new loop: nothing is bound to the first one
    assert asyncio.run(handler())["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert len(management_api.posts) == 2


def test_sends_from_many_threads_at_once(management_api, gateway, make_sessions) -> None:
    make_sessions(8, gateway)
    sessions = list(WebSocketSession.objects.select_related("api_gateway"))
    responses: list[dict] = []
    threads = [
        threading.Thread(target=lambda s=s: responses.append(s.send_message({"n": 1})))
        for s in sessions
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(responses) == 8
    assert sorted(p.connection_id for p in management_api.posts) == sorted(
        s.connection_id for s in sessions
    )


def test_local_endpoint_without_credentials_signs_with_dummy_ones(
    management_api, session, settings
) -> None:
    del settings.AWS_ACCESS_KEY_ID, settings.AWS_SECRET_ACCESS_KEY
    session.send_message({"n": 1})
    assert_signed(
        management_api.posts[0], LOCAL_CREDENTIALS.access_key, LOCAL_CREDENTIALS.secret_key
    )


def test_aws_endpoint_without_credentials_fails_before_any_post(session, settings) -> None:
    settings.WEBSOCKETS = {}
    with pytest.raises(NoCredentialsError):
        session.send_message({"n": 1})


def test_the_endpoint_is_aws_unless_configured(gateway, settings) -> None:
    settings.WEBSOCKETS = {}
    assert management_endpoint(gateway) == "https://abc123.execute-api.eu-west-1.amazonaws.com/prod"
    settings.WEBSOCKETS = {"management_endpoint_url": "http://127.0.0.1:8001/{stage}/"}
    assert management_endpoint(gateway) == "http://127.0.0.1:8001/prod"


def test_a_local_endpoint_needs_no_region(gateway, settings) -> None:
    del settings.AWS_GATEWAY_REGION_NAME
    settings.WEBSOCKETS = {"management_endpoint_url": "http://127.0.0.1:8001/{region}/{stage}"}
    assert management_endpoint(gateway) == "http://127.0.0.1:8001/us-east-1/prod"
    settings.WEBSOCKETS = {}
    with pytest.raises(RuntimeError, match="AWS_GATEWAY_REGION_NAME"):
        management_endpoint(gateway)


def test_unreachable_endpoint_fails_without_ambiguity(session, settings) -> None:
    double = ManagementApiDouble().start()
    url = double.url
    double.stop()  # nothing listens there any more
    settings.AWS_ACCESS_KEY_ID, settings.AWS_SECRET_ACCESS_KEY = "AKID", "secret"
    settings.WEBSOCKETS = {"management_endpoint_url": url + "/{stage}", "send_max_attempts": 2}
    with pytest.raises(ManagementApiError) as caught:
        session.send_message({"n": 1})
    assert caught.value.response["Error"]["Code"] == "ConnectionError"
