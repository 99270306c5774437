"""Admin actions that create and sync gateways in AWS, one message per gateway.

They need the change permission. The audit log names the user by primary key, which
every user model has (the original read ``username`` and failed on custom models).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from ..models import ApiGatewayAdditionalRoute
from .create import ClaimError
from .deferred import collect_deferred_sync_errors
from .errors import ApiGatewaySyncError, describe_error
from .seams import admin_messages

logger = logging.getLogger(__name__)


def _rows(queryset: QuerySet[Any] | list[Any]) -> Any:
    # A list of rows works too, as in 4.1.0 (code that calls the actions itself).
    return queryset.order_by("pk") if isinstance(queryset, QuerySet) else queryset


def _audit(action: str, gateway: Any, request: HttpRequest) -> None:
    logger.info("%s on %s (pk %s) by user pk %s", action, gateway, gateway.pk, request.user.pk)


def _failed(request: HttpRequest, text: str, exc: BaseException) -> None:
    """Report a failure by its kind only; the details go to the log."""
    logger.warning("%s: %s", text, describe_error(exc))
    admin_messages().error(request, f"{text}: {type(exc).__name__}")


# The actions call the model's methods and report with 4.1.0's messages, so code and
# tests written against 4.1.0's actions see what they saw.


@admin.action(description=_("Create API Gateway"), permissions=["change"])
def create_api_gateway(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Any]
) -> None:
    for gateway in _rows(queryset):
        if not gateway.needs_api_creation:
            admin_messages().info(request, f"{gateway.api_name} already created")
            continue
        _audit("Create API Gateway", gateway, request)
        try:
            created = gateway.create_gateway()
        except (ValueError, ClaimError) as exc:
            admin_messages().error(request, f"{gateway.api_name}: {exc}")
        except Exception as exc:  # reported by kind, as 4.1.0 did: one gateway, one message
            _failed(request, f"Failed to create {gateway.api_name}", exc)
        else:
            if created:
                admin_messages().success(request, f"{gateway.api_name} created")
            else:
                admin_messages().info(request, f"{gateway.api_name} already created")


@admin.action(description=_("Create Custom Domain"), permissions=["change"])
def create_custom_domain(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Any]
) -> None:
    for gateway in _rows(queryset):
        if not (gateway.needs_custom_domain or gateway.needs_api_creation):
            admin_messages().info(request, f"{gateway.domain_name} custom domain already created")
            continue
        _audit("Create Custom Domain", gateway, request)
        try:
            created = gateway.create_custom_domain()
        except ValueError as exc:
            admin_messages().error(request, f"{gateway.api_name}: {exc}")
        except Exception as exc:  # reported by kind, as 4.1.0 did: one gateway, one message
            _failed(request, f"Failed to create custom domain for {gateway.api_name}", exc)
        else:
            if created is False:
                admin_messages().info(
                    request, f"{gateway.domain_name} custom domain already created"
                )
            else:
                admin_messages().success(request, f"{gateway.domain_name} custom domain created")


def _sync(request: HttpRequest, queryset: QuerySet[Any], method: str, verb: str) -> None:
    for gateway in _rows(queryset):
        _audit(f"Sync {verb} AWS", gateway, request)
        try:
            changes = getattr(gateway, method)()
        except ValueError as exc:
            admin_messages().error(request, f"{gateway.api_name}: {exc}")
        except ApiGatewaySyncError as exc:
            admin_messages().error(
                request, f"{gateway.api_name}: could not sync {verb} AWS ({exc})"
            )
        else:
            if changes:
                admin_messages().success(
                    request, f"{gateway.api_name}: synced {verb} AWS. " + "; ".join(changes)
                )
            else:
                admin_messages().info(request, f"{gateway.api_name}: already in sync with AWS")


@admin.action(description=_("Sync to AWS"), permissions=["change"])
def sync_to_aws(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Any]
) -> None:
    _sync(request, queryset, "sync_to_aws", "to")


@admin.action(description=_("Sync from AWS"), permissions=["change"])
def sync_from_aws(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Any]
) -> None:
    _sync(request, queryset, "sync_from_aws", "from")


GATEWAY_ACTIONS = [create_api_gateway, create_custom_domain, sync_to_aws, sync_from_aws]


class ReportSyncErrorsMixin(admin.ModelAdmin):
    """Show AWS failures as messages, as 4.1.0's admin did: those of saves and deletes
    made at once, and those of pushes deferred to the commit of an admin view. Inline
    routes are saved one by one, so one failure does not skip the rest."""

    def _report(self, request: HttpRequest, error: ApiGatewaySyncError) -> None:
        admin_messages().error(request, _("Saved, but AWS was not updated: %s") % error)

    def _reporting(self, request: HttpRequest, view: Callable[[], HttpResponse]) -> HttpResponse:
        with collect_deferred_sync_errors() as errors:
            response = view()
        for error in errors:
            self._report(request, error)
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

    def changelist_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self._reporting(
            request,
            lambda: super(ReportSyncErrorsMixin, self).changelist_view(request, *args, **kwargs),
        )

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        try:
            super().save_model(request, obj, form, change)
        except ApiGatewaySyncError as error:
            self._report(request, error)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        try:
            super().delete_model(request, obj)
        except ApiGatewaySyncError as error:
            self._report(request, error)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        try:
            super().delete_queryset(request, queryset)
        except ApiGatewaySyncError as error:
            self._report(request, error)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not ApiGatewayAdditionalRoute:
            return super().save_formset(request, form, formset, change)
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            self.delete_model(request, obj)
        for instance in instances:
            self.save_model(request, instance, form, change)
        formset.save_m2m()
        return None
