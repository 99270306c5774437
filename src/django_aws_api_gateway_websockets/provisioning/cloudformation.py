"""Render a :class:`~.declare.Declaration` as a CloudFormation template (JSON)."""

from __future__ import annotations

import json
from typing import Any

from .declare import API, SECRET, Declaration, split_references

TYPES = {
    "api": "AWS::ApiGatewayV2::Api",
    "integration": "AWS::ApiGatewayV2::Integration",
    "route": "AWS::ApiGatewayV2::Route",
    "route response": "AWS::ApiGatewayV2::RouteResponse",
    "deployment": "AWS::ApiGatewayV2::Deployment",
    "stage": "AWS::ApiGatewayV2::Stage",
    "domain": "AWS::ApiGatewayV2::DomainName",
    "api mapping": "AWS::ApiGatewayV2::ApiMapping",
    "route53 alias": "AWS::Route53::RecordSet",
    "iam policy": "AWS::IAM::ManagedPolicy",
}


def _intrinsic(part: str | tuple[str, str]) -> Any:
    if isinstance(part, str):
        return part
    logical_id, attribute = part
    return {"Fn::GetAtt": [logical_id, attribute]} if attribute else {"Ref": logical_id}


def _value(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_value(item) for item in value]
    if isinstance(value, str):
        parts = split_references(value)
        if len(parts) == 1:
            return _intrinsic(parts[0])
        if parts:
            return {"Fn::Join": ["", [_intrinsic(part) for part in parts]]}
    return value


def template(declaration: Declaration, description: str) -> dict[str, Any]:
    resources = {}
    for resource in declaration.resources:
        body: dict[str, Any] = {
            "Type": TYPES[resource.kind],
            "Properties": _value(resource.properties),
        }
        if resource.depends_on:
            body["DependsOn"] = list(resource.depends_on)
        resources[resource.logical_id] = body
    result: dict[str, Any] = {"AWSTemplateFormatVersion": "2010-09-09"}
    result["Description"] = description
    if declaration.uses_secret:
        result["Parameters"] = {
            SECRET: {
                "Type": "String",
                "NoEcho": True,
                "MinLength": 32,
                "AllowedPattern": "[A-Za-z0-9._~+/=-]+",
                "Description": "WEBSOCKETS['gateway_secret'], sent by API Gateway to Django",
            }
        }
    result["Resources"] = resources
    result["Outputs"] = {
        "ApiId": {"Value": {"Ref": API}},
        "ApiEndpoint": {"Value": {"Fn::GetAtt": [API, "ApiEndpoint"]}},
    }
    return result


def render(declaration: Declaration, description: str) -> str:
    return json.dumps(template(declaration, description), indent=2, ensure_ascii=False) + "\n"
