"""The Sans-I/O core: route selection, limits, the connection table, integration
headers and @connections decisions, driven without a network."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from django_aws_api_gateway_websockets.localgateway import GatewayConfig, Limits
from django_aws_api_gateway_websockets.localgateway.connections import (
    Connection,
    ConnectionTable,
    State,
    new_connection_id,
)
from django_aws_api_gateway_websockets.localgateway.integration import (
    ClientInfo,
    connect_request,
    disconnect_request,
)
from django_aws_api_gateway_websockets.localgateway.limits import admits, rate_limit
from django_aws_api_gateway_websockets.localgateway.management import (
    Deliver,
    Disconnect,
    ManagementApi,
    signature_problem,
)
from django_aws_api_gateway_websockets.localgateway.routing import (
    RouteExpressionError,
    RouteSelector,
    select_route,
)

SIGNED = {
    "authorization": "AWS4-HMAC-SHA256 Credential=AKID/20240101/eu-west-1/execute-api/"
    "aws4_request, SignedHeaders=host;x-amz-date, Signature=" + "0" * 64,
    "x-amz-date": "20240101T000000Z",
}


@pytest.mark.parametrize(
    ("expression", "body", "key"),
    [
        ("$request.body.action", '{"action": "join"}', "join"),
        ("${request.body.action}", '{"action": "join"}', "join"),
        ("$request.body.message.type", '{"message": {"type": "chat"}}', "chat"),
        ("$request.body.items[1]", '{"items": ["a", "b"]}', "b"),
        ("$request.body['odd key']", '{"odd key": "v"}', "v"),
        ("${request.body.a}-${request.body.b}", '{"a": "x", "b": 2}', "x-2"),
        ("$request.body.flag", '{"flag": true}', "true"),
        ("$request.body.n", '{"n": 1.5}', "1.5"),
        ("$request.body.list", '{"list": ["a", 1]}', "[a, 1]"),
        ("\\$${request.body.action}", '{"action": "x"}', "$x"),
        # evaluated once: a value that looks like a variable stays text
        (
            "$request.body.action",
            '{"action": "${request.body.other}", "other": "no"}',
            "${request.body.other}",
        ),
        # A path the message lacks evaluates to "" (AWS: "join-" below).
        ("$request.body.action", '{"other": 1}', ""),
        ("$request.body.action", '{"action": null}', ""),
        ("${request.body.action}-${request.body.invalidPath}", '{"action": "join"}', "join-"),
        # Static expressions are valid in AWS: every JSON message selects the same key.
        ("action", '{"action": "join"}', "action"),
        ("\\$default", '{"action": "join"}', "$default"),
        ("$request.body.action", "not json", None),
        ("$request.body.action", '["action"]', None),
        ("$request.body.action", b"\xff\xfe", None),
    ],
)
def test_route_selection_expression(expression, body, key):
    """As AWS's table of expressions and results: "If the JSONPath is not found, the
    variable is resolved as ''", and "action" or "\\$default" are static values
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-develop-routes.html)."""
    assert RouteSelector.parse(expression).route_key(body) == key


@pytest.mark.parametrize(
    "expression",
    [
        "$request.header.x-route",
        "",
        "${}",
        "$context.routeKey",
        "$request.body.",
        "${request.body}",
        "${request.bodyx}",
    ],
)
def test_expressions_api_gateway_refuses_are_refused(expression):
    with pytest.raises(RouteExpressionError):
        RouteSelector.parse(expression)


def test_unknown_keys_go_to_default():
    selector = RouteSelector.parse("$request.body.action")
    assert select_route(selector, '{"action": "join"}', {"join", "$default"}) == "join"
    assert select_route(selector, '{"action": "leave"}', {"join", "$default"}) == "$default"
    assert select_route(selector, "{}", {"join", "$default"}) == "$default"


@given(st.binary(max_size=200))
def test_route_selection_never_raises_on_any_body(body):
    selector = RouteSelector.parse("$request.body.action")
    assert select_route(selector, body, {"$default", "x"}) in {"$default", "x"}


def test_token_bucket_admits_the_burst_then_the_rate():
    bucket = rate_limit(rate=10, burst=3, now=0.0)
    assert [admits(bucket, 0.0) for _ in range(4)] == [True, True, True, False]
    assert admits(bucket, 0.1)  # one token back after 1/10 s
    assert not admits(bucket, 0.1)
    assert admits(rate_limit(rate=None, burst=1), 0.0)


def test_connection_ids_look_like_api_gateways_and_are_unique():
    ids = {new_connection_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(i) == 16 and i.endswith("=") for i in ids)


def test_connection_deadline_is_the_earlier_of_idle_and_duration():
    connection = Connection("c", "1.2.3.4", "ua", connected_at=100.0, last_active_at=100.0)
    limits = Limits(idle_timeout=600, max_duration=7200)
    assert connection.deadline(limits) == (700.0, "Idle timeout")
    connection.touch(7000.0)
    assert connection.deadline(limits) == (7300.0, "Connection duration")
    assert connection.deadline(Limits(idle_timeout=None, max_duration=None)) == (None, "")


def test_config_urls_and_validation():
    config = GatewayConfig("http://127.0.0.1:8000/ws", routes={"join": "http://h/join"})
    assert config.integration_url("$connect") == "http://127.0.0.1:8000/ws/connect"
    assert config.integration_url("$disconnect") == "http://127.0.0.1:8000/ws/disconnect"
    assert config.integration_url("$default") == "http://127.0.0.1:8000/ws/default"
    assert config.integration_url("join") == "http://h/join"
    for bad in (
        {"target_base_url": "ftp://x/"},
        {"target_base_url": "http://x/", "drop_disconnect": 2.0},
        {"target_base_url": "http://x/", "stage": "a/b"},
    ):
        with pytest.raises(ValueError, match=r"\w"):
            GatewayConfig(**bad)


def test_connect_request_strips_what_only_api_gateway_may_set():
    config = GatewayConfig("http://django/ws/", api_id="abc", gateway_secret="S" * 32)
    request = connect_request(
        config,
        ClientInfo("cid=", "203.0.113.9", 8001),
        "channel=a",
        [
            ("Host", "gateway"),
            ("X-Amzn-Apigateway-Api-Id", "forged"),
            ("x-ws-gateway-secret", "forged"),
            ("Connectionid", "forged"),
            ("Cookie", "a=b"),
        ],
    )
    headers = dict(request.headers)
    assert request.url == "http://django/ws/connect?channel=a"
    assert headers["X-Amzn-Apigateway-Api-Id"] == "abc"
    assert headers["X-Ws-Gateway-Secret"] == "S" * 32
    assert headers["connectionId"] == "cid="
    assert headers["Cookie"] == "a=b"
    assert [name.lower() for name, _ in request.headers].count("x-ws-gateway-secret") == 1
    assert "Host" not in headers


def test_disconnect_request_carries_no_close_code_or_reason():
    """AWS maps only the context variables data mapping supports into an HTTP
    integration, and ``disconnectStatusCode``/``disconnectReason`` are not among them
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/websocket-api-data-mapping.html,
    https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-mapping-template-reference.html)."""
    config = GatewayConfig("http://django/ws/")
    headers = dict(disconnect_request(config, ClientInfo("cid=", "1.2.3.4", 1)).headers)
    assert not {"disconnectStatusCode", "disconnectReason"} & set(headers)
    assert headers["connectionId"] == "cid="
    assert headers["User-Agent"] == "AmazonAPIGateway_local"


@pytest.mark.parametrize(
    ("headers", "problem"),
    [
        (SIGNED, None),
        ({}, "Missing Authentication Token"),
        ({**SIGNED, "authorization": "AWS4-HMAC-SHA256 Credential=x"}, "requires"),
        (
            {**SIGNED, "authorization": SIGNED["authorization"].replace("execute-api", "s3")},
            "requires",
        ),
        ({**SIGNED, "authorization": SIGNED["authorization"].replace("host;", "")}, "host"),
        ({"authorization": SIGNED["authorization"]}, "X-Amz-Date"),
    ],
)
def test_signature_shape_is_checked(headers, problem):
    found = signature_problem(headers)
    assert found is None if problem is None else problem in found


def make_api(**limits):
    table = ConnectionTable()
    connection = Connection("abc=", "1.2.3.4", "UA", 10.0, 10.0, State.OPEN)
    table.add(connection)
    table.add(Connection("pending=", "1.2.3.4", "UA", 10.0, 10.0, State.PENDING))
    return ManagementApi("prod", table, Limits(**limits)), connection


@pytest.mark.parametrize(
    ("method", "target", "headers", "body", "status"),
    [
        ("POST", "/prod/@connections/abc%3D", SIGNED, b"hi", 200),
        ("POST", "/prod/%40connections/abc%3D", SIGNED, b"hi", 200),  # AWS's documented form
        ("POST", "/@connections/abc%3D", SIGNED, b"hi", 200),  # a custom domain's, no stage
        ("GET", "/prod/@connections/abc%3D", SIGNED, b"", 200),
        ("DELETE", "/prod/@connections/abc%3D", SIGNED, b"", 204),
        ("POST", "/prod/@connections/gone%3D", SIGNED, b"hi", 410),
        ("POST", "/prod/@connections/pending%3D", SIGNED, b"hi", 410),
        ("POST", "/prod/@connections/abc%3D", SIGNED, b"x" * (128 * 1024 + 1), 413),
        ("POST", "/prod/@connections/a%20b", SIGNED, b"hi", 400),
        ("POST", "/dev/@connections/abc%3D", SIGNED, b"hi", 403),
        ("PUT", "/prod/@connections/abc%3D", SIGNED, b"hi", 403),
        ("POST", "/prod/@connections/abc%3D", {}, b"hi", 403),
    ],
)
def test_management_decisions(method, target, headers, body, status):
    api, connection = make_api()
    response, action = api.handle(method, target, headers, body, now=50.0)
    assert response.status == status
    if status >= 400:
        assert action is None
        assert "message" in json.loads(response.body)
        assert dict(response.headers)["x-amzn-ErrorType"].endswith("Exception")
    elif method == "POST":
        assert action == Deliver(connection, b"hi")
        assert connection.last_active_at == 50.0
    elif method == "DELETE":
        assert action == Disconnect(connection)
    else:
        assert json.loads(response.body) == {
            "connectedAt": "1970-01-01T00:00:10.000Z",
            "identity": {"sourceIp": "1.2.3.4", "userAgent": "UA"},
            "lastActiveAt": "1970-01-01T00:00:10.000Z",
        }


def test_management_rate_and_full_client_buffers_get_429():
    api, _ = make_api(management_rate=1, management_burst=1)
    target = "/prod/@connections/abc%3D"
    assert api.handle("POST", target, SIGNED, b"a", 0.0)[0].status == 200
    assert api.handle("POST", target, SIGNED, b"a", 0.0)[0].status == 429
    assert api.handle("POST", target, SIGNED, b"a", 1.0)[0].status == 200
    full, _ = make_api()
    full.buffered_bytes = lambda connection: 10**9
    assert full.handle("POST", target, SIGNED, b"a", 0.0)[0].status == 429


def test_connect_log_hides_the_token() -> None:
    from django_aws_api_gateway_websockets.localgateway.server import _redact

    assert _redact("/?channel=a&ws_token=abc123&x=1") == "/?channel=a&ws_token=[redacted]&x=1"
    assert _redact("/local?ws_token=abc") == "/local?ws_token=[redacted]"
    assert _redact("/?channel=a") == "/?channel=a"
