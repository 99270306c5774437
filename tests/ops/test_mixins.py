"""The template-view mixins."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import RequestFactory
from django.urls import ResolverMatch, resolve

from django_aws_api_gateway_websockets.mixins import channel_name_for
from django_aws_api_gateway_websockets.models import ApiGateway, ApiGatewayAdditionalRoute
from tests.conftest import is_postgres

from .pages import AppPage, AppPageWithOverride, ChatPage, SecondGatewayChatPage

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.ops.urls")]
CHANNEL = re.compile(r"^[a-zA-Z0-9_-]+$")


def context_of(view_class: type, path: str = "/pages/app/", resolved: bool = False) -> Any:
    request = RequestFactory().get(path)
    if resolved:
        request.resolver_match = resolve(path)
    return view_class.as_view()(request).context_data


def add_route(api_name: str, route_key: str) -> ApiGatewayAdditionalRoute:
    gateway = ApiGateway.objects.create(
        api_name=api_name, target_base_endpoint="https://www.example.com/ws/"
    )
    return ApiGatewayAdditionalRoute.objects.create(
        api_gateway=gateway,
        name=route_key,
        route_key=route_key,
        integration_url=f"https://www.example.com/ws/{route_key}",
    )


def test_route_and_channel_in_context(django_assert_num_queries: Any) -> None:
    first = add_route("first", "chat")
    with django_assert_num_queries(1):
        context = context_of(ChatPage)
    assert context["api_gateway_route"] == first
    assert context["api_gateway_route"].api_gateway.api_name == "first"  # no extra query
    assert context["channel_name"] == "lobby"


def test_route_of_the_named_gateway() -> None:
    first = add_route("first", "chat")
    second = add_route("second", "chat")
    assert context_of(ChatPage)["api_gateway_route"] == first  # the oldest, as documented
    assert context_of(SecondGatewayChatPage)["api_gateway_route"] == second


def test_no_route() -> None:
    add_route("first", "other")
    assert context_of(ChatPage)["api_gateway_route"] is None
    assert context_of(SecondGatewayChatPage)["api_gateway_route"] is None


@pytest.mark.parametrize("resolved", [True, False])
def test_app_channel_from_a_nested_package_is_valid(resolved: bool) -> None:
    route = add_route("first", "tests.ops")
    context = context_of(AppPage, resolved=resolved)
    assert context["channel_name"] == "tests-ops"
    assert CHANNEL.match(context["channel_name"])
    assert context["api_gateway_route"] == route
    assert context["view"].websocket_route_key == "tests.ops"


def test_app_channel_override_replaces_the_channel_only() -> None:
    route = add_route("first", "tests.ops")
    context = context_of(AppPageWithOverride)
    assert context["channel_name"] == "news"
    assert context["api_gateway_route"] == route


def test_resolved_view_decides_the_package() -> None:
    # The request's resolver match names the view of the page, whichever class renders.
    request = RequestFactory().get("/pages/app/")
    request.resolver_match = ResolverMatch(is_postgres, (), {})  # module tests.conftest
    context = AppPage.as_view()(request).context_data
    assert context["channel_name"] == "tests"
    assert context["view"].websocket_route_key == "tests"


def test_without_a_resolver_match_the_path_decides_the_package() -> None:
    # As in 4.1.0: the view that the request's path resolves to names the app.
    context = context_of(AppPage, path="/ws/default")  # tests.ops.views_for_checks
    assert context["view"].websocket_route_key == "tests.ops"
    context = context_of(AppPage, path="/admin/")  # django.contrib.admin.sites
    assert context["view"].websocket_route_key == "django.contrib.admin"
    assert context["channel_name"] == "django-contrib-admin"


def test_a_path_that_resolves_to_nothing_names_the_views_own_package() -> None:
    assert context_of(AppPage, path="/nowhere/")["view"].websocket_route_key == "tests.ops"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("blog", "blog"),
        ("apps.blog", "apps-blog"),
        ("a.b.c_d-e", "a-b-c_d-e"),
        ("x" * 200, "x" * 128),
    ],
)
def test_channel_name_for(name: str, expected: str) -> None:
    assert channel_name_for(name) == expected
