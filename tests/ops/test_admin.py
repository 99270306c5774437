"""The admin pages, through Django's test client."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from django_aws_api_gateway_websockets.admin import summarise_rules
from django_aws_api_gateway_websockets.models import (
    ApiGateway,
    ChannelPermission,
    ChannelPermissionRule,
    WebSocketSession,
)

from .conftest import TOKEN

pytestmark = pytest.mark.urls("tests.ops.urls")

APP = "django_aws_api_gateway_websockets"
MODELS = [
    "apigateway",
    "apigatewayadditionalroute",
    "websocketsession",
    "websockettoken",
    "connectionratelimit",
    "ratelimitcounter",
    "channelpermission",
]
READ_ONLY = ["websocketsession", "websockettoken", "connectionratelimit", "ratelimitcounter"]


def url(model: str, view: str = "changelist", *args: Any) -> str:
    return reverse(f"admin:{APP}_{model}_{view}", args=args)


@pytest.mark.parametrize("model", MODELS)
def test_every_changelist_renders(admin_client: Client, rows: dict[str, Any], model: str) -> None:
    response = admin_client.get(url(model))
    assert response.status_code == 200
    assert response.context["cl"].result_count >= 1


@pytest.mark.parametrize("model", READ_ONLY)
def test_read_only_models_cannot_be_added(admin_client: Client, db: None, model: str) -> None:
    assert admin_client.get(url(model, "add")).status_code == 403


@pytest.mark.parametrize(
    ("model", "key"),
    [
        ("websocketsession", "session"),
        ("websockettoken", "token"),
        ("connectionratelimit", "attempt"),
        ("ratelimitcounter", "counter"),
    ],
)
def test_read_only_models_cannot_be_changed(
    admin_client: Client, rows: dict[str, Any], model: str, key: str
) -> None:
    obj = rows[key]
    page = admin_client.get(url(model, "change", obj.pk))
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    assert 'name="_save"' not in page.content.decode()
    assert admin_client.post(url(model, "change", obj.pk), {}).status_code == 403


def test_session_page_never_shows_hashes(admin_client: Client, rows: dict[str, Any]) -> None:
    session = rows["session"]
    body = admin_client.get(url("websocketsession", "change", session.pk)).content.decode()
    assert session.connection_id in body
    assert session.session_key_hash not in body
    assert session.auth_hash not in body
    assert "session_key_hash" not in body
    assert "auth_hash" not in body


def test_token_pages_show_only_a_prefix(admin_client: Client, rows: dict[str, Any]) -> None:
    token = rows["token"]
    listing = admin_client.get(url("websockettoken")).content.decode()
    detail = admin_client.get(url("websockettoken", "change", token.pk)).content.decode()
    for body in (listing, detail):
        assert f"{TOKEN[:16]}…" in body
        assert TOKEN[:17] not in body
        assert token.session_key not in body


@pytest.mark.parametrize(
    ("model", "query", "expected"),
    [
        ("websocketsession", "alice", 1),
        ("websocketsession", "AnonConn2", 1),
        ("websocketsession", "news", 1),
        ("websocketsession", "nobody", 0),
        ("websockettoken", "alice", 1),
        ("websockettoken", "bob", 0),
        ("connectionratelimit", "alice", 1),
        ("connectionratelimit", "203.0.113.9", 1),
        ("ratelimitcounter", "203.0.113", 1),
        ("apigateway", "ws.example", 1),
        ("apigatewayadditionalroute", "chat", 1),
        ("channelpermission", "staff", 1),
    ],
)
def test_search(
    admin_client: Client, rows: dict[str, Any], model: str, query: str, expected: int
) -> None:
    response = admin_client.get(url(model), {"q": query})
    assert response.status_code == 200
    assert response.context["cl"].result_count == expected


def test_mark_disconnected_action(admin_client: Client, rows: dict[str, Any]) -> None:
    ids = list(WebSocketSession.objects.values_list("pk", flat=True))
    response = admin_client.post(
        url("websocketsession"),
        {"action": "mark_disconnected", "_selected_action": ids},
        follow=True,
    )
    assert "Marked 2 sessions as disconnected." in response.content.decode()
    assert not WebSocketSession.objects.filter(connected=True).exists()


def test_mark_disconnected_needs_change_permission(
    client: Client, rows: dict[str, Any], django_user_model: Any
) -> None:
    viewer = django_user_model.objects.create_user("viewer", "v@example.com", "pw", is_staff=True)
    viewer.user_permissions.add(
        Permission.objects.get(codename="view_websocketsession"),
        Permission.objects.get(codename="delete_websocketsession"),
    )
    client.force_login(viewer)
    page = client.get(url("websocketsession"))
    assert page.status_code == 200
    actions = [name for name, _label in page.context["action_form"].fields["action"].choices]
    assert "delete_selected" in actions
    assert "mark_disconnected" not in actions
    client.post(
        url("websocketsession"),
        {"action": "mark_disconnected", "_selected_action": [rows["session"].pk]},
    )
    assert WebSocketSession.objects.get(pk=rows["session"].pk).connected


def test_channel_permission_summary_column(admin_client: Client, rows: dict[str, Any]) -> None:
    ChannelPermission.objects.create(channel_name="open", access="allow_all")
    ChannelPermission.objects.create(channel_name="locked", access="permissions")
    body = admin_client.get(url("channelpermission")).content.decode()
    assert "(auth.add_user AND auth.change_user) OR (auth.view_user)" in body
    assert "superusers only (no rules)" in body


def test_channel_permission_changelist_queries_do_not_grow_with_rows(
    admin_client: Client, rows: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    admin_client.get(url("channelpermission"))  # warm caches (content types, session)
    with django_assert_max_num_queries(12) as few:
        admin_client.get(url("channelpermission"))
    perm = Permission.objects.get(codename="view_user")
    for index in range(15):
        channel = ChannelPermission.objects.create(channel_name=f"c{index}", access="permissions")
        ChannelPermissionRule.objects.create(channel_permission=channel).permissions.add(perm)
    with django_assert_max_num_queries(len(few.captured_queries)):
        admin_client.get(url("channelpermission"))


def test_channel_permission_add_with_inline_rule(admin_client: Client, db: None) -> None:
    page = admin_client.get(url("channelpermission", "add"))
    assert "selectfilter" in page.content.decode()  # filter_horizontal widget
    perms = Permission.objects.filter(codename__in=["add_user", "change_user"])
    response = admin_client.post(
        url("channelpermission", "add"),
        {
            "channel_name": "editors",
            "access": "permissions",
            "description": "",
            "rules-TOTAL_FORMS": "1",
            "rules-INITIAL_FORMS": "0",
            "rules-MIN_NUM_FORMS": "0",
            "rules-MAX_NUM_FORMS": "1000",
            "rules-0-permissions": [p.pk for p in perms],
        },
    )
    assert response.status_code == 302, response.context["errors"]
    channel = ChannelPermission.objects.get(channel_name="editors")
    assert [set(r.permissions.all()) for r in channel.rules.all()] == [set(perms)]


def test_channel_permission_rejects_bad_channel_name(admin_client: Client, db: None) -> None:
    response = admin_client.post(
        url("channelpermission", "add"),
        {
            "channel_name": "not a.channel",
            "access": "allow_all",
            "rules-TOTAL_FORMS": "0",
            "rules-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "channel_name" in response.context["adminform"].form.errors
    assert not ChannelPermission.objects.exists()


def test_gateway_page_lists_its_routes_inline(admin_client: Client, rows: dict[str, Any]) -> None:
    gateway = rows["session"].api_gateway
    body = admin_client.get(url("apigateway", "change", gateway.pk)).content.decode()
    assert "Chat route" in body
    assert 'name="additional_routes-0-route_key"' in body


def test_route_pages_render(admin_client: Client, rows: dict[str, Any]) -> None:
    route = rows["session"].api_gateway.additional_routes.get()
    body = admin_client.get(url("apigatewayadditionalroute", "change", route.pk)).content.decode()
    assert "https://www.example.com/ws/chat" in body
    assert admin_client.get(url("apigatewayadditionalroute", "add")).status_code == 200
    assert admin_client.get(url("apigateway", "add")).status_code == 200


def test_summarise_rules() -> None:
    assert summarise_rules([["a.x", "a.y"], ["b.z"]]) == "(a.x AND a.y) OR (b.z)"
    assert summarise_rules([[], ["b.z"]]) == "(b.z)"
    assert summarise_rules([]) == ""


def test_gateway_added_with_an_inline_route(admin_client: Client, db: None) -> None:
    response = admin_client.post(
        url("apigateway", "add"),
        {
            "api_name": "from-admin",
            "api_description": "",
            "default_channel_name": "",
            "domain_name": "",
            "target_base_endpoint": "https://www.example.com/ws/",
            "certificate_arn": "",
            "hosted_zone_id": "",
            "api_key_selection_expression": "$request.header.x-api-key",
            "route_selection_expression": "$request.body.action",
            "route_key": "$default",
            "stage_name": "production",
            "stage_description": "",
            "tags": "{}",
            "api_id": "",
            "api_endpoint": "",
            "api_gateway_domain_name": "",
            "api_mapping_id": "",
            "provisioning_status": "pending",
            "additional_routes-TOTAL_FORMS": "1",
            "additional_routes-INITIAL_FORMS": "0",
            "additional_routes-MIN_NUM_FORMS": "0",
            "additional_routes-MAX_NUM_FORMS": "1000",
            "additional_routes-0-name": "Chat",
            "additional_routes-0-route_key": "chat",
            "additional_routes-0-integration_url": "https://www.example.com/ws/chat",
        },
    )
    assert response.status_code == 302, response.context["errors"]
    gateway = ApiGateway.objects.get(api_name="from-admin")
    assert list(gateway.additional_routes.values_list("route_key", flat=True)) == ["chat"]
