"""The admin's AWS actions and save/delete reporting, through the test client and moto."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import reverse

from django_aws_api_gateway_websockets.models import ApiGateway, ApiGatewayAdditionalRoute

from .test_create import add_route, routes_by_key

pytestmark = [pytest.mark.aws, pytest.mark.django_db, pytest.mark.urls("tests.provisioning.urls")]

CHANGELIST = "admin:django_aws_api_gateway_websockets_apigateway_changelist"


def act(client: Client, action: str, *gateways: ApiGateway) -> list[str]:
    response = client.post(
        reverse(CHANGELIST),
        {"action": action, "_selected_action": [g.pk for g in gateways]},
        follow=True,
    )
    assert response.status_code == 200
    return [str(m) for m in response.context["messages"]]


def test_create_then_sync_actions(admin_client, gateway, reader):
    # The messages of 4.1.0's actions.
    assert act(admin_client, "create_api_gateway", gateway) == ["Chat API created"]
    gateway.refresh_from_db()
    assert gateway.is_deployed

    assert act(admin_client, "create_api_gateway", gateway) == ["Chat API already created"]
    assert act(admin_client, "sync_to_aws", gateway) == ["Chat API: already in sync with AWS"]
    reader.update_api(ApiId=gateway.api_id, Description="console")
    assert act(admin_client, "sync_from_aws", gateway) == [
        "Chat API: synced from AWS. Updated api_description"
    ]


def test_each_gateway_gets_its_own_message(admin_client, gateway, reader):
    broken = ApiGateway.objects.create(api_name="No endpoint")

    messages = act(admin_client, "create_api_gateway", gateway, broken)

    assert messages == ["Chat API created", "No endpoint: No endpoint has no target_base_endpoint."]


def test_custom_domain_action(admin_client, gateway, reader):
    gateway.domain_name = "ws.example.com"
    gateway.certificate_arn = "arn:aws:acm:eu-west-1:123456789012:certificate/abc"
    gateway.save()
    assert "before its custom domain" in act(admin_client, "create_custom_domain", gateway)[0]
    gateway.create_gateway()

    [message] = act(admin_client, "create_custom_domain", gateway)

    assert message == "ws.example.com custom domain created"


def test_actions_need_the_change_permission(client, gateway, aws):
    user = User.objects.create_user("viewer", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_apigateway"))
    client.force_login(user)

    page = client.get(reverse(CHANGELIST))

    assert page.status_code == 200
    assert b"create_api_gateway" not in page.content
    client.post(
        reverse(CHANGELIST), {"action": "create_api_gateway", "_selected_action": [gateway.pk]}
    )
    gateway.refresh_from_db()
    assert not gateway.api_created


@pytest.mark.django_db(transaction=True)
def test_a_failed_push_on_save_is_shown(admin_client, gateway, reader, apigw, fail_once):
    gateway.create_gateway()
    route = add_route(gateway, "chat")  # no transaction: created in AWS at once
    fail_once(apigw, "UpdateApi")
    data: dict[str, Any] = {
        "api_name": "Renamed",
        "api_description": "chat",
        "target_base_endpoint": "https://www.example.com/ws/",
        "api_key_selection_expression": "$request.header.x-api-key",
        "route_selection_expression": "$request.body.action",
        "route_key": "$default",
        "stage_name": "production",
        "tags": '{"team": "web"}',
        "provisioning_status": "deployed",
        "additional_routes-TOTAL_FORMS": "1",
        "additional_routes-INITIAL_FORMS": "1",
        "additional_routes-0-id": str(route.pk),
        "additional_routes-0-api_gateway": str(gateway.pk),
        "additional_routes-0-name": "chat",
        "additional_routes-0-route_key": "chat",
        "additional_routes-0-integration_url": "https://www.example.com/ws/chat",
    }
    url = reverse("admin:django_aws_api_gateway_websockets_apigateway_change", args=[gateway.pk])

    response = admin_client.post(url, data, follow=True)

    messages = [str(m) for m in response.context["messages"]]
    assert "Saved, but AWS was not updated: ClientError: TooManyRequestsException" in messages
    gateway.refresh_from_db()
    assert gateway.api_name == "Renamed"
    assert gateway.last_error == "ClientError: TooManyRequestsException"
    assert "chat" in routes_by_key(reader, gateway.api_id)


def test_bulk_delete_of_routes_deletes_them_in_aws(
    gateway, reader, django_capture_on_commit_callbacks
):
    add_route(gateway, "chat")
    add_route(gateway, "typing")
    gateway.create_gateway()

    with django_capture_on_commit_callbacks(execute=True):
        ApiGatewayAdditionalRoute.objects.filter(route_key__in=["chat", "typing"]).delete()

    assert set(routes_by_key(reader, gateway.api_id)) == {"$connect", "$disconnect", "$default"}


def test_deleting_a_gateway_keeps_its_api_in_aws(
    gateway, reader, django_capture_on_commit_callbacks
):
    add_route(gateway, "chat")
    gateway.create_gateway()
    api_id = gateway.api_id

    with django_capture_on_commit_callbacks(execute=True):
        gateway.delete()

    assert "chat" in routes_by_key(reader, api_id)


def test_create_action_skips_a_created_gateway_without_calling_aws(admin_client, gateway, reader):
    # 4.1.0 calls create_gateway only for gateways that need creating.
    gateway.create_gateway()
    before = len(reader.get_apis()["Items"])
    assert act(admin_client, "create_api_gateway", gateway) == ["Chat API already created"]
    assert len(reader.get_apis()["Items"]) == before


def test_an_unexpected_failure_is_reported_by_its_kind(admin_client, gateway, monkeypatch):
    # 4.1.0 reported any failure as "Failed to create ...: <ErrorClass>", not a 500.
    def fail(*args: Any, **kwargs: Any) -> bool:
        raise RuntimeError("secret detail")

    monkeypatch.setattr(ApiGateway, "create_gateway", fail)
    assert act(admin_client, "create_api_gateway", gateway) == [
        "Failed to create Chat API: RuntimeError"
    ]


@pytest.mark.django_db(transaction=True)
def test_a_failure_creating_a_route_at_once_is_a_message_not_an_error_page(
    admin_client, gateway, reader, apigw, fail_once
):
    # A new route is created in AWS during the save (4.1.0); the admin reports its
    # failure as a message, as 4.1.0's save_model did, and keeps the record.
    gateway.create_gateway()
    fail_once(apigw, "CreateIntegration")
    url = reverse("admin:django_aws_api_gateway_websockets_apigatewayadditionalroute_add")

    response = admin_client.post(
        url,
        {
            "api_gateway": gateway.pk,
            "name": "typing",
            "route_key": "typing",
            "integration_url": "https://www.example.com/ws/typing",
        },
        follow=True,
    )

    assert response.status_code == 200
    messages = [str(m) for m in response.context["messages"]]
    assert "Saved, but AWS was not updated: ClientError: TooManyRequestsException" in messages
    assert ApiGatewayAdditionalRoute.objects.filter(route_key="typing", deployed=False).exists()
