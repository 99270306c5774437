"""Admin actions that create and sync gateways in AWS, one message per gateway.

They need the change permission. The audit log names the user by primary key, which
every user model has (the original read ``username`` and failed on custom models).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from .create import ClaimError, create_gateway
from .deferred import collect_deferred_sync_errors
from .domain import create_custom_domain as build_custom_domain
from .errors import AWS_ERRORS, ApiGatewaySyncError, describe_error
from .sync import pull_gateway, push_gateway

logger = logging.getLogger(__name__)

FAILURES = (*AWS_ERRORS, ApiGatewaySyncError, ClaimError, ValueError)


def _for_each(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet[Any],
    action: str,
    work: Callable[[Any], str],
) -> None:
    # A list of rows works too, as in 4.1.0 (code that calls the actions itself).
    rows = queryset.order_by("pk") if isinstance(queryset, QuerySet) else queryset
    for gateway in rows:
        logger.info("%s on %s (pk %s) by user pk %s", action, gateway, gateway.pk, request.user.pk)
        try:
            text = work(gateway)
        except FAILURES as exc:
            detail = describe_error(exc) if isinstance(exc, AWS_ERRORS) else str(exc)
            messages.error(request, f"{gateway}: {detail}")
        else:
            messages.success(request, f"{gateway}: {text}")


@admin.action(description=_("Create API Gateway"), permissions=["change"])
def create_api_gateway(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Any]
) -> None:
    def work(gateway: Any) -> str:
        if not create_gateway(gateway):
            return "already created"
        return f"created API {gateway.api_id}, deployment {gateway.deployment_id}"

    _for_each(modeladmin, request, queryset, "Create API Gateway", work)


@admin.action(description=_("Create Custom Domain"), permissions=["change"])
def create_custom_domain(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Any]
) -> None:
    def work(gateway: Any) -> str:
        if not build_custom_domain(gateway):
            return "custom domain already created"
        return f"created {gateway.domain_name} -> {gateway.api_gateway_domain_name}"

    _for_each(modeladmin, request, queryset, "Create Custom Domain", work)


@admin.action(description=_("Sync to AWS"), permissions=["change"])
def sync_to_aws(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Any]
) -> None:
    _for_each(
        modeladmin,
        request,
        queryset,
        "Sync to AWS",
        lambda gateway: "; ".join(push_gateway(gateway)) or "AWS already matches",
    )


@admin.action(description=_("Sync from AWS"), permissions=["change"])
def sync_from_aws(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Any]
) -> None:
    _for_each(
        modeladmin,
        request,
        queryset,
        "Sync from AWS",
        lambda gateway: "; ".join(pull_gateway(gateway)) or "the records already match AWS",
    )


GATEWAY_ACTIONS = [create_api_gateway, create_custom_domain, sync_to_aws, sync_from_aws]


class ReportSyncErrorsMixin(admin.ModelAdmin):
    """Show the AWS failures of pushes deferred to the commit of an admin save/delete."""

    def _reporting(self, request: HttpRequest, view: Callable[[], HttpResponse]) -> HttpResponse:
        with collect_deferred_sync_errors() as errors:
            response = view()
        for error in errors:
            self.message_user(
                request, _("Saved, but AWS was not updated: %s") % error, messages.ERROR
            )
        return response

    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self._reporting(
            request,
            lambda: super(ReportSyncErrorsMixin, self).changeform_view(request, *args, **kwargs),
        )

    def delete_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self._reporting(
            request,
            lambda: super(ReportSyncErrorsMixin, self).delete_view(request, *args, **kwargs),
        )
