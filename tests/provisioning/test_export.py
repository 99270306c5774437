"""exportApiGateway: CloudFormation that cfn-lint accepts, Terraform that parses, and both
naming exactly what planApiGateway would create."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cfnlint.api
import hcl2
import pytest
from django.core.management import CommandError, call_command

from django_aws_api_gateway_websockets.models import ApiGateway
from django_aws_api_gateway_websockets.provisioning import cloudformation, plan_gateway, terraform
from django_aws_api_gateway_websockets.provisioning.declare import declare

from .test_create import add_route
from .test_domain import CERTIFICATE, make_zone

pytestmark = pytest.mark.django_db

SECRET = "s3cr3t" * 7

#: (kind, logical id, properties, logical ids it references)
Parsed = tuple[str, str, dict[str, Any], set[str]]


@pytest.fixture
def full(gateway: ApiGateway, settings: Any) -> ApiGateway:
    """A gateway with every kind of resource: extra routes, route responses, a domain."""
    settings.WEBSOCKETS = {"gateway_secret": SECRET, "push_changes_to_aws": False}
    gateway.default_route_response = True
    gateway.domain_name = "ws.example.com"
    gateway.certificate_arn = CERTIFICATE
    gateway.hosted_zone_id = "/hostedzone/Z0123456789"
    gateway.save()
    add_route(gateway, "chat", response=True)
    add_route(gateway, "typing.start")
    add_route(gateway, "connect")  # a user route named like a default one
    return gateway


def export(gateway: ApiGateway, fmt: str, tmp_path: Path) -> Path:
    path = tmp_path / ("template.json" if fmt == "cloudformation" else "main.tf")
    call_command(
        "exportApiGateway", "--api-gateway", str(gateway.pk), "--format", fmt, "--output", path
    )
    return path


def _cfn_references(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        if "Ref" in value:
            yield value["Ref"]
        for item in value.values():
            yield from _cfn_references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _cfn_references(item)


def parse_cloudformation(path: Path) -> list[Parsed]:
    kinds = {type_: kind for kind, type_ in cloudformation.TYPES.items()}
    resources = json.loads(path.read_text())["Resources"]
    return [
        (kinds[body["Type"]], lid, body["Properties"], set(_cfn_references(body["Properties"])))
        for lid, body in resources.items()
    ]


def _unquote(value: Any) -> Any:
    if isinstance(value, dict):
        return {_unquote(k): _unquote(v) for k, v in value.items() if k != "__is_block__"}
    if isinstance(value, list):
        return [_unquote(item) for item in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def parse_terraform(path: Path) -> list[Parsed]:
    kinds = {type_: kind for kind, type_ in terraform.TYPES.items()}
    parsed = []
    with path.open() as handle:
        document = hcl2.load(handle)
    for item in document["resource"]:
        [(type_, named)] = _unquote(item).items()
        [(name, properties)] = named.items()
        references = set(re.findall(r"(?<![\w.])aws_\w+\.(\w+)\.", json.dumps(properties)))
        parsed.append((kinds[type_], name, properties, references))
    return parsed


def planned(resources: list[Parsed], key: dict[str, str]) -> set[tuple[str, str]]:
    """(kind, name) as planApiGateway names them; ``key`` maps kind -> naming property."""
    by_id = {lid: (kind, props, refs) for kind, lid, props, refs in resources}

    def referrer(lid: str, kind: str) -> dict[str, Any]:
        [props] = [p for k, _, p, refs in resources if k == kind and lid in refs]
        return props

    names = set()
    for kind, lid, props, refs in resources:
        if kind == "integration":
            name = referrer(lid, "route")[key["route"]]
        elif kind == "route response":
            [route] = [by_id[r][1] for r in refs if by_id.get(r, ("",))[0] == "route"]
            name = route[key["route"]]
        elif kind == "deployment":
            name = referrer(lid, "stage")[key["stage"]]
        elif kind == "api mapping":
            [domain] = [by_id[r][1] for r in refs if by_id.get(r, ("",))[0] == "domain"]
            name = domain[key["domain"]]
        elif kind == "iam policy":
            continue
        else:
            name = props[key[kind]]
        names.add((kind, name))
    return names


CFN_NAMES = {
    "api": "Name",
    "route": "RouteKey",
    "stage": "StageName",
    "domain": "DomainName",
    "route53 alias": "Name",
}
TF_NAMES = {
    "api": "name",
    "route": "route_key",
    "stage": "name",
    "domain": "domain_name",
    "route53 alias": "name",
}


@pytest.mark.aws
def test_both_formats_describe_what_plan_would_create(full, tmp_path, aws, route53):
    zone = make_zone(route53)
    full.hosted_zone_id = zone
    full.save()

    plan = {(change.resource, change.name) for change in plan_gateway(full).changes}

    assert declare(full).planned() == plan
    assert (
        planned(parse_cloudformation(export(full, "cloudformation", tmp_path)), CFN_NAMES) == plan
    )
    assert planned(parse_terraform(export(full, "terraform", tmp_path)), TF_NAMES) == plan
    assert ("route53 alias", "ws.example.com") in plan
    assert ("route response", "chat") in plan


def test_cloudformation_passes_cfn_lint(full, tmp_path):
    path = export(full, "cloudformation", tmp_path)
    config = cfnlint.api.ManualArgs(regions=["us-east-1", "eu-west-1"])

    assert [str(match) for match in cfnlint.api.lint_file(path, config=config)] == []

    template = json.loads(path.read_text())
    template["Resources"]["ChatRoute"]["Properties"]["RouteKeys"] = "chat"
    path.write_text(json.dumps(template))
    assert cfnlint.api.lint_file(path, config=config), "cfn-lint reads the template"


def test_cloudformation_references_resolve(full, tmp_path):
    template = json.loads(export(full, "cloudformation", tmp_path).read_text())
    known = set(template["Resources"]) | set(template["Parameters"]) | {"AWS::Region"}
    known.add("AWS::AccountId")
    for body in template["Resources"].values():
        assert set(_cfn_references(body)) <= known
    integration = template["Resources"]["ChatIntegration"]["Properties"]
    assert integration["IntegrationUri"] == "https://www.example.com/ws/chat"
    assert integration["RequestParameters"]["integration.request.header.connectionId"] == (
        "context.connectionId"
    )
    assert "CustomConnectRoute" in template["Resources"], "no clash with $connect's ids"
    alias = template["Resources"]["AliasRecord"]["Properties"]
    assert alias["HostedZoneId"] == "Z0123456789"
    assert alias["AliasTarget"]["DNSName"] == {"Fn::GetAtt": ["CustomDomain", "RegionalDomainName"]}


def test_terraform_references_resolve(full, tmp_path):
    resources = parse_terraform(export(full, "terraform", tmp_path))
    names = {lid for _, lid, _, _ in resources}
    for _, _, _, refs in resources:
        assert refs <= names
    routes = {props["route_key"]: props for kind, _, props, _ in resources if kind == "route"}
    assert set(routes) == {"$connect", "$disconnect", "$default", "chat", "typing.start", "connect"}
    assert (
        routes["chat"]["target"]
        == "integrations/${aws_apigatewayv2_integration.chat_integration.id}"
    )


@pytest.mark.parametrize("fmt", ["cloudformation", "terraform"])
def test_the_secret_is_a_parameter_never_a_literal(full, tmp_path, fmt):
    text = export(full, fmt, tmp_path).read_text()

    assert SECRET not in text
    assert ("GatewaySecret" if fmt == "cloudformation" else "var.gateway_secret") in text


def test_without_a_secret_there_is_no_parameter(gateway, tmp_path):
    template = json.loads(export(gateway, "cloudformation", tmp_path).read_text())

    assert "Parameters" not in template
    assert "CustomDomain" not in template["Resources"]
    assert "variable" not in export(gateway, "terraform", tmp_path).read_text()


def test_standard_output_by_default(gateway, capsys):
    call_command("exportApiGateway", "--api-gateway", str(gateway.pk), "--format", "terraform")

    assert 'resource "aws_apigatewayv2_api" "api"' in capsys.readouterr().out


def test_terraform_strings_cannot_interpolate(gateway, tmp_path):
    gateway.api_description = "costs ${var.x} and %{ if true }"
    gateway.save(push_to_aws=False)

    [api] = [p for kind, _, p, _ in parse_terraform(export(gateway, "terraform", tmp_path))
             if kind == "api"]  # fmt: skip

    assert api["description"] == "costs $${var.x} and %%{ if true }"


def test_bad_input_is_a_command_error(gateway, tmp_path):
    with pytest.raises(CommandError, match="no API Gateway with pk 999"):
        call_command("exportApiGateway", "--api-gateway", "999", "--format", "terraform")
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("exportApiGateway", "--api-gateway", str(gateway.pk), "--format", "yaml")
    with pytest.raises(CommandError, match="Cannot write"):
        call_command(
            "exportApiGateway", "--api-gateway", str(gateway.pk), "--format", "terraform",
            "--output", str(tmp_path / "missing" / "main.tf"),
        )  # fmt: skip
    ApiGateway.objects.filter(pk=gateway.pk).update(target_base_endpoint="")
    with pytest.raises(CommandError, match="no target_base_endpoint"):
        call_command("exportApiGateway", "--api-gateway", str(gateway.pk), "--format", "terraform")
