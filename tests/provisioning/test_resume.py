"""A failure at any step leaves a record that the next run finishes, without duplicates."""

from __future__ import annotations

from datetime import timedelta

import pytest
from botocore.exceptions import ClientError
from django.utils import timezone

from django_aws_api_gateway_websockets.models import ApiGateway
from django_aws_api_gateway_websockets.provisioning import ClaimError

from .test_create import add_route, integrations_by_id, routes_by_key

pytestmark = [pytest.mark.aws, pytest.mark.django_db]

Status = ApiGateway.ProvisioningStatus

STEPS = [
    ("CreateApi", Status.PENDING),
    ("CreateIntegration", Status.API_CREATED),
    ("CreateRoute", Status.API_CREATED),
    ("CreateRouteResponse", Status.API_CREATED),
    ("CreateStage", Status.ROUTES_CREATED),
    ("CreateDeployment", Status.ROUTES_CREATED),
]


@pytest.mark.parametrize(("operation", "status_after_failure"), STEPS)
def test_failure_part_way_is_recorded_and_resumed(
    gateway, apigw, reader, fail_once, operation, status_after_failure
):
    gateway.default_route_response = True
    gateway.save()
    add_route(gateway, "chat", response=True)
    fail_once(apigw, operation)

    with pytest.raises(ClientError):
        gateway.create_gateway()

    gateway.refresh_from_db()
    assert gateway.provisioning_status == status_after_failure
    assert gateway.last_error == "ClientError: TooManyRequestsException"
    assert gateway.needs_api_creation

    assert gateway.create_gateway() is True

    gateway.refresh_from_db()
    assert gateway.provisioning_status == Status.DEPLOYED
    assert gateway.last_error == ""
    assert len(reader.get_apis()["Items"]) == 1
    routes = routes_by_key(reader, gateway.api_id)
    assert set(routes) == {"$connect", "$disconnect", "$default", "chat"}
    integrations = integrations_by_id(reader, gateway.api_id)
    targets = {route["Target"].removeprefix("integrations/") for route in routes.values()}
    assert targets == set(integrations), "no orphan or duplicate integration"
    for key in ("$default", "chat"):
        responses = reader.get_route_responses(ApiId=gateway.api_id, RouteId=routes[key]["RouteId"])
        assert len(responses["Items"]) == 1
    assert reader.get_deployment(ApiId=gateway.api_id, DeploymentId=gateway.deployment_id)


@pytest.mark.parametrize("first_failure", ["CreateRoute", "CreateStage"])
def test_a_failed_resume_keeps_the_progress_of_the_run_before(
    gateway, apigw, fail_once, first_failure
):
    fail_once(apigw, first_failure)
    with pytest.raises(ClientError):
        gateway.create_gateway()
    gateway.refresh_from_db()
    before = gateway.provisioning_status
    fail_once(apigw, "GetApi")

    with pytest.raises(ClientError):
        gateway.create_gateway()

    gateway.refresh_from_db()
    assert gateway.provisioning_status == before
    assert gateway.needs_api_creation, "not mistaken for a deployed row of the original"
    assert gateway.create_gateway() is True


def test_a_live_claim_blocks_a_second_run(gateway, reader):
    ApiGateway.objects.filter(pk=gateway.pk).update(provisioning_status=Status.CREATING)
    gateway.refresh_from_db()

    with pytest.raises(ClaimError, match="being created by another run"):
        gateway.create_gateway()

    assert reader.get_apis()["Items"] == []


def test_a_stale_claim_is_taken_over(gateway, reader):
    ApiGateway.objects.filter(pk=gateway.pk).update(
        provisioning_status=Status.CREATING, updated_on=timezone.now() - timedelta(minutes=16)
    )
    gateway.refresh_from_db()

    assert gateway.create_gateway() is True

    gateway.refresh_from_db()
    assert gateway.provisioning_status == Status.DEPLOYED


def test_force_takes_over_a_fresh_claim(gateway, reader):
    ApiGateway.objects.filter(pk=gateway.pk).update(provisioning_status=Status.CREATING)
    gateway.refresh_from_db()

    assert gateway.create_gateway(force=True) is True
    assert len(reader.get_apis()["Items"]) == 1


def test_a_recorded_api_that_vanished_is_created_again(gateway, reader):
    gateway.create_gateway()
    reader.delete_api(ApiId=gateway.api_id)
    ApiGateway.objects.filter(pk=gateway.pk).update(provisioning_status=Status.API_CREATED)
    gateway.refresh_from_db()
    old_id = gateway.api_id

    gateway.create_gateway()

    gateway.refresh_from_db()
    assert gateway.api_id != old_id
    assert set(routes_by_key(reader, gateway.api_id)) == {"$connect", "$disconnect", "$default"}
