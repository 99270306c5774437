"""Property: whatever arrives at the integration URL, the answer is never a 5xx, and a
refused request changes no row."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from django.test import Client
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from django_aws_api_gateway_websockets.models import (
    ApiGateway,
    RateLimitCounter,
    WebSocketSession,
    WebSocketToken,
)
from django_aws_api_gateway_websockets.testing import ApiGatewayRequests

API_ID = "fuzzapi001"
LIVE_ID = "LiveConnection1="
SECRET = "f" * 40

# A WSGI server hands Django headers decoded as latin-1 (PEP 3333), so that is the range.
header_text = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=0xFF, exclude_characters="\x7f"),
    max_size=40,
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
bodies = st.one_of(
    st.binary(max_size=200),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.fixed_dictionaries(
        {},
        optional={
            "handler": st.sampled_from(["default", "echo", "change_channel", "connect", "_x"])
            | json_values,
            "action": st.sampled_from(["default", "echo", "sendmessage"]) | json_values,
            "channel": st.text(max_size=140) | json_values,
        },
    ).map(lambda value: json.dumps(value).encode()),
    st.just(b"[" * 5000 + b"]" * 5000),
    # Well-formed messages, so that handlers run too.
    st.fixed_dictionaries(
        {"handler": st.sampled_from(["default", "echo", "change_channel"])},
        optional={"channel": st.sampled_from(["b", "bad name", ""]), "x": json_values},
    ).map(lambda value: json.dumps(value).encode()),
)
HEADER_NAMES = [
    "Host",
    "X-Forwarded-For",
    "X-Forwarded-Proto",
    "Connectionid",
    "User-Agent",
    "X-Amzn-Apigateway-Api-Id",
    "X-Ws-Gateway-Secret",
    "Origin",
    "Sec-WebSocket-Key",
    "Sec-WebSocket-Version",
    "Cookie",
]
header_changes = st.dictionaries(
    st.sampled_from(HEADER_NAMES),
    st.none()
    | header_text
    | st.sampled_from([API_ID, LIVE_ID, "other", "1.2.3.4, 5.6.7.8", SECRET, "https://testserver"]),
    max_size=4,
)
queries = st.dictionaries(
    st.sampled_from(["ws_token", "channel", "other"]),
    st.text(max_size=80) | st.sampled_from(["0" * 64, "general", ""]),
    max_size=3,
)
routes = st.sampled_from(["connect", "disconnect", "default", "custom", "unknown", "x-y_z"])
methods = st.sampled_from(["POST"] * 5 + ["GET", "PUT", "DELETE", "OPTIONS", "HEAD"])


def snapshot() -> tuple:
    return (
        list(WebSocketSession.objects.order_by("pk").values_list("connected", "channel_name")),
        list(WebSocketToken.objects.order_by("pk").values_list("used", flat=True)),
        list(RateLimitCounter.objects.exclude(hits="").values_list("key", "hits")),
    )


@pytest.fixture
def world(db, django_user_model, settings):
    settings.WEBSOCKETS = {"gateway_secret": SECRET}
    gateway = ApiGateway.objects.create(api_name="fuzz", api_id=API_ID)
    WebSocketSession.objects.create(connection_id=LIVE_ID, api_gateway=gateway, channel_name="a")
    user = django_user_model.objects.create_user("fuzzer", password="pw")
    client = Client()
    ApiGatewayRequests(client, api_id=API_ID).issue_token(user)  # an unspent token to protect
    return client


@settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    route=routes,
    method=methods,
    body=bodies,
    changes=st.just({}) | header_changes,
    query=queries,
    connection_id=st.sampled_from([LIVE_ID, LIVE_ID, "Unknown1234="]) | header_text,
)
def test_no_5xx_and_refusals_change_nothing(
    world, route, method, body, changes, query, connection_id
):
    client = world
    ws = ApiGatewayRequests(
        client, path="/ws-fuzz/", api_id=API_ID, connection_id=connection_id or "x"
    )
    headers = {
        **ws.integration_headers(),
        **ws.handshake_headers(),
        "Content-Length": str(len(body)),
    }
    for name, value in changes.items():
        headers.pop(name, None)
        if value is not None:
            headers[name] = value
    # Every example starts from one open session, whatever the previous one did to it.
    WebSocketSession.objects.filter(connection_id=LIVE_ID).update(connected=True, channel_name="a")
    before = snapshot()
    response = client.generic(
        method,
        f"/ws-fuzz/{route}",
        body,
        content_type="application/json",
        headers=headers,
        QUERY_STRING=urlencode(query),
    )
    event(f"{route if route in ('connect', 'disconnect') else 'message'} {response.status_code}")
    assert response.status_code < 500, (response.status_code, response.content[:200])
    if response.status_code >= 400:
        assert snapshot() == before
