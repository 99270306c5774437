"""Creating a gateway against moto in server mode, and reading back what AWS holds."""

from __future__ import annotations

from typing import Any

import pytest

from django_aws_api_gateway_websockets.models import ApiGateway, ApiGatewayAdditionalRoute
from django_aws_api_gateway_websockets.provisioning.spec import OWNER_TAG, owner_tag_value

pytestmark = [pytest.mark.aws, pytest.mark.django_db]

Status = ApiGateway.ProvisioningStatus


def routes_by_key(reader: Any, api_id: str) -> dict[str, dict[str, Any]]:
    return {r["RouteKey"]: r for r in reader.get_routes(ApiId=api_id)["Items"]}


def integrations_by_id(reader: Any, api_id: str) -> dict[str, dict[str, Any]]:
    return {i["IntegrationId"]: i for i in reader.get_integrations(ApiId=api_id)["Items"]}


def add_route(gateway: ApiGateway, key: str, response: bool = False) -> ApiGatewayAdditionalRoute:
    return ApiGatewayAdditionalRoute.objects.create(
        api_gateway=gateway,
        name=key,
        route_key=key,
        integration_url=f"https://www.example.com/ws/{key}",
        route_response=response,
    )


def test_create_gateway_builds_api_routes_stage_and_deployment(gateway, reader):
    add_route(gateway, "chat", response=True)
    add_route(gateway, "notify")

    assert gateway.create_gateway() is True

    gateway.refresh_from_db()
    assert gateway.provisioning_status == Status.DEPLOYED
    assert gateway.api_created
    assert gateway.api_id
    assert gateway.deployment_id
    assert gateway.last_error == ""
    api = reader.get_api(ApiId=gateway.api_id)
    assert api["ProtocolType"] == "WEBSOCKET"
    assert api["Name"] == "Chat API"
    assert api["RouteSelectionExpression"] == "$request.body.action"
    assert api["Tags"] == {"team": "web", OWNER_TAG: owner_tag_value(gateway)}
    assert gateway.api_endpoint == api["ApiEndpoint"]

    routes = routes_by_key(reader, gateway.api_id)
    assert set(routes) == {"$connect", "$disconnect", "$default", "chat", "notify"}
    integrations = integrations_by_id(reader, gateway.api_id)
    assert len(integrations) == 5
    for key, route in routes.items():
        integration = integrations[route["Target"].removeprefix("integrations/")]
        slug = key.lstrip("$")
        assert integration["IntegrationUri"] == f"https://www.example.com/ws/{slug}"
        assert integration["IntegrationType"] == "HTTP_PROXY"
        assert integration["IntegrationMethod"] == "POST"
        assert integration["RequestParameters"] == {
            "integration.request.header.connectionId": "context.connectionId"
        }
        assert route["AuthorizationType"] == "NONE"

    stage = reader.get_stage(ApiId=gateway.api_id, StageName="production")
    assert stage["StageName"] == "production"
    deployment = reader.get_deployment(ApiId=gateway.api_id, DeploymentId=gateway.deployment_id)
    assert deployment["Description"] == "first"

    for route in ApiGatewayAdditionalRoute.objects.all():
        assert route.deployed
        assert routes[route.route_key]["RouteId"] == route.route_id
        assert routes[route.route_key]["Target"] == f"integrations/{route.integration_id}"


def test_route_response_only_where_asked(gateway, reader):
    gateway.default_route_response = True
    gateway.save()
    add_route(gateway, "chat", response=True)
    add_route(gateway, "notify")

    gateway.create_gateway()

    routes = routes_by_key(reader, gateway.api_id)
    answered = {
        key
        for key, route in routes.items()
        if reader.get_route_responses(ApiId=gateway.api_id, RouteId=route["RouteId"])["Items"]
    }
    assert answered == {"$default", "chat"}
    assert routes["chat"]["RouteResponseSelectionExpression"] == "$default"
    response = reader.get_route_responses(ApiId=gateway.api_id, RouteId=routes["chat"]["RouteId"])
    assert response["Items"][0]["RouteResponseKey"] == "$default"


def test_gateway_secret_is_mapped_on_every_integration(gateway, reader, settings):
    secret = "s" * 40
    settings.WEBSOCKETS = {"gateway_secret": [secret, "o" * 40]}

    gateway.create_gateway()

    for integration in reader.get_integrations(ApiId=gateway.api_id)["Items"]:
        assert integration["RequestParameters"] == {
            "integration.request.header.connectionId": "context.connectionId",
            "integration.request.header.X-Ws-Gateway-Secret": f"'{secret}'",
        }


def test_blank_stage_is_production(gateway, reader):
    gateway.stage_name = ""
    gateway.save()

    gateway.create_gateway()

    assert reader.get_stage(ApiId=gateway.api_id, StageName="production")["StageName"]


def test_second_run_does_nothing(gateway, reader):
    gateway.create_gateway()

    assert gateway.create_gateway() is False
    assert len(reader.get_apis()["Items"]) == 1


def test_without_target_endpoint_nothing_is_created(db, reader):
    gateway = ApiGateway.objects.create(api_name="No target")

    with pytest.raises(ValueError, match="target_base_endpoint"):
        gateway.create_gateway()

    assert reader.get_apis()["Items"] == []
    gateway.refresh_from_db()
    assert gateway.provisioning_status == Status.PENDING
