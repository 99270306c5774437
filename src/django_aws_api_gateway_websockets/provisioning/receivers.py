"""Routes deleted in bulk (a queryset delete, the admin's "delete selected") are
deleted in AWS too. Cascades from a deleted gateway are not: deleting a gateway record
never deletes its API in AWS."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.db.models import QuerySet
from django.db.models.signals import post_delete
from django.dispatch import receiver

from ..models import ApiGatewayAdditionalRoute


def _deleted_as_routes(origin: Any) -> bool:
    if isinstance(origin, ApiGatewayAdditionalRoute):
        return True
    return isinstance(origin, QuerySet) and origin.model is ApiGatewayAdditionalRoute


@receiver(post_delete, sender=ApiGatewayAdditionalRoute, dispatch_uid="ws_delete_route_in_aws")
def delete_route_in_aws(
    sender: Any, instance: ApiGatewayAdditionalRoute, origin: Any = None, **kwargs: Any
) -> None:
    if getattr(instance, "aws_delete_handled", False) or not _deleted_as_routes(origin):
        return
    # AWS code, imported when a route is deleted rather than when the app loads.
    from .records import push_enabled
    from .seams import after_commit
    from .sync import remove_route

    if instance.deployed and instance.api_gateway.is_deployed and push_enabled(None):
        after_commit(partial(remove_route, instance))
