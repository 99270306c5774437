"""The template tags put the WebSocket URL, token endpoint, channel and CSRF token into
pages, where the JavaScript client's readPageConfig() finds them."""

from __future__ import annotations

import json
import re

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.template import Context, Template
from django.test import Client

from django_aws_api_gateway_websockets.models import ApiGateway

pytestmark = [pytest.mark.urls("tests.client.urls"), pytest.mark.django_db]

LOCAL_URL = "ws://127.0.0.1:8001/local"


@pytest.fixture
def websocket_url(settings):
    settings.WEBSOCKETS = {"websocket_url": LOCAL_URL}
    return LOCAL_URL


def page_config(html: str) -> dict:
    match = re.search(
        r'<script id="websocket-config" type="application/json">(.*?)</script>', html, re.S
    )
    assert match, html
    return json.loads(match.group(1))


def render(source: str, **context) -> str:
    return Template("{% load aws_websockets %}" + source).render(Context(context))


def test_page_carries_url_token_url_channel_and_csrf_token(websocket_url) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.get("/room/?channel=lobby")
    config = page_config(response.content.decode())
    assert config["url"] == LOCAL_URL
    assert config["tokenUrl"] == "/api/ws-token/"
    assert config["channel"] == "lobby"
    # The page sets the CSRF cookie that the token request sends back with the token.
    assert "csrftoken" in response.cookies
    assert len(config["csrfToken"]) == 64
    assert f"<p>{LOCAL_URL}|/api/ws-token/</p>" in response.content.decode()


def test_hostile_channel_cannot_break_out_of_the_script_element(websocket_url) -> None:
    hostile = '</script><script>alert("x")</script>'
    response = Client().get("/room/", {"channel": hostile})
    html = response.content.decode()
    assert "<script>alert" not in html
    assert page_config(html)["channel"] == hostile


def test_arguments_win_over_settings(websocket_url) -> None:
    html = render(
        "{% websocket_config channel='c' url='wss://ws.example.com' token_url='other-token' "
        "element_id='ws' %}"
    )
    assert html.startswith('<script id="ws" type="application/json">')
    config = json.loads(html.split(">", 1)[1].rsplit("<", 1)[0])
    assert config == {"url": "wss://ws.example.com", "tokenUrl": "/other/token/", "channel": "c"}
    assert render("{% websocket_token_url '/explicit/path/' %}") == "/explicit/path/"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"domain_name": "ws.example.com"}, "wss://ws.example.com"),
        (
            {"api_endpoint": "wss://abc123.execute-api.eu-west-1.amazonaws.com"},
            "wss://abc123.execute-api.eu-west-1.amazonaws.com/production",
        ),
        (
            {"api_endpoint": "wss://abc123.execute-api.eu-west-1.amazonaws.com/", "stage_name": ""},
            "wss://abc123.execute-api.eu-west-1.amazonaws.com/production",
        ),
    ],
)
def test_url_from_a_gateway(fields: dict, expected: str) -> None:
    gateway = ApiGateway(api_name="chat", **fields)
    assert render("{% websocket_url gateway=gateway %}", gateway=gateway) == expected


def test_a_gateway_without_address_is_a_clear_error() -> None:
    with pytest.raises(ImproperlyConfigured, match="neither a domain name nor an endpoint"):
        render("{% websocket_url gateway=gateway %}", gateway=ApiGateway(api_name="new"))


@pytest.mark.parametrize("configured", [None, "http://not-a-websocket", 42])
def test_missing_or_invalid_url_setting_is_a_clear_error(settings, configured) -> None:
    settings.WEBSOCKETS = {} if configured is None else {"websocket_url": configured}
    with pytest.raises(ImproperlyConfigured, match='WEBSOCKETS\\["websocket_url"\\]'):
        render("{% websocket_url %}")


def test_unknown_token_url_name_is_a_clear_error(websocket_url) -> None:
    with pytest.raises(ImproperlyConfigured, match="'missing-name'"):
        render("{% websocket_token_url 'missing-name' %}")


@pytest.mark.urls("tests.client.no_token_urls")
def test_no_token_view_named_websocket_token_is_a_clear_error(websocket_url) -> None:
    with pytest.raises(ImproperlyConfigured, match="websocket_token"):
        render("{% websocket_config %}")


def test_the_page_config_is_all_the_token_request_needs(websocket_url, django_user_model) -> None:
    """What websocket-client.js does with the tag's output, done with Django's client:
    POST to tokenUrl with the CSRF cookie and X-CSRFToken (with CSRF checks on)."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(django_user_model.objects.create_user("carol", password="x"))
    config = page_config(client.get("/room/").content.decode())
    response = client.post(config["tokenUrl"], HTTP_X_CSRFTOKEN=config["csrfToken"])
    assert response.status_code == 200
    assert re.fullmatch(r"[0-9a-f]{64}", response.json()["token"])
    assert response.json()["expires_in"] == 60
    # What the client reads as "unauthenticated": a 403 from the token endpoint.
    assert client.post(config["tokenUrl"]).status_code == 403


def test_anonymous_pages_get_403_from_the_token_endpoint(websocket_url) -> None:
    client = Client(enforce_csrf_checks=True)
    config = page_config(client.get("/room/").content.decode())
    response = client.post(config["tokenUrl"], HTTP_X_CSRFTOKEN=config["csrfToken"])
    assert response.status_code == 403
    assert response.json()["reason"] == "not_authenticated"
