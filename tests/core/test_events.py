"""events.py: validation of untrusted integration requests, without Django requests."""

from __future__ import annotations

import re

import pytest

from django_aws_api_gateway_websockets.events import (
    EventError,
    EventRules,
    nesting_depth,
    origin_allowed,
    parse_body,
    pick_client_ip,
    read_event,
)

RULES = EventRules(
    required_headers=("Connectionid", "X-Amzn-Apigateway-Api-Id", "X-Forwarded-For"),
    max_body_size=64,
    channel_pattern=re.compile(r"^[a-zA-Z0-9_-]+$"),
    max_channel_length=10,
    trusted_proxy_count=1,
)
HEADERS = {
    "Connectionid": "abc123DEF=",
    "X-Amzn-Apigateway-Api-Id": "api1",
    "X-Forwarded-For": "198.51.100.9",
    "User-Agent": "AmazonAPIGateway_api1",
}


def read(route="default", headers=None, query=None, body=b"", remote="10.0.0.1", rules=RULES):
    return read_event(route, headers or HEADERS, query or {}, body, remote, rules)


def refusal(**kwargs) -> EventError:
    with pytest.raises(EventError) as info:
        read(**kwargs)
    return info.value


def test_valid_message_event_carries_typed_values():
    event = read(body=b'{"handler": "chat", "n": 1}')
    assert (event.route, event.connection_id, event.api_id) == ("default", "abc123DEF=", "api1")
    assert event.client_ip == "198.51.100.9"
    assert event.body == {"handler": "chat", "n": 1}
    assert event.is_message


def test_connect_event_reads_channel_token_and_origin():
    event = read(
        route="connect",
        headers={**HEADERS, "Origin": "https://example.com"},
        query={"channel": "room-1", "ws_token": "t"},
        body=b"not json, ignored on connect",
    )
    assert (event.channel, event.ws_token, event.origin) == ("room-1", "t", "https://example.com")
    assert not event.is_message


def test_missing_required_header_is_a_header_error():
    headers = {k: v for k, v in HEADERS.items() if k != "X-Amzn-Apigateway-Api-Id"}
    error = refusal(headers=headers)
    assert (error.status, error.message, error.kind) == (400, "Invalid request headers", "headers")


@pytest.mark.parametrize("route", ["connect", "disconnect", "default", "custom"])
@pytest.mark.parametrize("bad", ["a b", "x" * 129, "abc/def", "abc+def", "é"])
def test_connection_id_is_checked_on_every_route(route, bad):
    error = refusal(route=route, headers={**HEADERS, "Connectionid": bad})
    assert (error.status, error.message) == (400, "Invalid connection ID")


@pytest.mark.parametrize(
    ("channel", "ok"), [("a", True), ("a" * 10, True), ("a" * 11, False), ("a b", False)]
)
def test_channel_pattern_and_length(channel, ok):
    if ok:
        assert read(route="connect", query={"channel": channel}).channel == channel
    else:
        assert refusal(route="connect", query={"channel": channel}).message == "Invalid channel"


@pytest.mark.parametrize(
    ("raw", "status", "message"),
    [
        (b"x" * 65, 413, "Message too large"),
        (b'{"a": "\xff"}', 400, "Message is not UTF-8"),
        (b"{nope", 400, "Message is not valid JSON"),
        (b"[1, 2]", 400, "Message must be a JSON object"),
        (b'"text"', 400, "Message must be a JSON object"),
        (b'{"a": NaN}', 400, "Message is not valid JSON"),
    ],
)
def test_bad_bodies_are_refused_with_a_clear_4xx(raw, status, message):
    with pytest.raises(EventError) as info:
        parse_body(raw, 64)
    assert (info.value.status, info.value.message) == (status, message)


@pytest.mark.parametrize("depth", [33, 1000, 100_000])
def test_too_deep_body_is_refused(depth):
    raw = b'{"a": ' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"
    with pytest.raises(EventError) as info:
        parse_body(raw, 1_000_000)
    assert (info.value.status, info.value.message) == (400, "Message is nested too deeply")


def test_nesting_up_to_the_limit_is_accepted():
    raw = b'{"a": ' + b"[" * 31 + b"]" * 31 + b"}"
    assert parse_body(raw, 1_000)["a"] == [
        [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]
    ]


@pytest.mark.parametrize(
    ("value", "depth"), [(1, 0), ({}, 1), ({"a": [1, {"b": []}]}, 4), ([[], [[]]], 3)]
)
def test_nesting_depth(value, depth):
    assert nesting_depth(value) == depth


def test_empty_body_is_an_empty_object():
    assert parse_body(b"  ", 64) == {}


@pytest.mark.parametrize(
    ("forwarded", "count", "expected"),
    [
        # API Gateway appends the peer it saw: the client cannot forge the last entry.
        ("6.6.6.6, 198.51.100.9", 1, "198.51.100.9"),
        ("6.6.6.6, 198.51.100.9, 10.0.0.2", 2, "198.51.100.9"),
        ("198.51.100.9", 3, "198.51.100.9"),
        ("6.6.6.6", 0, "10.0.0.1"),
        ("2001:db8::1", 1, "2001:db8::1"),
        ("not-an-ip", 1, None),
        ("", 1, None),
    ],
)
def test_client_ip_is_counted_from_the_right(forwarded, count, expected):
    assert pick_client_ip(forwarded, "10.0.0.1", count) == expected


def test_spoofed_first_entry_does_not_change_the_client_ip():
    first = read(headers={**HEADERS, "X-Forwarded-For": "1.1.1.1, 198.51.100.9"})
    second = read(headers={**HEADERS, "X-Forwarded-For": "2.2.2.2, 198.51.100.9"})
    assert first.client_ip == second.client_ip == "198.51.100.9"


def test_unparseable_client_ip_is_a_header_error():
    assert refusal(headers={**HEADERS, "X-Forwarded-For": "garbage"}).kind == "headers"


@pytest.mark.parametrize(
    ("origin", "host", "allowed", "ok"),
    [
        (None, "api.example.com", None, True),
        ("https://example.com", "example.com", None, True),
        ("https://app.example.com", "example.com", None, True),
        ("https://evil-example.com", "example.com", None, False),
        ("https://example.com.evil.com", "example.com", None, False),
        ("https://example.com:8443", "example.com", None, False),
        ("http://127.0.0.1:8000", "127.0.0.1:8000", None, True),
        ("ftp://example.com", "example.com", None, False),
        ("null", "example.com", None, False),
        ("https://app.example.com", "api.example.com", ["https://app.example.com"], True),
        ("https://APP.example.com:443", "api.example.com", ["https://app.example.com/"], True),
        ("https://other.example.com", "api.example.com", ["https://app.example.com"], False),
        ("https://anything.test", "api.example.com", ["*"], True),
    ],
)
def test_origin_rule(origin, host, allowed, ok):
    assert origin_allowed(origin, host, allowed) is ok
