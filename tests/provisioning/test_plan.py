"""planApiGateway's plan and drift for routes and custom domains, read from moto."""

from __future__ import annotations

import pytest

from django_aws_api_gateway_websockets.models import ApiGatewayAdditionalRoute
from django_aws_api_gateway_websockets.provisioning import plan_gateway

from .test_create import add_route, routes_by_key
from .test_domain import CERTIFICATE, make_zone

pytestmark = [pytest.mark.aws, pytest.mark.django_db]


def test_plan_of_route_edits_made_without_pushing(gateway, reader):
    add_route(gateway, "chat", response=True)
    add_route(gateway, "typing")
    gateway.create_gateway()
    chat = ApiGatewayAdditionalRoute.objects.get(route_key="chat")
    chat.route_key = "talk"
    chat.route_response = False
    chat.save(push_to_aws=False)
    typing = ApiGatewayAdditionalRoute.objects.get(route_key="typing")
    typing.integration_url = "https://www.example.com/ws/typing-v2"
    typing.route_response = True
    typing.save(push_to_aws=False)
    ApiGatewayAdditionalRoute(
        api_gateway=gateway, name="new", route_key="new", integration_url="https://a.test/new"
    ).save(push_to_aws=False)

    lines = plan_gateway(gateway).lines()

    assert lines == [
        "~ route talk (rename from chat)",
        "- route response talk",
        "~ integration typing (uri https://www.example.com/ws/typing -> "
        "https://www.example.com/ws/typing-v2)",
        "+ route response typing",
        "+ integration new (https://a.test/new)",
        "+ route new",
        "+ deployment production",
    ]
    assert set(routes_by_key(reader, gateway.api_id)) == {
        "$connect",
        "$disconnect",
        "$default",
        "chat",
        "typing",
    }, "planning changed nothing"


LATE = "https://www.example.com/ws/late"


def test_plan_reuses_an_unattached_integration(gateway, reader):
    gateway.create_gateway()
    reader.create_integration(
        ApiId=gateway.api_id,
        IntegrationType="HTTP_PROXY",
        IntegrationUri=LATE,
    )
    ApiGatewayAdditionalRoute(
        api_gateway=gateway, name="late", route_key="late", integration_url=LATE
    ).save(push_to_aws=False)

    assert plan_gateway(gateway).lines()[:2] == [
        "~ integration late (reuse unattached)",
        "+ route late",
    ]


def test_plan_of_a_custom_domain_and_its_record(gateway, reader, route53):
    zone = make_zone(route53)
    gateway.domain_name = "ws.example.com"
    gateway.certificate_arn = CERTIFICATE
    gateway.hosted_zone_id = zone
    gateway.save()
    gateway.create_gateway()

    assert plan_gateway(gateway).lines() == [
        "+ domain ws.example.com (REGIONAL, TLS_1_2)",
        "+ api mapping ws.example.com (production)",
        f"+ route53 alias ws.example.com (A record in zone {zone})",
    ]

    gateway.create_custom_domain()
    assert plan_gateway(gateway).lines() == ["No changes."]

    [record] = [
        r
        for r in route53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
        if r["Type"] == "A"
    ]
    route53.change_resource_record_sets(
        HostedZoneId=zone,
        ChangeBatch={"Changes": [{"Action": "DELETE", "ResourceRecordSet": record}]},
    )
    plan = plan_gateway(gateway)
    assert [str(c) for c in plan.changes] == [
        f"+ route53 alias ws.example.com (A record in zone {zone})"
    ]
    assert plan.drift == ["the alias record of ws.example.com is not as created"]

    reader.delete_domain_name(DomainName="ws.example.com")
    assert "domain ws.example.com is recorded but not in AWS" in plan_gateway(gateway).drift
