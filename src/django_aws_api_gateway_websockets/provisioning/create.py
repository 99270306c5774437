"""Create a gateway's API in AWS: API, integrations, routes, stage and deployment.

Each step is recorded in ``provisioning_status`` as it completes. A run that fails part
way records ``last_error`` and leaves the furthest step reached, and the next run reads
AWS and continues from there; a run that died between AWS creating the API and the id
being saved is found out by the API's owner tag. A run claims the row first, so two runs
never create two APIs; a claim whose run died (no progress for ``STALE_CLAIM_AFTER``) can
be taken over.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone

from ..models import ApiGateway, ApiGatewayAdditionalRoute
from .errors import AWS_ERRORS, describe_error, is_conflict
from .routes import ensure_route
from .seams import boto3_client
from .spec import (
    OWNER_TAG,
    additional_route_spec,
    api_attributes,
    base_endpoint,
    default_route_specs,
    owner_tag_value,
    tags,
)
from .state import ApiState, find_owned_api, read_api_state, text_of

#: A ``creating`` claim with no recorded progress for this long belongs to a dead run.
STALE_CLAIM_AFTER = timedelta(minutes=15)


class ClaimError(ValueError):
    """Another run is creating this gateway."""


def record(gateway: ApiGateway, **fields: Any) -> None:
    """Save progress: only these fields (one ``UPDATE``), so no validation, and no push
    back to AWS (none of them is pushed)."""
    for name, value in fields.items():
        setattr(gateway, name, value)
    gateway.save(update_fields=[*fields, "updated_on"])


def claim(gateway: ApiGateway, force: bool = False) -> None:
    """Mark the row ``creating`` unless a live run already has it."""
    status = ApiGateway.ProvisioningStatus
    claimable = Q(
        provisioning_status__in=[status.PENDING, status.API_CREATED, status.ROUTES_CREATED]
    ) | Q(provisioning_status=status.CREATING, updated_on__lt=timezone.now() - STALE_CLAIM_AFTER)
    if force:
        claimable |= Q(provisioning_status=status.CREATING)
    now = timezone.now()
    claimed = ApiGateway.objects.filter(claimable, pk=gateway.pk).update(
        provisioning_status=status.CREATING, updated_on=now
    )
    if not claimed:
        raise ClaimError(
            f"{gateway.api_name} is already being created by another run. If that run died, run "
            f"again after {int(STALE_CLAIM_AFTER.total_seconds() // 60)} minutes without "
            "progress, or use createApiGateway --force."
        )
    gateway.provisioning_status = str(status.CREATING)
    gateway.updated_on = now


def create_gateway(gateway: ApiGateway, force: bool = False, client: Any = None) -> bool:
    """Create or finish creating the API; ``False`` when it is already deployed."""
    if not gateway.needs_api_creation:
        return False
    base_endpoint(gateway)  # ValueError before anything else happens
    if gateway.pk is None:
        gateway.save(push_to_aws=False)
    status = ApiGateway.ProvisioningStatus
    # Never record less than an earlier run reached: a "pending" row with
    # ``api_created`` reads as a deployed row of the original package.
    reached = status.API_CREATED if gateway.api_id else status.PENDING
    if gateway.provisioning_status == status.ROUTES_CREATED:
        reached = status.ROUTES_CREATED
    claim(gateway, force=force)
    client = client or boto3_client("apigatewayv2")
    try:
        state = read_api_state(client, gateway.api_id, gateway.effective_stage_name, "")
        if state.api is None:
            state = _adopt_or_create_api(client, gateway)
        if reached == status.PENDING:
            reached = status.API_CREATED
        record(gateway, provisioning_status=status.CREATING)  # heartbeat
        create_routes(client, gateway, state)
        reached = status.ROUTES_CREATED
        record(gateway, provisioning_status=status.CREATING)
        ensure_stage(client, gateway, state)
        deployment_id = deploy(client, gateway)
    except (*AWS_ERRORS, ValueError) as exc:
        record(gateway, provisioning_status=reached, last_error=describe_error(exc))
        raise
    record(
        gateway,
        deployment_id=deployment_id,
        provisioning_status=status.DEPLOYED,
        last_error="",
    )
    return True


def _adopt_or_create_api(client: Any, gateway: ApiGateway) -> ApiState:
    """The API an earlier run created for this row without saving its id, else a new one."""
    owned = None if gateway.api_id else find_owned_api(client, owner_tag_value(gateway))
    if owned is not None:
        _record_api(gateway, owned)
        return read_api_state(client, gateway.api_id, gateway.effective_stage_name, "")
    response = client.create_api(
        ProtocolType="WEBSOCKET",
        DisableSchemaValidation=True,
        Tags=tags(gateway) | {OWNER_TAG: owner_tag_value(gateway)},
        **api_attributes(gateway),
    )
    _record_api(gateway, response)
    return ApiState(api=response)


def _record_api(gateway: ApiGateway, api: dict[str, Any]) -> None:
    record(
        gateway,
        api_id=text_of(api["ApiId"]),
        api_endpoint=text_of(api.get("ApiEndpoint", "")),
        api_created=True,
        deployment_id="",
    )


def create_routes(client: Any, gateway: ApiGateway, state: ApiState) -> list[str]:
    """Make the three default routes and every additional route exist as recorded."""
    changes = []
    for spec in default_route_specs(gateway):
        changes += ensure_route(client, gateway.api_id, state, spec).changes
    for route in gateway.additional_routes.order_by("pk"):
        ids = ensure_route(client, gateway.api_id, state, additional_route_spec(route))
        changes += ids.changes
        ApiGatewayAdditionalRoute.objects.filter(pk=route.pk).update(
            route_id=ids.route_id, integration_id=ids.integration_id, deployed=True
        )
    return changes


def ensure_stage(client: Any, gateway: ApiGateway, state: ApiState) -> bool:
    """Create the stage unless it exists; ``True`` when it was created."""
    if state.stage is not None:
        return False
    try:
        state.stage = client.create_stage(
            ApiId=gateway.api_id,
            StageName=gateway.effective_stage_name,
            Description=gateway.stage_description,
            Tags=tags(gateway),
        )
    except AWS_ERRORS as exc:
        if not is_conflict(exc):
            raise
        return False
    return True


def deploy(client: Any, gateway: ApiGateway) -> str:
    """Deploy the API's current routes to its stage; returns the deployment id."""
    response = client.create_deployment(
        ApiId=gateway.api_id,
        Description=gateway.stage_description,
        StageName=gateway.effective_stage_name,
    )
    gateway.deployment_id = text_of(response["DeploymentId"])
    return gateway.deployment_id
