"""The provisioning management commands, end to end against the moto server."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from django_aws_api_gateway_websockets.models import ApiGateway

from .test_create import add_route, routes_by_key

pytestmark = [pytest.mark.aws, pytest.mark.django_db]

Status = ApiGateway.ProvisioningStatus


def run(name: str, *args: Any) -> str:
    out = StringIO()
    call_command(name, *args, stdout=out)
    return out.getvalue()


def create(gateway: ApiGateway) -> None:
    run("createApiGateway", "--pk", gateway.pk)
    gateway.refresh_from_db()


def test_create_api_gateway_command(gateway, reader):
    output = run("createApiGateway", "--pk", gateway.pk)

    gateway.refresh_from_db()
    assert f"Created Chat API: API {gateway.api_id}" in output
    assert gateway.provisioning_status == Status.DEPLOYED
    with pytest.raises(CommandError, match="Chat API is already created"):
        run("createApiGateway", "--pk", gateway.pk)


def test_unknown_pk_is_a_clear_error(db):
    for name in ("createApiGateway", "createCustomDomain", "planApiGateway", "printIamPolicy"):
        with pytest.raises(CommandError, match="no API Gateway with pk 999"):
            run(name, "--pk", 999)


def test_failed_run_says_how_to_continue(gateway, apigw, fail_once, reader):
    fail_once(apigw, "CreateStage")

    with pytest.raises(CommandError, match=r"routes_created.*run the command again"):
        run("createApiGateway", "--pk", gateway.pk)

    assert "Created" in run("createApiGateway", "--pk", gateway.pk)


def test_stuck_claim_needs_force(gateway, reader):
    ApiGateway.objects.filter(pk=gateway.pk).update(provisioning_status=Status.CREATING)

    with pytest.raises(CommandError, match="--force"):
        run("createApiGateway", "--pk", gateway.pk)
    assert "Created" in run("createApiGateway", "--pk", gateway.pk, "--force")


def test_plan_flag_changes_nothing(gateway, reader):
    output = run("createApiGateway", "--pk", gateway.pk, "--plan")

    assert "+ api Chat API" in output
    assert reader.get_apis()["Items"] == []


def test_create_custom_domain_command(gateway, reader, route53):
    zone = route53.create_hosted_zone(Name="example.com.", CallerReference="c")["HostedZone"]
    gateway.domain_name = "ws.example.com"
    gateway.certificate_arn = "arn:aws:acm:eu-west-1:123456789012:certificate/abc"
    gateway.hosted_zone_id = zone["Id"].removeprefix("/hostedzone/")
    gateway.save()
    with pytest.raises(CommandError, match="not deployed yet"):
        run("createCustomDomain", "--pk", gateway.pk)
    run("createApiGateway", "--pk", gateway.pk)

    output = run("createCustomDomain", "--pk", gateway.pk)

    assert "Created ws.example.com and its DNS alias" in output
    assert reader.get_domain_name(DomainName="ws.example.com")["DomainName"]
    with pytest.raises(CommandError, match="already created"):
        run("createCustomDomain", "--pk", gateway.pk)


def test_update_integrations_sets_rotates_and_removes_the_secret(gateway, reader, settings):
    add_route(gateway, "chat")
    create(gateway)
    deployments = len(reader.get_deployments(ApiId=gateway.api_id)["Items"])
    assert "Chat API: up to date" in run("updateApiGatewayIntegrations")

    settings.WEBSOCKETS = {"gateway_secret": "n" * 40}
    assert "would update 4 integration(s)" in run("updateApiGatewayIntegrations", "--dry-run")
    assert len(reader.get_deployments(ApiId=gateway.api_id)["Items"]) == deployments

    assert "updated 4 integration(s)" in run("updateApiGatewayIntegrations", "--pk", gateway.pk)
    for integration in reader.get_integrations(ApiId=gateway.api_id)["Items"]:
        secret = integration["RequestParameters"]["integration.request.header.X-Ws-Gateway-Secret"]
        assert secret == "'" + "n" * 40 + "'"
    assert len(reader.get_deployments(ApiId=gateway.api_id)["Items"]) == deployments + 1
    assert "up to date" in run("updateApiGatewayIntegrations")

    settings.WEBSOCKETS = {}
    assert "updated 4 integration(s)" in run("updateApiGatewayIntegrations")
    for integration in reader.get_integrations(ApiId=gateway.api_id)["Items"]:
        assert integration["RequestParameters"] == {
            "integration.request.header.connectionId": "context.connectionId"
        }


def test_update_integrations_leaves_foreign_integrations_alone(gateway, reader, settings):
    create(gateway)
    foreign = reader.create_integration(
        ApiId=gateway.api_id, IntegrationType="HTTP_PROXY", IntegrationUri="https://other.test/"
    )
    settings.WEBSOCKETS = {"gateway_secret": "n" * 40}

    assert "updated 3 integration(s)" in run("updateApiGatewayIntegrations")

    untouched = reader.get_integration(ApiId=gateway.api_id, IntegrationId=foreign["IntegrationId"])
    assert not untouched.get("RequestParameters")


def test_update_integrations_rejects_a_bad_secret(gateway, settings):
    settings.WEBSOCKETS = {"gateway_secret": "short"}

    with pytest.raises(CommandError, match="32 or more"):
        run("updateApiGatewayIntegrations")


def test_update_integrations_reports_each_failed_gateway(gateway, reader, apigw, fail_once):
    create(gateway)
    other = ApiGateway.objects.create(
        api_name="Other", target_base_endpoint="https://www.example.com/other/"
    )
    run("createApiGateway", "--pk", other.pk)
    fail_once(apigw, "GetIntegrations")

    with pytest.raises(CommandError, match=r"Failed for: Chat API \(ClientError"):
        run("updateApiGatewayIntegrations")


def test_plan_command_reports_changes_and_drift(gateway, reader):
    add_route(gateway, "chat")
    create(gateway)
    assert "No changes." in run("planApiGateway", "--pk", gateway.pk)
    routes = routes_by_key(reader, gateway.api_id)
    reader.delete_route(ApiId=gateway.api_id, RouteId=routes["chat"]["RouteId"])
    reader.update_api(ApiId=gateway.api_id, Description="edited in the console")

    output = run("planApiGateway", "--pk", gateway.pk)

    assert "~ api Chat API (Description)" in output
    assert "+ route chat" in output
    assert "route chat is recorded as deployed but not in AWS" in output
    assert len(routes_by_key(reader, gateway.api_id)) == 3, "planning changed nothing"


def test_print_iam_policy_uses_sts_account(gateway, reader):
    create(gateway)

    policy = json.loads(run("printIamPolicy", "--pk", gateway.pk))

    resources = json.dumps(policy)
    assert f"arn:aws:apigateway:eu-west-1::/apis/{gateway.api_id}" in resources
    assert (
        f"arn:aws:execute-api:eu-west-1:123456789012:{gateway.api_id}/production/POST/@connections/*"
        in resources
    )


def test_print_iam_policy_rejects_a_bad_account(gateway):
    with pytest.raises(CommandError, match="12-digit"):
        run("printIamPolicy", "--pk", gateway.pk, "--account-id", "12x")


def test_update_integrations_keeps_other_request_parameters(gateway, reader, settings):
    # 4.1.0 added the secret to an integration's parameters and kept the others.
    create(gateway)
    route = routes_by_key(reader, gateway.api_id)["$default"]
    integration_id = route["Target"].split("/")[1]
    extra = {"integration.request.header.X-Extra": "'1'"}
    reader.update_integration(
        ApiId=gateway.api_id,
        IntegrationId=integration_id,
        RequestParameters={"integration.request.header.connectionId": "context.connectionId"}
        | extra,
    )
    settings.WEBSOCKETS = {"gateway_secret": "n" * 40}

    assert integration_id in run("updateApiGatewayIntegrations", "--dry-run")
    run("updateApiGatewayIntegrations")

    parameters = reader.get_integration(ApiId=gateway.api_id, IntegrationId=integration_id)[
        "RequestParameters"
    ]
    assert parameters["integration.request.header.X-Ws-Gateway-Secret"] == "'" + "n" * 40 + "'"
    assert parameters["integration.request.header.X-Extra"] == "'1'"


def test_the_create_commands_call_the_models_methods(gateway, monkeypatch):
    # As in 4.1.0: a project that overrides create_gateway/create_custom_domain is obeyed.
    calls: list[tuple[str, dict]] = []
    monkeypatch.setattr(
        ApiGateway, "create_gateway", lambda self, **kw: calls.append(("api", kw)) or True
    )
    monkeypatch.setattr(ApiGateway, "needs_custom_domain", True)
    monkeypatch.setattr(
        ApiGateway, "create_custom_domain", lambda self: calls.append(("domain", {})) or True
    )

    run("createApiGateway", "--pk", gateway.pk)
    run("createApiGateway", "--pk", gateway.pk, "--force")
    run("createCustomDomain", "--pk", gateway.pk)

    assert calls == [("api", {}), ("api", {"force": True}), ("domain", {})]
