"""Custom domain, API mapping and the Route 53 alias record, read back from moto."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from django_aws_api_gateway_websockets.aws import get_boto3_client
from django_aws_api_gateway_websockets.models import ApiGateway

from .moto_extras import API_GATEWAY_ZONE

pytestmark = [pytest.mark.aws, pytest.mark.django_db]

Status = ApiGateway.ProvisioningStatus
CERTIFICATE = "arn:aws:acm:eu-west-1:123456789012:certificate/abc"


def make_zone(route53: Any) -> str:
    zone = route53.create_hosted_zone(Name="example.com.", CallerReference="tests")
    return zone["HostedZone"]["Id"].removeprefix("/hostedzone/")


def alias_records(route53: Any, zone: str) -> list[dict[str, Any]]:
    records = route53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
    return [r for r in records if r["Type"] == "A"]


@pytest.fixture
def deployed(gateway: ApiGateway, aws: str) -> ApiGateway:
    gateway.domain_name = "ws.example.com"
    gateway.certificate_arn = CERTIFICATE
    gateway.save()
    gateway.create_gateway()
    return gateway


def test_domain_mapping_and_alias_record(deployed, reader, route53):
    zone = make_zone(route53)
    deployed.hosted_zone_id = zone
    deployed.save()

    assert deployed.create_custom_domain() is True

    deployed.refresh_from_db()
    assert deployed.provisioning_status == Status.MAPPED
    assert deployed.custom_domain_created
    assert deployed.dns_record_created
    domain = reader.get_domain_name(DomainName="ws.example.com")
    configuration = domain["DomainNameConfigurations"][0]
    assert configuration["CertificateArn"] == CERTIFICATE
    assert configuration["EndpointType"] == "REGIONAL"
    assert configuration["HostedZoneId"] == API_GATEWAY_ZONE, "the user's zone is not sent"
    assert deployed.api_gateway_domain_name == configuration["ApiGatewayDomainName"]
    mappings = reader.get_api_mappings(DomainName="ws.example.com")["Items"]
    assert [(m["ApiId"], m["Stage"], m["ApiMappingId"]) for m in mappings] == [
        (deployed.api_id, "production", deployed.api_mapping_id)
    ]
    [record] = alias_records(route53, zone)
    assert record["Name"] == "ws.example.com."
    assert record["AliasTarget"]["DNSName"].rstrip(".") == configuration["ApiGatewayDomainName"]
    assert record["AliasTarget"]["HostedZoneId"] == API_GATEWAY_ZONE
    assert deployed.create_custom_domain() is False


def test_without_zone_no_record_is_made(deployed, reader, route53):
    zone = make_zone(route53)

    deployed.create_custom_domain()

    deployed.refresh_from_db()
    assert deployed.provisioning_status == Status.MAPPED
    assert not deployed.dns_record_created
    assert alias_records(route53, zone) == []


@pytest.mark.parametrize(
    ("client_name", "operation", "status_after_failure"),
    [
        ("apigw", "CreateDomainName", Status.DEPLOYED),
        ("apigw", "CreateApiMapping", Status.DOMAIN_CREATED),
        ("route53", "ChangeResourceRecordSets", Status.MAPPED),
    ],
)
def test_domain_failure_part_way_is_resumed(
    deployed, apigw, reader, route53, fail_once, client_name, operation, status_after_failure
):
    zone = make_zone(route53)
    deployed.hosted_zone_id = zone
    deployed.save()
    client = apigw if client_name == "apigw" else get_boto3_client("route53")
    fail_once(client, operation)

    with pytest.raises(ClientError):
        deployed.create_custom_domain()

    deployed.refresh_from_db()
    assert not deployed.dns_record_created
    assert deployed.provisioning_status == status_after_failure
    assert deployed.last_error == "ClientError: TooManyRequestsException"
    assert deployed.needs_custom_domain

    assert deployed.create_custom_domain() is True

    deployed.refresh_from_db()
    assert deployed.provisioning_status == Status.MAPPED
    assert deployed.dns_record_created
    assert deployed.last_error == ""
    assert len(reader.get_api_mappings(DomainName="ws.example.com")["Items"]) == 1
    assert len(alias_records(route53, zone)) == 1


def test_domain_needs_a_deployed_api_and_certificate(gateway, reader):
    gateway.domain_name = "ws.example.com"
    gateway.save()

    with pytest.raises(ValueError, match="before its custom domain"):
        gateway.create_custom_domain()
    gateway.create_gateway()
    with pytest.raises(ValueError, match="certificate"):
        gateway.create_custom_domain()
    assert reader.get_domain_names()["Items"] == []
