"""A run that dies between AWS creating the API and the id being saved, and a domain
mapped elsewhere, against the moto server."""

from __future__ import annotations

from typing import Any

import pytest

from django_aws_api_gateway_websockets.models import ApiGateway
from django_aws_api_gateway_websockets.provisioning import plan_gateway
from django_aws_api_gateway_websockets.provisioning.spec import OWNER_TAG

from .test_create import add_route, routes_by_key
from .test_domain import CERTIFICATE

pytestmark = [pytest.mark.aws, pytest.mark.django_db]

Status = ApiGateway.ProvisioningStatus


class Killed(BaseException):
    """The process dies: nothing after the AWS call runs, not even error handling."""


def die_after(client: Any, operation: str) -> Any:
    def handler(**kwargs: Any) -> None:
        raise Killed(operation)

    event = f"after-call.apigatewayv2.{operation}"
    client.meta.events.register(event, handler)
    return lambda: client.meta.events.unregister(event, handler)


def test_a_run_killed_after_create_api_is_adopted_not_duplicated(gateway, apigw, reader):
    add_route(gateway, "chat", response=True)
    revive = die_after(apigw, "CreateApi")
    with pytest.raises(Killed):
        gateway.create_gateway()
    revive()
    gateway.refresh_from_db()
    assert gateway.api_id == "", "the id was never saved"
    [orphan] = reader.get_apis()["Items"]

    plan = plan_gateway(gateway)
    assert plan.drift[0] == (
        f"API {orphan['ApiId']} was created for this gateway but its id was not saved "
        "(createApiGateway adopts it)"
    )
    assert "+ api Chat API (WEBSOCKET)" not in plan.lines()

    assert gateway.create_gateway(force=True) is True  # the dead run's claim is taken over

    gateway.refresh_from_db()
    assert [api["ApiId"] for api in reader.get_apis()["Items"]] == [orphan["ApiId"]]
    assert gateway.api_id == orphan["ApiId"]
    assert gateway.provisioning_status == Status.DEPLOYED
    assert set(routes_by_key(reader, gateway.api_id)) == {
        "$connect",
        "$disconnect",
        "$default",
        "chat",
    }
    assert plan_gateway(gateway).lines() == ["No changes."]


def test_an_api_tagged_for_another_row_is_left_alone(gateway, reader):
    other = reader.create_api(
        Name=gateway.api_name,
        ProtocolType="WEBSOCKET",
        RouteSelectionExpression="$request.body.action",
        Tags={OWNER_TAG: f"{gateway.pk}/20200101T000000.000000"},  # same pk, other database
    )
    reader.create_api(  # the right tag on an HTTP API is not ours either
        Name=gateway.api_name,
        ProtocolType="HTTP",
        Tags={OWNER_TAG: f"{gateway.pk}/{gateway.created_on:%Y%m%dT%H%M%S.%f}"},
    )

    assert plan_gateway(gateway).drift == []
    gateway.create_gateway()

    gateway.refresh_from_db()
    assert gateway.api_id not in ("", other["ApiId"])
    assert len(reader.get_apis()["Items"]) == 3


@pytest.fixture
def mapped(gateway: ApiGateway, aws: str) -> ApiGateway:
    """A gateway created with its custom domain and API mapping."""
    gateway.domain_name = "ws.example.com"
    gateway.certificate_arn = CERTIFICATE
    gateway.save()
    gateway.create_gateway()
    gateway.create_custom_domain()
    return gateway


def test_a_domain_mapped_to_another_stage_is_drift(mapped, reader):
    gateway = mapped
    assert plan_gateway(gateway).lines() == ["No changes."]

    reader.create_stage(ApiId=gateway.api_id, StageName="staging")
    reader.delete_api_mapping(ApiMappingId=gateway.api_mapping_id, DomainName="ws.example.com")
    reader.create_api_mapping(ApiId=gateway.api_id, DomainName="ws.example.com", Stage="staging")

    plan = plan_gateway(gateway)
    assert plan.drift == [
        f"domain ws.example.com is mapped to API {gateway.api_id} stage staging, "
        f"the records say API {gateway.api_id} stage production"
    ]
    assert plan.changes == [], "the mapping exists; only its stage is wrong"


def test_a_domain_mapped_to_another_api_is_drift(mapped, reader):
    gateway = mapped
    other = reader.create_api(
        Name="other", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action"
    )
    reader.create_stage(ApiId=other["ApiId"], StageName="live")
    reader.delete_api_mapping(ApiMappingId=gateway.api_mapping_id, DomainName="ws.example.com")
    reader.create_api_mapping(ApiId=other["ApiId"], DomainName="ws.example.com", Stage="live")

    plan = plan_gateway(gateway)

    assert plan.drift == [
        f"domain ws.example.com is mapped to API {other['ApiId']} stage live, "
        f"the records say API {gateway.api_id} stage production"
    ]
    assert [str(change) for change in plan.changes] == ["+ api mapping ws.example.com (production)"]
