"""Exact request shapes, checked by botocore's Stubber against the real service model
(it rejects unknown or mistyped parameters and validates the canned responses)."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import ANY, Stubber

from django_aws_api_gateway_websockets.models import ApiGateway
from django_aws_api_gateway_websockets.provisioning import create_custom_domain, create_gateway
from django_aws_api_gateway_websockets.provisioning.spec import OWNER_TAG, owner_tag_value

pytestmark = pytest.mark.django_db

Status = ApiGateway.ProvisioningStatus


def stubbed(service: str) -> tuple[object, Stubber]:
    client = boto3.client(
        service, region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    return client, Stubber(client)


def test_create_api_sends_no_quick_create_options_and_sends_tags(gateway):
    client, stub = stubbed("apigatewayv2")
    stub.add_response("get_apis", {"Items": []}, {"MaxResults": "100"})
    stub.add_response(
        "create_api",
        {"ApiId": "abc123", "ApiEndpoint": "wss://abc123.execute-api.eu-west-1.amazonaws.com"},
        {
            "Name": "Chat API",
            "Description": "chat",
            "ProtocolType": "WEBSOCKET",
            "RouteSelectionExpression": "$request.body.action",
            "ApiKeySelectionExpression": "$request.header.x-api-key",
            "DisableSchemaValidation": True,
            "Tags": {"team": "web", OWNER_TAG: owner_tag_value(gateway)},
        },
    )
    for n, slug in enumerate(("connect", "disconnect", "default")):
        stub.add_response(
            "create_integration",
            {
                "IntegrationId": f"i{n}",
                "IntegrationUri": f"https://www.example.com/ws/{slug}",
                "IntegrationType": "HTTP_PROXY",
                "RequestParameters": {
                    "integration.request.header.connectionId": "context.connectionId"
                },
            },
            {
                "ApiId": "abc123",
                "ConnectionType": "INTERNET",
                "IntegrationMethod": "POST",
                "IntegrationType": "HTTP_PROXY",
                "IntegrationUri": f"https://www.example.com/ws/{slug}",
                "PassthroughBehavior": "WHEN_NO_MATCH",
                "PayloadFormatVersion": "1.0",
                "RequestParameters": {
                    "integration.request.header.connectionId": "context.connectionId"
                },
                "TimeoutInMillis": 29000,
            },
        )
        stub.add_response(
            "create_route",
            {"RouteId": f"r{n}", "RouteKey": f"${slug}", "Target": f"integrations/i{n}"},
            {
                "ApiId": "abc123",
                "ApiKeyRequired": False,
                "AuthorizationType": "NONE",
                "RouteKey": f"${slug}",
                "Target": f"integrations/i{n}",
            },
        )
    stub.add_response(
        "create_stage",
        {"StageName": "production"},
        {
            "ApiId": "abc123",
            "StageName": "production",
            "Description": "first",
            "Tags": {"team": "web"},
        },
    )
    stub.add_response(
        "create_deployment",
        {"DeploymentId": "d1"},
        {"ApiId": "abc123", "StageName": "production", "Description": "first"},
    )

    with stub:
        assert create_gateway(gateway, client=client) is True
        stub.assert_no_pending_responses()

    gateway.refresh_from_db()
    assert gateway.deployment_id == "d1"


def test_custom_domain_sends_input_fields_only_and_aliases_in_the_users_zone(gateway):
    ApiGateway.objects.filter(pk=gateway.pk).update(
        api_id="abc123",
        api_created=True,
        deployment_id="d1",
        provisioning_status=Status.DEPLOYED,
        domain_name="ws.example.com",
        certificate_arn="arn:aws:acm:eu-west-1:123456789012:certificate/abc",
        hosted_zone_id="Z0USERZONE",
    )
    gateway.refresh_from_db()
    client, stub = stubbed("apigatewayv2")
    route53, r53_stub = stubbed("route53")
    stub.add_client_error(
        "get_domain_name",
        "NotFoundException",
        http_status_code=404,
        expected_params={"DomainName": "ws.example.com"},
    )
    stub.add_response(
        "create_domain_name",
        {
            "DomainName": "ws.example.com",
            "DomainNameConfigurations": [
                {
                    "ApiGatewayDomainName": "d-abc.execute-api.eu-west-1.amazonaws.com",
                    "HostedZoneId": "ZAPIGATEWAY",
                    "CertificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/abc",
                    "DomainNameStatus": "AVAILABLE",
                    "EndpointType": "REGIONAL",
                    "SecurityPolicy": "TLS_1_2",
                }
            ],
        },
        {
            "DomainName": "ws.example.com",
            "DomainNameConfigurations": [
                {
                    "CertificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/abc",
                    "EndpointType": "REGIONAL",
                    "SecurityPolicy": "TLS_1_2",
                }
            ],
            "Tags": {"team": "web"},
        },
    )
    stub.add_response(
        "get_api_mappings", {"Items": []}, {"DomainName": "ws.example.com", "MaxResults": "100"}
    )
    stub.add_response(
        "create_api_mapping",
        {"ApiMappingId": "m1"},
        {"ApiId": "abc123", "DomainName": "ws.example.com", "Stage": "production"},
    )
    r53_stub.add_response(
        "change_resource_record_sets",
        {"ChangeInfo": {"Id": "c1", "Status": "PENDING", "SubmittedAt": "2026-01-01T00:00:00Z"}},
        {
            "HostedZoneId": "Z0USERZONE",
            "ChangeBatch": {
                "Comment": ANY,
                "Changes": [
                    {
                        "Action": "UPSERT",
                        "ResourceRecordSet": {
                            "Name": "ws.example.com",
                            "Type": "A",
                            "AliasTarget": {
                                "DNSName": "d-abc.execute-api.eu-west-1.amazonaws.com",
                                "HostedZoneId": "ZAPIGATEWAY",
                                "EvaluateTargetHealth": False,
                            },
                        },
                    }
                ],
            },
        },
    )

    with stub, r53_stub:
        assert create_custom_domain(gateway, client=client, route53=route53) is True
        stub.assert_no_pending_responses()
        r53_stub.assert_no_pending_responses()

    gateway.refresh_from_db()
    assert gateway.provisioning_status == Status.MAPPED
    assert gateway.api_mapping_id == "m1"
    assert gateway.api_gateway_domain_name == "d-abc.execute-api.eu-west-1.amazonaws.com"
    assert gateway.dns_record_created
