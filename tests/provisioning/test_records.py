"""Validation, statuses, plans and the IAM policy: plain code, no AWS."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from django_aws_api_gateway_websockets import models
from django_aws_api_gateway_websockets.models import ApiGateway, ApiGatewayAdditionalRoute
from django_aws_api_gateway_websockets.provisioning import iam_policy
from django_aws_api_gateway_websockets.provisioning.plan import plan_api
from django_aws_api_gateway_websockets.provisioning.state import ApiState

pytestmark = pytest.mark.django_db

Status = ApiGateway.ProvisioningStatus


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("api_name", "chat/api"),
        ("domain_name", "not a domain"),
        ("domain_name", "-bad.example.com"),
        ("stage_name", "prod stage"),
        ("hosted_zone_id", "z-lower"),
        ("default_channel_name", "has space"),
        ("tags", ["not", "a", "dict"]),
        ("tags", {"team": 5}),
        ("target_base_endpoint", "not a url"),
    ],
)
def test_bad_gateway_fields_are_rejected_and_nothing_is_saved(field, value):
    gateway = ApiGateway(api_name="ok", target_base_endpoint="https://www.example.com/ws/")
    setattr(gateway, field, value)

    with pytest.raises(ValidationError) as error:
        gateway.save()

    assert field in error.value.message_dict
    assert not ApiGateway.objects.exists()


def test_save_appends_the_trailing_slash_and_strips_the_zone_prefix():
    gateway = ApiGateway(
        api_name="ok",
        target_base_endpoint="https://www.example.com/ws",
        hosted_zone_id="/hostedzone/Z1",
    )
    gateway.save()

    gateway.refresh_from_db()
    assert gateway.target_base_endpoint == "https://www.example.com/ws/"
    assert gateway.hosted_zone_id == "Z1"


def test_integration_hosts_are_restricted_by_the_setting(settings):
    settings.WEBSOCKETS = {"allowed_integration_hosts": ["*.example.com"]}
    gateway = ApiGateway(api_name="ok", target_base_endpoint="https://example.com/ws/")
    with pytest.raises(ValidationError, match="allowed_integration_hosts"):
        gateway.save()
    gateway.target_base_endpoint = "https://www.example.com/ws/"
    gateway.save()

    route = ApiGatewayAdditionalRoute(
        api_gateway=gateway, name="x", route_key="x", integration_url="https://evil.test/ws/x"
    )
    with pytest.raises(ValidationError) as error:
        route.save()
    assert "integration_url" in error.value.message_dict


def test_reserved_route_keys_are_rejected():
    gateway = ApiGateway.objects.create(api_name="ok")
    route = ApiGatewayAdditionalRoute(
        api_gateway=gateway, name="x", route_key="$connect", integration_url="https://a.test/x"
    )
    with pytest.raises(ValidationError) as error:
        route.save()
    assert "route_key" in error.value.message_dict


@pytest.mark.parametrize(
    ("status", "api_created", "domain", "effective", "needs_api", "needs_domain"),
    [
        (Status.PENDING, False, False, Status.PENDING, True, False),
        (Status.PENDING, True, False, Status.DEPLOYED, False, True),  # rows from 3.x
        (Status.PENDING, True, True, Status.MAPPED, False, False),
        (Status.ROUTES_CREATED, True, False, Status.ROUTES_CREATED, True, False),
        (Status.DOMAIN_CREATED, True, True, Status.DOMAIN_CREATED, False, True),
    ],
)
def test_statuses(status, api_created, domain, effective, needs_api, needs_domain):
    gateway = ApiGateway(
        api_name="x",
        provisioning_status=status,
        api_created=api_created,
        custom_domain_created=domain,
    )
    assert gateway.effective_provisioning_status == effective
    assert gateway.needs_api_creation is needs_api
    assert gateway.needs_custom_domain is needs_domain


def test_a_mapped_domain_still_needs_its_dns_record_once_a_zone_is_set():
    gateway = ApiGateway(api_name="x", provisioning_status=Status.MAPPED)
    assert not gateway.needs_custom_domain
    gateway.hosted_zone_id = "Z1"
    assert gateway.needs_custom_domain
    gateway.dns_record_created = True
    assert not gateway.needs_custom_domain


def test_the_originals_model_level_names_still_import(settings):
    settings.WEBSOCKETS = {"gateway_secret": "k" * 32}
    assert models.integration_request_parameters() == {
        "integration.request.header.connectionId": "context.connectionId",
        "integration.request.header.X-Ws-Gateway-Secret": "'" + "k" * 32 + "'",
    }
    assert issubclass(models.ApiGatewaySyncError, Exception)
    with pytest.raises(AttributeError):
        models.no_such_name  # noqa: B018


def test_plan_for_a_new_gateway_lists_everything():
    gateway = ApiGateway(api_name="Chat", target_base_endpoint="https://a.test/ws/")
    plan = plan_api(gateway, [], ApiState(api=None))

    assert [str(c) for c in plan.changes] == [
        "+ api Chat (WEBSOCKET)",
        "+ integration $connect (https://a.test/ws/connect)",
        "+ route $connect",
        "+ integration $disconnect (https://a.test/ws/disconnect)",
        "+ route $disconnect",
        "+ integration $default (https://a.test/ws/default)",
        "+ route $default",
        "+ stage production",
        "+ deployment production",
    ]
    assert plan.drift == []


def test_plan_reports_a_vanished_api_as_drift():
    gateway = ApiGateway(api_name="Chat", target_base_endpoint="https://a.test/ws/", api_id="gone")
    plan = plan_api(gateway, [], ApiState(api=None))
    assert plan.drift == ["API gone is recorded but not in AWS"]


def test_iam_policy_names_only_this_gateways_resources():
    gateway = ApiGateway(
        api_name="Chat",
        api_id="abc123",
        stage_name="live",
        domain_name="ws.example.com",
        hosted_zone_id="Z1",
    )
    policy = iam_policy(gateway, "eu-west-1", "123456789012")

    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert statements["ManageWebSocketApi"]["Resource"] == [
        "arn:aws:apigateway:eu-west-1::/apis/abc123",
        "arn:aws:apigateway:eu-west-1::/apis/abc123/*",
    ]
    assert (
        "arn:aws:apigateway:eu-west-1::/domainnames/ws.example.com"
        in (statements["ManageCustomDomain"]["Resource"])
    )
    assert statements["CustomDomainAliasRecord"]["Resource"] == "arn:aws:route53:::hostedzone/Z1"
    assert statements["ManageConnections"]["Resource"] == [
        "arn:aws:execute-api:eu-west-1:123456789012:abc123/live/POST/@connections/*"
    ]
    assert all(s["Resource"] != "*" for s in policy["Statement"])


def test_iam_policy_without_domain_or_zone_has_no_such_statements():
    policy = iam_policy(ApiGateway(api_name="Chat"), "eu-west-1", "123456789012")
    sids = {s["Sid"] for s in policy["Statement"]}
    assert sids == {"CreateWebSocketApi", "ManageWebSocketApi", "ManageConnections"}
