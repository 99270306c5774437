"""What saving and deleting gateway and route records does to AWS.

The models call these from ``save()``/``delete()``. A record remembers the values it
was loaded with, so a save pushes only real changes, and only when the gateway exists
in AWS and pushing is on (``push_to_aws=`` argument, else
``WEBSOCKETS["push_changes_to_aws"]``). Pushes run after the transaction commits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING, Any

from django.db import models

from ..conf import get_boolean_setting
from .domain import hosted_zone_id
from .errors import ApiGatewaySyncError
from .seams import after_commit
from .sync import SYNCED_GATEWAY_FIELDS, push_route, remove_route, sync_gateway_to_aws

if TYPE_CHECKING:
    from ..models import ApiGateway, ApiGatewayAdditionalRoute

ROUTE_FIELDS = ("route_key", "integration_url", "route_response")


def push_enabled(push_to_aws: bool | None) -> bool:
    if push_to_aws is not None:
        return push_to_aws
    return get_boolean_setting("push_changes_to_aws")


def _tracked(instance: models.Model) -> Iterable[str]:
    return ROUTE_FIELDS if hasattr(instance, "integration_url") else SYNCED_GATEWAY_FIELDS


def remember(instance: models.Model) -> None:
    """Keep the tracked values as loaded (read from ``__dict__``: deferred stay unloaded)."""
    values = instance.__dict__
    instance._loaded_values = {n: values[n] for n in _tracked(instance) if n in values}  # type: ignore[attr-defined]


def changed_fields(instance: models.Model) -> list[str]:
    """Tracked fields changed since loading; none for a record never loaded (as in
    4.1.0: registering an API that already exists in AWS must not change it)."""
    loaded = getattr(instance, "_loaded_values", None)
    if loaded is None:
        return []
    values = instance.__dict__
    return [n for n in loaded if n in values and values[n] != loaded[n]]


def save_gateway(
    gateway: ApiGateway, save: Callable[[], None], push_to_aws: bool | None, full: bool
) -> None:
    if full:
        if gateway.target_base_endpoint and not gateway.target_base_endpoint.endswith("/"):
            gateway.target_base_endpoint += "/"
        gateway.hosted_zone_id = hosted_zone_id(gateway)
        gateway.full_clean()
    changed = changed_fields(gateway) if full else []  # update_fields saves never push
    save()
    remember(gateway)
    if changed and gateway.is_deployed and push_enabled(push_to_aws):
        after_commit(partial(sync_gateway_to_aws, gateway, fields=changed))


def save_route(
    route: ApiGatewayAdditionalRoute,
    save: Callable[[], None],
    push_to_aws: bool | None,
    full: bool,
) -> None:
    """As in 4.1.0, a new route on a deployed gateway is created in AWS at once (the
    caller reads its ids after ``save()``), even with ``push_changes_to_aws`` off, where a
    failure raises AWS's own error; changes to a deployed route follow the commit. As in
    4.1.0, a gateway counts as deployed here when it names a deployment of its API
    (``api_created`` is not consulted: rows registered by hand often lack it)."""
    if full:
        route.full_clean()
    changed = changed_fields(route)
    previous_key = getattr(route, "_loaded_values", {}).get("route_key", "")
    save()
    remember(route)
    gateway = route.api_gateway
    if push_to_aws is False or not (gateway.api_id and gateway.deployment_id):
        return
    if not route.deployed:
        try:
            push_route(route)
        except ApiGatewaySyncError as exc:
            if push_enabled(push_to_aws) or exc.__cause__ is None:
                raise
            raise exc.__cause__ from None
    elif changed and push_enabled(push_to_aws):
        after_commit(
            partial(
                push_route,
                route,
                previous_key=previous_key if previous_key != route.route_key else "",
            )
        )


def delete_route_record(
    route: ApiGatewayAdditionalRoute, delete: Callable[[], Any], push_to_aws: bool | None
) -> Any:
    """Outside a transaction AWS goes first, so a failure keeps the record; inside one,
    AWS follows the commit. A route never deployed is deleted locally only (as in 4.1.0)."""
    push = route.deployed and route.api_gateway.is_deployed and push_enabled(push_to_aws)
    route.aws_delete_handled = True  # type: ignore[attr-defined]  # not again by the receiver
    if push:
        after_commit(partial(remove_route, route))
    return delete()
