"""Render a :class:`~.declare.Declaration` as Terraform (HCL) for the AWS provider."""

from __future__ import annotations

import json
import re
from typing import Any

from .declare import ACCOUNT, API, REGION, SECRET, Declaration, Resource, split_references

TYPES = {
    "api": "aws_apigatewayv2_api",
    "integration": "aws_apigatewayv2_integration",
    "route": "aws_apigatewayv2_route",
    "route response": "aws_apigatewayv2_route_response",
    "deployment": "aws_apigatewayv2_deployment",
    "stage": "aws_apigatewayv2_stage",
    "domain": "aws_apigatewayv2_domain_name",
    "api mapping": "aws_apigatewayv2_api_mapping",
    "route53 alias": "aws_route53_record",
    "iam policy": "aws_iam_policy",
}
#: Property names whose Terraform argument is not the snake_case of the name; ``None``
#: for what the provider does not take.
RENAMED: dict[str, str | None] = {
    "TimeoutInMillis": "timeout_milliseconds",
    "StageName": "name",
    "HostedZoneId": "zone_id",
    "DNSName": "name",
    "DisableSchemaValidation": None,
}
#: Properties written as nested blocks.
BLOCKS = {"DomainNameConfigurations": "domain_name_configuration", "AliasTarget": "alias"}
#: Attributes of resources that references read, in Terraform's terms.
ATTRIBUTES = {
    "RegionalDomainName": "domain_name_configuration[0].target_domain_name",
    "RegionalHostedZoneId": "domain_name_configuration[0].hosted_zone_id",
    "ApiEndpoint": "api_endpoint",
}
OUTSIDE = {
    REGION: "data.aws_region.current.name",
    ACCOUNT: "data.aws_caller_identity.current.account_id",
    SECRET: "var.gateway_secret",
}


class Expression(str):
    """HCL written as is (a reference or a function call), not as a string."""


def snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


class _Writer:
    def __init__(self, declaration: Declaration) -> None:
        self.addresses = {
            r.logical_id: f"{TYPES[r.kind]}.{snake(r.logical_id)}" for r in declaration.resources
        }

    def reference(self, logical_id: str, attribute: str) -> str:
        if logical_id in OUTSIDE:
            return OUTSIDE[logical_id]
        return f"{self.addresses[logical_id]}.{ATTRIBUTES[attribute] if attribute else 'id'}"

    def string(self, text: str) -> str:
        parts = split_references(text)
        if len(parts) == 1 and not isinstance(parts[0], str):
            return self.reference(*parts[0])
        quoted = []
        for part in parts:
            if isinstance(part, str):
                escaped = json.dumps(part, ensure_ascii=False)[1:-1]
                quoted.append(escaped.replace("${", "$${").replace("%{", "%%{"))
            else:
                quoted.append("${" + self.reference(*part) + "}")
        return '"' + "".join(quoted) + '"'

    def value(self, value: Any, indent: str) -> str:
        inner = indent + "  "
        if isinstance(value, Expression):
            return str(value)
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return repr(value)
        if isinstance(value, str):
            return self.string(value)
        if isinstance(value, dict):
            if not value:
                return "{}"
            items = [
                f"{inner}{json.dumps(key)} = {self.value(item, inner)}"
                for key, item in value.items()
            ]
            return "{\n" + "\n".join(items) + f"\n{indent}}}"
        if isinstance(value, list):
            if not value:
                return "[]"
            items = [f"{inner}{self.value(item, inner)}," for item in value]
            return "[\n" + "\n".join(items) + f"\n{indent}]"
        raise TypeError(f"cannot write {type(value).__name__} as HCL")

    def body(self, properties: dict[str, Any], indent: str) -> list[str]:
        lines = []
        for key, value in properties.items():
            if key in BLOCKS:
                for block in value if isinstance(value, list) else [value]:
                    lines.append(f"{indent}{BLOCKS[key]} {{")
                    lines += self.body(block, indent + "  ")
                    lines.append(f"{indent}}}")
                continue
            name = RENAMED.get(key, snake(key))
            if name is not None:
                lines.append(f"{indent}{name} = {self.value(value, indent)}")
        return lines

    def resource(self, resource: Resource) -> list[str]:
        properties = dict(resource.properties)
        if resource.kind == "iam policy":
            policy = self.value(properties.pop("PolicyDocument"), "  ")
            properties["Name"] = re.sub(r"[^\w+=,.@-]", "-", resource.name)[:100] + "-websockets"
            properties["Policy"] = Expression(f"jsonencode({policy})")
        if resource.kind == "deployment":
            # A new deployment whenever a route or an integration changes.
            parts = ", ".join(self.addresses[d] for d in resource.depends_on)
            properties["Triggers"] = {
                "redeployment": Expression(f"sha1(jsonencode([{parts}]))"),
            }
        lines = [f'resource "{TYPES[resource.kind]}" "{snake(resource.logical_id)}" {{']
        lines += self.body(properties, "  ")
        if resource.kind == "deployment":
            lines.append("  lifecycle {")
            lines.append("    create_before_destroy = true")
            lines.append("  }")
        lines.append("}")
        return lines


def render(declaration: Declaration, description: str) -> str:
    writer = _Writer(declaration)
    lines = [
        f"# {description}",
        "terraform {",
        "  required_providers {",
        "    aws = {",
        '      source  = "hashicorp/aws"',
        '      version = ">= 5.0"',
        "    }",
        "  }",
        "}",
        "",
        'data "aws_region" "current" {}',
        "",
        'data "aws_caller_identity" "current" {}',
    ]
    if declaration.uses_secret:
        lines += [
            "",
            'variable "gateway_secret" {',
            "  description = \"WEBSOCKETS['gateway_secret'], sent by API Gateway to Django\"",
            "  type        = string",
            "  sensitive   = true",
            "}",
        ]
    for resource in declaration.resources:
        lines += ["", *writer.resource(resource)]
    for name, attribute in (("api_id", ""), ("api_endpoint", "ApiEndpoint")):
        lines += ["", f'output "{name}" {{', f"  value = {writer.reference(API, attribute)}", "}"]
    return "\n".join(lines) + "\n"
