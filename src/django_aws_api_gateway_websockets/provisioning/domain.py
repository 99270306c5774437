"""Create a gateway's custom domain, its API mapping and, with a hosted zone, its DNS alias.

The user's Route 53 zone is used for the record it belongs to: an alias ``A`` record in
that zone pointing at API Gateway's regional domain name and *API Gateway's* hosted zone
id, both returned by AWS when the domain is created. (The original put the user's zone
into the domain configuration, where AWS expects API Gateway's own, and no record was
ever made.)
"""

from __future__ import annotations

from typing import Any

from ..models import ApiGateway
from .create import record
from .errors import AWS_ERRORS, describe_error, is_conflict
from .seams import boto3_client
from .spec import alias_change, domain_configuration, tags
from .state import get_or_none, paged, regional_target, text_of


def hosted_zone_id(gateway: ApiGateway) -> str:
    """The zone id without the ``/hostedzone/`` prefix the console sometimes shows."""
    return gateway.hosted_zone_id.strip().removeprefix("/hostedzone/")


def needs_dns_record(gateway: ApiGateway) -> bool:
    return bool(hosted_zone_id(gateway)) and not gateway.dns_record_created


def create_custom_domain(gateway: ApiGateway, client: Any = None, route53: Any = None) -> bool:
    """Create or finish the domain, mapping and DNS record; ``False`` if nothing to do."""
    status = ApiGateway.ProvisioningStatus
    if not gateway.is_deployed:
        raise ValueError(f"Create the API of {gateway.api_name} before its custom domain.")
    if not gateway.domain_name or not gateway.certificate_arn:
        raise ValueError(f"{gateway.api_name} needs a domain name and a certificate ARN.")
    if not gateway.needs_custom_domain:
        return False
    client = client or boto3_client("apigatewayv2")
    try:
        domain = _ensure_domain(client, gateway)
        if gateway.provisioning_status != status.MAPPED:
            _ensure_mapping(client, gateway)
        if needs_dns_record(gateway):
            route53 = route53 or boto3_client("route53")
            target_name, target_zone = regional_target(domain)
            route53.change_resource_record_sets(
                HostedZoneId=hosted_zone_id(gateway),
                ChangeBatch=alias_change(gateway, target_name, target_zone),
            )
            record(gateway, dns_record_created=True)
    except AWS_ERRORS as exc:
        record(gateway, last_error=describe_error(exc))
        raise
    record(gateway, last_error="")
    return True


def _ensure_domain(client: Any, gateway: ApiGateway) -> dict[str, Any]:
    """The domain as AWS has it, created if missing (or left by an earlier run)."""
    status = ApiGateway.ProvisioningStatus
    domain = get_or_none(client.get_domain_name, DomainName=gateway.domain_name)
    if domain is None:
        try:
            domain = client.create_domain_name(
                DomainName=gateway.domain_name,
                DomainNameConfigurations=[domain_configuration(gateway)],
                Tags=tags(gateway),
            )
        except AWS_ERRORS as exc:
            if not is_conflict(exc):
                raise
            domain = client.get_domain_name(DomainName=gateway.domain_name)
    target_name, _zone = regional_target(domain)
    if gateway.provisioning_status == status.DEPLOYED or not gateway.custom_domain_created:
        record(
            gateway,
            api_gateway_domain_name=target_name,
            custom_domain_created=True,
            provisioning_status=status.DOMAIN_CREATED,
        )
    return domain


def _ensure_mapping(client: Any, gateway: ApiGateway) -> None:
    status = ApiGateway.ProvisioningStatus
    mapping = next(
        (
            item
            for item in paged(client.get_api_mappings, DomainName=gateway.domain_name)
            if item.get("ApiId") == gateway.api_id and not item.get("ApiMappingKey")
        ),
        None,
    )
    if mapping is None:
        mapping = client.create_api_mapping(
            ApiId=gateway.api_id,
            DomainName=gateway.domain_name,
            Stage=gateway.effective_stage_name,
        )
    record(
        gateway, api_mapping_id=text_of(mapping["ApiMappingId"]), provisioning_status=status.MAPPED
    )
