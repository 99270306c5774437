"""Behaviours where the local gateway once differed from AWS, each stated as AWS
documents it (or, where AWS documents nothing, as API Gateway was observed doing it),
checked over real sockets. docs/local_development.rst lists them in its conformance table.
"""

from __future__ import annotations

import asyncio
import json
import re
from urllib.parse import quote

import aiohttp
import pytest
import websockets
from aiohttp import web
from websockets.exceptions import ConnectionClosed
from yarl import URL

from django_aws_api_gateway_websockets.localgateway import Limits
from django_aws_api_gateway_websockets.localgateway.server import logger
from tests.localgateway.helpers import (
    logged_disconnect,
    management_client,
    running,
    sigv4_headers,
)
from tests.localgateway.test_server import call, run


def test_a_binary_frame_closes_the_connection_with_1003(caplog):
    """ "API Gateway WebSocket APIs don't currently support binary frames in incoming
    message payloads. If a client app sends a binary frame, API Gateway rejects it and
    disconnects the client with code 1003."
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-develop-binary-media-types.html)
    """

    async def scenario():
        async with running() as (gateway, fake), websockets.connect(gateway.url) as ws:
            await ws.send(b"\x00\x01binary")
            with pytest.raises(ConnectionClosed) as caught:
                await asyncio.wait_for(ws.recv(), 5)
            disconnect = await fake.wait_for("disconnect")
            return caught.value.rcvd.code, fake.routes(), disconnect.headers["connectionId"]

    caplog.set_level("INFO", logger.name)
    code, routes, connection_id = run(scenario())
    assert code == 1003
    assert routes == ["connect", "disconnect"]  # the frame never reached Django
    assert logged_disconnect(caplog, connection_id).startswith("1003")


def test_an_integration_over_the_timeout_answers_endpoint_request_timed_out():
    """The integration timeout is 29 s for WebSocket APIs (quotas:
    https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-execution-service-websocket-limits-table.html;
    ``timeoutInMillis`` 50-29,000); the client then gets ``{"message": "Endpoint request
    timed out", "connectionId": ..., "requestId": ...}`` (the answer reported at
    https://repost.aws/questions/QUFXpcneknSgmhseduEh18dw). Here the timeout is 0.3 s."""

    async def hang(request):
        await asyncio.sleep(2)
        return web.json_response({})

    async def scenario():
        async with running(limits=Limits(integration_timeout=0.3)) as (gateway, fake):
            fake.responders["default"] = hang
            async with websockets.connect(gateway.url) as ws:
                connection_id = (await fake.wait_for("connect")).headers["connectionId"]
                started = asyncio.get_running_loop().time()
                await ws.send('{"action": "slow"}')
                reply = json.loads(await asyncio.wait_for(ws.recv(), 5))
                return connection_id, reply, asyncio.get_running_loop().time() - started

    connection_id, reply, seconds = run(scenario())
    assert reply["message"] == "Endpoint request timed out"
    assert reply["connectionId"] == connection_id
    assert re.fullmatch(r"[0-9a-f-]{36}", reply["requestId"])
    assert 0.3 <= seconds < 1.5
    assert Limits().integration_timeout == 29.0


def test_connections_paths_encoded_and_without_a_stage_are_accepted():
    """AWS documents ``POST https://{api-id}.execute-api.{region}.amazonaws.com/{stage}/
    %40connections/{connection_id}`` (the ``@`` URL-encoded:
    https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html),
    and the Management API's endpoint may be "the endpoint corresponding to your API's
    custom domain and base path" (apigatewaymanagementapi service model), which with an
    empty base path has no stage: ``https://example.com/@connections/{id}``."""

    async def scenario():
        async with running() as (gateway, fake), websockets.connect(gateway.url) as ws:
            connection_id = (await fake.wait_for("connect")).headers["connectionId"]
            quoted = quote(connection_id, safe="")
            encoded = f"{gateway.management_endpoint}/%40connections/{quoted}"
            async with aiohttp.ClientSession() as http:
                response = await http.post(
                    URL(encoded, encoded=True),
                    data=b"one",
                    headers=sigv4_headers("POST", encoded, b"one"),
                )
                encoded_status = response.status
            no_stage = management_client(f"http://127.0.0.1:{gateway.port}")
            await call(no_stage.post_to_connection, ConnectionId=connection_id, Data=b"two")
            info = await call(no_stage.get_connection, ConnectionId=connection_id)
            return encoded_status, [await ws.recv(), await ws.recv()], info

    status, received, info = run(scenario())
    assert status == 200
    assert received == ["one", "two"]
    assert info["Identity"]["SourceIp"] == "127.0.0.1"
