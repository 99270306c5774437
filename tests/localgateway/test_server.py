"""The gateway over real sockets: websockets clients, a real HTTP server for Django's
side, and unchanged boto3 for the Management API."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
import struct
from urllib.parse import urlsplit

import aiohttp
import pytest
import websockets
from aiohttp import web
from botocore.exceptions import ClientError
from websockets.exceptions import ConnectionClosed, InvalidStatus

from django_aws_api_gateway_websockets.localgateway import Limits, server
from django_aws_api_gateway_websockets.localgateway.config import is_loopback
from django_aws_api_gateway_websockets.localgateway.server import logger
from tests.localgateway.helpers import logged_disconnect, management_client, running

ID = re.compile(r"[A-Za-z0-9_=-]{16}")


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, 30))


def error_code(exc: ClientError) -> str:
    return exc.response["Error"]["Code"]


async def call(function, *args, **kwargs):
    """boto3 is blocking; the gateway shares the loop, so boto3 runs in a thread."""
    return await asyncio.to_thread(function, *args, **kwargs)


def test_connect_forwards_the_handshake_and_adds_aws_headers():
    async def scenario():
        async with running(api_id="abc123", gateway_secret="s" * 40) as (gateway, fake):
            async with websockets.connect(
                gateway.url + "?ws_token=t0k&channel=room-1",
                origin="http://127.0.0.1:8000",
                additional_headers={
                    "Cookie": "sessionid=xyz",
                    "User-Agent": "TestBrowser/1.0",
                    "X-Forwarded-For": "198.51.100.1",
                    "X-Ws-Gateway-Secret": "forged",
                    "connectionId": "forged",
                },
            ) as ws:
                await ws.send('{"action": "x"}')
                message = await fake.wait_for("default")
            disconnect = await fake.wait_for("disconnect")
        return fake.last("connect"), message, disconnect

    connect, message, disconnect = run(scenario())
    headers = connect.headers
    assert connect.query == "ws_token=t0k&channel=room-1"
    assert headers["Cookie"] == "sessionid=xyz"
    assert headers["Origin"] == "http://127.0.0.1:8000"
    assert headers["User-Agent"] == "TestBrowser/1.0"
    assert headers["Sec-WebSocket-Version"] == "13"
    assert headers["Sec-WebSocket-Key"]
    assert ID.fullmatch(headers["connectionId"])
    assert headers["X-Amzn-Apigateway-Api-Id"] == "abc123"
    # The client's own chain is kept and the address the gateway saw is appended.
    assert headers["X-Forwarded-For"] == "198.51.100.1, 127.0.0.1"
    assert headers["X-Forwarded-Proto"] == "http"
    assert headers["X-Forwarded-Port"].isdigit()
    assert re.fullmatch(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24}", headers["X-Amzn-Trace-Id"])
    assert headers["X-Ws-Gateway-Secret"] == "s" * 40
    assert headers["Content-Length"] == "0"
    for later in (message, disconnect):
        assert later.headers["connectionId"] == headers["connectionId"]
        assert later.headers["User-Agent"] == "AmazonAPIGateway_abc123"
        assert later.headers["X-Forwarded-For"] == "127.0.0.1"
        assert later.headers["X-Ws-Gateway-Secret"] == "s" * 40
        assert "Cookie" not in later.headers
    assert message.body == b'{"action": "x"}'
    # AWS maps no close code or reason into an HTTP integration's $disconnect.
    assert "disconnectStatusCode" not in disconnect.headers
    assert "disconnectReason" not in disconnect.headers


def test_a_refused_connect_rejects_the_handshake_with_djangos_status():
    async def refuse(request):
        return web.Response(status=403, text="Permission Denied")

    async def scenario():
        async with running() as (gateway, fake):
            fake.responders["connect"] = refuse
            with pytest.raises(InvalidStatus) as caught:
                await websockets.connect(gateway.url)
            await asyncio.sleep(0.05)
            return caught.value.response, fake.routes(), len(gateway.table)

    response, routes, open_connections = run(scenario())
    assert response.status_code == 403
    assert response.body == b"Permission Denied"
    assert routes == ["connect"]  # no $disconnect for a connection that never opened
    assert open_connections == 0


def test_the_handshake_waits_for_django():
    async def slow(request):
        await asyncio.sleep(0.3)
        return web.json_response({})

    async def scenario():
        async with running() as (gateway, fake):
            fake.responders["connect"] = slow
            started = asyncio.get_running_loop().time()
            async with websockets.connect(gateway.url):
                return asyncio.get_running_loop().time() - started

    assert run(scenario()) >= 0.3


@pytest.mark.parametrize(
    ("payload", "fragments"),
    [
        pytest.param("x" * (32 * 1024 + 1), None, id="frame over 32 KB"),
        pytest.param(None, ["y" * 30_000] * 5, id="message over 128 KB in small frames"),
    ],
)
def test_oversized_input_closes_with_1009(payload, fragments, caplog):
    async def scenario():
        async with running() as (gateway, fake):
            async with websockets.connect(gateway.url, max_size=None) as ws:
                await ws.send(payload if payload is not None else fragments)
                with pytest.raises(ConnectionClosed) as caught:
                    await ws.recv()
            disconnect = await fake.wait_for("disconnect")
            return caught.value.rcvd.code, disconnect, fake.routes()

    caplog.set_level("INFO", logger.name)
    code, disconnect, routes = run(scenario())
    assert code == 1009
    assert logged_disconnect(caplog, disconnect.headers["connectionId"]).startswith("1009")
    assert "default" not in routes


def test_a_message_of_exactly_the_limits_goes_through():
    async def scenario():
        async with running() as (gateway, fake), websockets.connect(gateway.url) as ws:
            await ws.send(["z" * 32 * 1024] * 4)  # 128 KB in 32 KB frames
            return await fake.wait_for("default")

    assert len(run(scenario()).body) == 128 * 1024


def test_route_selection_sends_messages_to_their_routes():
    async def scenario():
        async with (
            running(route_paths={"join": "/custom/join"}) as (gateway, fake),
            websockets.connect(gateway.url) as ws,
        ):
            for body in ('{"action": "join"}', '{"action": "other"}', "not json", "[1]"):
                fake.calls.clear()
                await ws.send(body)
                await fake.wait_for("join" if "join" in body else "default")
                assert len(fake.calls) == 1
                assert fake.calls[0].body == body.encode()

    run(scenario())


def test_a_route_response_goes_back_to_the_client_and_only_then():
    async def reply(request):
        return web.json_response({"echo": (await request.json())["n"]})

    async def scenario():
        async with running(
            route_responses=frozenset({"$default"}), route_paths={"quiet": "/custom/quiet"}
        ) as (gateway, fake):
            fake.responders["default"] = fake.responders["quiet"] = reply
            async with websockets.connect(gateway.url) as ws:
                await ws.send('{"action": "quiet", "n": 1}')
                await fake.wait_for("quiet")
                await ws.send('{"n": 2}')
                return await asyncio.wait_for(ws.recv(), 5)

    # The quiet route's answer (n=1) never reaches the client; $default's does.
    assert json.loads(run(scenario())) == {"echo": 2}


def test_management_api_post_get_delete_with_unchanged_boto3(caplog):
    async def scenario():
        async with running() as (gateway, fake):
            client = management_client(gateway.management_endpoint)
            async with websockets.connect(
                gateway.url, additional_headers={"User-Agent": "Browser/2"}
            ) as ws:
                connection_id = (await fake.wait_for("connect")).headers["connectionId"]
                await call(client.post_to_connection, ConnectionId=connection_id, Data=b"hello")
                await call(
                    client.post_to_connection, ConnectionId=connection_id, Data=b"x" * 100_000
                )
                first, second = await ws.recv(), await ws.recv()
                info = await call(client.get_connection, ConnectionId=connection_id)
                deleted = await call(client.delete_connection, ConnectionId=connection_id)
                with pytest.raises(ConnectionClosed) as closed:
                    await ws.recv()
            disconnect = await fake.wait_for("disconnect")
            with pytest.raises(ClientError) as gone:
                await call(client.post_to_connection, ConnectionId=connection_id, Data=b"late")
            return first, second, info, deleted, closed.value, disconnect, gone.value

    caplog.set_level("INFO", logger.name)
    first, second, info, deleted, closed, disconnect, gone = run(scenario())
    assert first == "hello"
    assert second == "x" * 100_000
    assert info["Identity"] == {"SourceIp": "127.0.0.1", "UserAgent": "Browser/2"}
    assert info["ConnectedAt"] <= info["LastActiveAt"]
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert closed.rcvd.code == 1000
    # After DELETE, AWS reports 1000 "Connection Closed Normally" (observed in API
    # Gateway's execution log: https://github.com/boto/boto3/issues/3789).
    connection_id = disconnect.headers["connectionId"]
    assert logged_disconnect(caplog, connection_id) == "1000 'Connection Closed Normally'"
    assert error_code(gone) == "GoneException"
    assert gone.response["ResponseMetadata"]["HTTPStatusCode"] == 410


def test_management_api_answers_like_aws_for_bad_posts():
    async def scenario():
        async with running(limits=Limits(management_rate=1, management_burst=2)) as (gw, fake):
            client = management_client(gw.management_endpoint)
            async with websockets.connect(gw.url) as ws:
                connection_id = (await fake.wait_for("connect")).headers["connectionId"]
                errors = []
                for connection, data in (
                    ("bm90LWEtY29ubmVjdGlvbg=", b"{}"),  # well-formed, never existed
                    (connection_id, b"a" * (128 * 1024 + 1)),  # one byte too many
                    (connection_id, b"{}"),  # over the request rate
                ):
                    with pytest.raises(ClientError) as caught:
                        await call(client.post_to_connection, ConnectionId=connection, Data=data)
                    errors.append(error_code(caught.value))
                ws_open = ws.state.name
            return errors, ws_open

    errors, ws_open = run(scenario())
    assert errors == ["GoneException", "PayloadTooLargeException", "LimitExceededException"]
    assert ws_open == "OPEN"


def test_management_api_needs_a_sigv4_signature():
    async def scenario():
        async with running() as (gateway, fake):
            async with websockets.connect(gateway.url) as ws:
                connection_id = (await fake.wait_for("connect")).headers["connectionId"]
                url = f"{gateway.management_endpoint}/@connections/{connection_id}"
                async with aiohttp.ClientSession() as http:
                    unsigned = await http.post(url, data=b"hi")
                    forged = await http.post(
                        url, data=b"hi", headers={"Authorization": "Bearer abc"}
                    )
                    other_stage = await http.post(
                        url.replace("/local/", "/prod/"), data=b"hi", headers={}
                    )
                    statuses = [unsigned.status, forged.status, other_stage.status]
                    kinds = [r.headers.get("x-amzn-ErrorType") for r in (unsigned, forged)]
                with pytest.raises(asyncio.TimeoutError):
                    await asyncio.wait_for(ws.recv(), 0.2)
            return statuses, kinds

    statuses, kinds = run(scenario())
    assert statuses == [403, 403, 403]
    assert kinds == ["MissingAuthenticationTokenException", "IncompleteSignatureException"]


def test_posting_to_a_connection_still_in_connect_is_gone():
    outcome = {}

    async def scenario():
        async with running() as (gateway, fake):
            client = management_client(gateway.management_endpoint)

            async def post_to_self(request):
                try:
                    await call(
                        client.post_to_connection,
                        ConnectionId=request.headers["connectionId"],
                        Data=b"too early",
                    )
                except ClientError as exc:
                    outcome["code"] = error_code(exc)
                return web.json_response({})

            fake.responders["connect"] = post_to_self
            async with websockets.connect(gateway.url):
                pass

    run(scenario())
    assert outcome == {"code": "GoneException"}


def test_connections_over_the_connect_rate_are_refused_with_429():
    async def scenario():
        async with running(limits=Limits(connect_rate=0.001, connect_burst=1)) as (gateway, _):
            async with websockets.connect(gateway.url):
                with pytest.raises(InvalidStatus) as caught:
                    await websockets.connect(gateway.url)
            return caught.value.response.status_code

    assert run(scenario()) == 429


@pytest.mark.parametrize(
    ("limits", "reason"),
    [
        (Limits(idle_timeout=0.3), "idle"),
        (Limits(idle_timeout=10, max_duration=0.5), "duration"),
    ],
)
def test_the_gateway_closes_idle_and_old_connections_with_1001(limits, reason, caplog):
    async def scenario():
        async with running(limits=limits) as (gateway, fake):
            async with websockets.connect(gateway.url) as ws:
                if reason == "duration":  # messages keep it active, the cap still applies
                    # On a slow machine the cap may already have closed it: recv() says how.
                    with contextlib.suppress(ConnectionClosed):
                        for _ in range(4):
                            await ws.send("{}")
                            await asyncio.sleep(0.1)
                with pytest.raises(ConnectionClosed) as caught:
                    await asyncio.wait_for(ws.recv(), 5)
            disconnect = await fake.wait_for("disconnect")
            return caught.value.rcvd.code, disconnect.headers["connectionId"]

    caplog.set_level("INFO", logger.name)
    code, connection_id = run(scenario())
    assert code == 1001
    assert logged_disconnect(caplog, connection_id) == "1001 'Going away'"


def test_dropping_disconnect_rehearses_best_effort_delivery():
    async def scenario():
        async with running(drop_disconnect=1.0) as (gateway, fake):
            async with websockets.connect(gateway.url) as ws:
                await ws.send("{}")
                await fake.wait_for("default")
            await asyncio.sleep(0.2)
            return fake.routes(), len(gateway.table)

    routes, open_connections = run(scenario())
    assert routes == ["connect", "default"]
    assert open_connections == 0


def test_an_integration_that_fails_is_reported_to_the_client():
    async def drop(request):
        request.transport.close()  # no answer at all: the call fails
        return web.json_response({})

    async def scenario():
        async with running() as (gateway, fake):
            fake.responders["default"] = drop
            async with websockets.connect(gateway.url) as ws:
                connection_id = (await fake.wait_for("connect")).headers["connectionId"]
                await ws.send('{"action": "x"}')
                return connection_id, json.loads(await asyncio.wait_for(ws.recv(), 5))

    connection_id, reply = run(scenario())
    assert reply["message"] == "Internal server error"
    assert reply["connectionId"] == connection_id
    assert re.fullmatch(r"[0-9a-f-]{36}", reply["requestId"])


def test_an_unreachable_django_rejects_the_handshake_with_502():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]

    async def scenario():
        async with running(target=f"http://127.0.0.1:{closed_port}/ws/") as (gateway, _):
            with pytest.raises(InvalidStatus) as caught:
                await websockets.connect(gateway.url)
            return caught.value.response.status_code

    assert run(scenario()) == 502


def test_a_subprotocol_chosen_by_django_is_returned():
    async def choose(request):
        return web.json_response({}, headers={"Sec-WebSocket-Protocol": "chat.v2"})

    async def scenario():
        async with running() as (gateway, fake):
            fake.responders["connect"] = choose
            async with websockets.connect(gateway.url, subprotocols=["chat.v2"]) as ws:
                return ws.subprotocol, fake.last("connect").headers["Sec-WebSocket-Protocol"]

    assert run(scenario()) == ("chat.v2", "chat.v2")


def test_plain_http_and_malformed_requests_get_a_4xx():
    async def scenario():
        async with running() as (gateway, _):
            base = f"http://127.0.0.1:{gateway.port}"
            async with aiohttp.ClientSession() as http:
                plain = (await http.get(base + "/local")).status
                other = (await http.put(base + "/anything", data=b"x")).status
            reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
            writer.write(b"NONSENSE\r\n\r\n")
            status_line = await reader.readline()
            writer.close()
            async with websockets.connect(gateway.url):  # still serving
                pass
            with pytest.raises(InvalidStatus) as wrong_stage:
                await websockets.connect(f"ws://127.0.0.1:{gateway.port}/prod")
            return plain, other, status_line, wrong_stage.value.response.status_code

    plain, other, status_line, wrong_stage = run(scenario())
    assert plain == 426
    assert other == 403
    assert status_line.startswith(b"HTTP/1.1 400")
    assert wrong_stage == 403


def test_stopping_the_gateway_closes_connections_going_away():
    async def scenario():
        async with running() as (gateway, fake):
            ws = await websockets.connect(gateway.url)
            await fake.wait_for("connect")
            await gateway.stop()
            with pytest.raises(ConnectionClosed) as caught:
                await ws.recv()
            return caught.value.rcvd.code, fake.routes()

    code, routes = run(scenario())
    assert code == 1001
    assert routes == ["connect", "disconnect"]


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"GET / HTTP/1.1\r\nX: " + b"a" * 20_000 + b"\r\n\r\n", b"431"),
        (b"POST /local/@connections/a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", b"411"),
        (b"POST /local/@connections/a HTTP/1.1\r\nContent-Length: -1\r\n\r\n", b"400"),
        (b"POST /local/@connections/a HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n", b"413"),
        (b"GET / HTTP/1.1\r\nBad Header\r\n\r\n", b"400"),
        (b"GET / HTTP/2.0\r\n\r\n", b"400"),
    ],
)
def test_malformed_http_gets_a_clear_4xx_and_the_gateway_keeps_serving(raw, status):
    async def scenario():
        async with running() as (gateway, _):
            reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
            writer.write(raw)
            answer = await asyncio.wait_for(reader.readline(), 5)
            writer.close()
            async with websockets.connect(gateway.url):
                pass
            return answer

    assert run(scenario()).split(b" ")[1] == status


def test_a_client_that_closes_and_resets_at_once_still_gets_its_disconnect(caplog):
    """Browsers often send their close frame and cut the TCP connection straight away;
    the gateway's late writes may then fail, but ``$disconnect`` must still reach Django."""

    async def scenario():
        async with running() as (gateway, fake):
            address = urlsplit(gateway.url)
            reader, writer = await asyncio.open_connection(address.hostname, address.port)
            writer.write(
                b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            )
            assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 101")
            await fake.wait_for("connect")
            # A masked close frame, code 1000 (mask 0: the payload is sent as is).
            writer.write(bytes([0x88, 0x82, 0, 0, 0, 0, 0x03, 0xE8]))
            await writer.drain()
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()  # RST instead of an orderly close
            return await fake.wait_for("disconnect")

    caplog.set_level("INFO", logger.name)
    disconnect = run(scenario())
    assert logged_disconnect(caplog, disconnect.headers["connectionId"])[:4] in {"1000", "1006"}


def test_a_half_open_handshake_is_closed_after_the_handshake_timeout():
    """A slowloris client (TCP open, a partial request head, then nothing) holds nothing
    beyond ``handshake_timeout``; an idle keep-alive connection goes after its own."""

    async def scenario():
        limits = Limits(handshake_timeout=0.3, keepalive_timeout=0.5)
        async with running(limits=limits) as (gateway, _):
            loop = asyncio.get_running_loop()
            reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
            writer.write(b"GET /local HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n")
            started = loop.time()
            answer = await asyncio.wait_for(reader.read(), 5)  # until the gateway closes
            slowloris = loop.time() - started, answer
            writer.close()
            # A complete request on a keep-alive connection, then silence.
            reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
            writer.write(b"GET /local HTTP/1.1\r\nHost: x\r\n\r\n")
            status_line = await reader.readline()
            started = loop.time()
            await asyncio.wait_for(reader.read(), 5)
            keepalive = loop.time() - started, status_line
            writer.close()
            await asyncio.sleep(0.05)
            return slowloris, keepalive, len(gateway._handlers)

    (slow_seconds, answer), (idle_seconds, status_line), handlers = run(scenario())
    assert 0.25 <= slow_seconds < 2
    assert answer.startswith(b"HTTP/1.1 408")
    assert status_line.startswith(b"HTTP/1.1 426")
    assert 0.45 <= idle_seconds < 2
    assert handlers == 0


def test_the_connection_cap_refuses_the_next_connection_with_503():
    async def scenario():
        async with running(limits=Limits(max_connections=2)) as (gateway, fake):
            first = await websockets.connect(gateway.url)
            second = await websockets.connect(gateway.url)
            with pytest.raises(InvalidStatus) as refused:
                await websockets.connect(gateway.url)
            await first.close()
            await fake.wait_for("disconnect")
            await asyncio.sleep(0.05)  # the first connection's handler ends
            async with websockets.connect(gateway.url):  # room again
                pass
            await second.close()
            return refused.value.response, fake.routes().count("connect")

    response, connects = run(scenario())
    assert response.status_code == 503
    assert b"Too many connections" in response.body
    assert connects == 3  # the refused one never reached Django


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("", False),
        ("192.168.1.10", False),
        ("example.com", False),
    ],
)
def test_addresses_beyond_loopback_are_told_apart(host, loopback):
    assert is_loopback(host) is loopback


def test_binding_beyond_loopback_logs_a_warning(caplog, monkeypatch):
    """Tests bind loopback only, so the address check is told the address is not: the
    gateway then warns, and on loopback it says nothing."""

    async def scenario():
        async with running():
            pass

    run(scenario())
    assert not [r for r in caplog.records if r.levelname == "WARNING"]
    monkeypatch.setattr(server, "is_loopback", lambda host: False)  # as on 0.0.0.0
    run(scenario())
    (warning,) = [r for r in caplog.records if r.levelname == "WARNING"]
    assert "beyond this machine" in warning.getMessage()
