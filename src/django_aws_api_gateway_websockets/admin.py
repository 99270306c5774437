"""Admin pages. Connection, token and rate-limit rows are written only by the package,
so their pages are read-only; secrets (session key and auth hashes, whole tokens)
are never shown."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth import get_permission_codename, get_user_model
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from . import dashboard
from .departures import mark_gone
from .models import (
    ApiGateway,
    ApiGatewayAdditionalRoute,
    ChannelMessage,
    ChannelPermission,
    ChannelPermissionRule,
    ConnectionRateLimit,
    RateLimitCounter,
    SendRecord,
    WebSocketSession,
    WebSocketToken,
)
from .provisioning.admin_actions import GATEWAY_ACTIONS, ReportSyncErrorsMixin


def __getattr__(name: str) -> Any:
    # 4.1.0's action functions and mixin, under their 4.1.0 names.
    from .compat import moved_name

    return moved_name(__name__, name)


#: Characters of a token shown in the admin (as the model's ``str()`` does): enough to
#: tell rows apart, a quarter of the value, so useless to an attacker.
TOKEN_PREFIX_LENGTH = 16


def user_search_field() -> str:
    """``user__<USERNAME_FIELD>``, so search works with custom user models too."""
    return f"user__{get_user_model().USERNAME_FIELD}"


#: Integration URLs are https; saying so also keeps Django 5.2 from warning that its
#: default scheme for URL form fields changes in 6.0.
URL_FIELD_OVERRIDES: dict[type[models.Field[Any, Any]], dict[str, Any]] = {
    models.URLField: {"assume_scheme": "https"}
}


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows the package writes itself: viewable and deletable, never added or edited."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ApiGatewayAdditionalRouteInline(admin.TabularInline):
    model = ApiGatewayAdditionalRoute
    extra = 0
    formfield_overrides = URL_FIELD_OVERRIDES
    fields = ("name", "route_key", "integration_url", "route_response", "deployed")
    readonly_fields = ("deployed",)


@admin.register(ApiGateway)
class ApiGatewayAdmin(ReportSyncErrorsMixin, admin.ModelAdmin):
    list_display = (
        "api_name",
        "domain_name",
        "default_channel_name",
        "api_id",
        "api_endpoint",
        "api_gateway_domain_name",
        "provisioning_status",
        "api_created",
        "deployment_id",
        "custom_domain_created",
        "created_on",
        "updated_on",
    )
    list_filter = ("provisioning_status", "api_created", "custom_domain_created")
    search_fields = ("domain_name", "api_name")
    readonly_fields = (
        "last_error",
        "api_created",
        "deployment_id",
        "custom_domain_created",
        "dns_record_created",
    )
    inlines = (ApiGatewayAdditionalRouteInline,)
    formfield_overrides = URL_FIELD_OVERRIDES
    # "Create API Gateway", "Create Custom Domain", "Sync to AWS", "Sync from AWS".
    actions = GATEWAY_ACTIONS


@admin.register(ApiGatewayAdditionalRoute)
class ApiGatewayAdditionalRouteAdmin(ReportSyncErrorsMixin, admin.ModelAdmin):
    list_display = ("name", "api_gateway", "route_key", "integration_url", "deployed")
    list_filter = ("api_gateway",)
    list_select_related = ("api_gateway",)
    search_fields = ("name", "route_key")
    autocomplete_fields = ("api_gateway",)
    readonly_fields = ("deployed", "route_id", "integration_id")
    formfield_overrides = URL_FIELD_OVERRIDES
    # No bulk actions: a route reaches AWS when it is saved or deleted on its own.
    actions: list[Any] = []


def dollars(amount: float) -> str:
    """Cents, or millionths below a cent (a quiet month costs fractions of one)."""
    return f"{amount:,.2f}" if amount >= 0.01 or amount == 0 else f"{amount:.6f}"


@admin.register(WebSocketSession)
class WebSocketSessionAdmin(ReadOnlyAdmin):
    list_display = (
        "connection_id",
        "channel_name",
        "user",
        "connected",
        "api_gateway",
        "request_count",
        "created_on",
        "updated_on",
    )
    list_filter = ("connected", "api_gateway", "created_on")
    list_select_related = ("user", "api_gateway")
    exclude = ("session_key_hash", "auth_hash")
    # The table can hold millions of rows: no COUNT(*) of the whole table per page.
    show_full_result_count = False
    actions = ("mark_disconnected",)

    def get_urls(self) -> list[URLPattern]:
        dashboard = self.admin_site.admin_view(self.dashboard_view)
        name = f"{self.opts.app_label}_dashboard"
        return [path("dashboard/", dashboard, name=name), *super().get_urls()]

    def dashboard_view(self, request: HttpRequest) -> HttpResponse:
        """Connections, traffic, refusals, fan-out results and the month's bill."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        figures = dashboard.figures()
        bill = figures.estimate
        no_metrics = gettext("Install the metrics extra (prometheus-client) to see this.")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("WebSocket dashboard"),
            "figures": figures,
            "bill_total": dollars(bill.total_usd),
            "bill_messages": dollars(bill.messages_usd),
            "bill_minutes": dollars(bill.connection_minutes_usd),
            "connection_minutes": f"{bill.usage.connection_minutes:,.1f}",
            "gateway_chart": dashboard.bar_chart(figures.by_gateway, gettext("Open by gateway")),
            "connects_chart": dashboard.column_chart(
                figures.connects, gettext("Connects per minute")
            ),
            "messages_chart": figures.messages is not None
            and dashboard.column_chart(figures.messages, gettext("Messages per minute")),
            "refusals_chart": dashboard.bar_chart(figures.refusals, gettext("Refusals by reason")),
            "fanout_chart": dashboard.bar_chart(figures.fanout, gettext("Posts by verdict")),
            "no_metrics": no_metrics,
        }
        return TemplateResponse(
            request, "admin/django_aws_api_gateway_websockets/dashboard.html", context
        )

    def get_search_fields(self, request: HttpRequest) -> tuple[str, ...]:
        return ("connection_id", "channel_name", user_search_field())

    def has_mark_disconnected_permission(self, request: HttpRequest) -> bool:
        """Marking is an edit of the rows, so it needs Django's change permission."""
        codename = get_permission_codename("change", self.opts)
        return request.user.has_perm(f"{self.opts.app_label}.{codename}")

    @admin.action(
        description=_("Mark selected sessions as disconnected"),
        permissions=("mark_disconnected",),
    )
    def mark_disconnected(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        count = mark_gone(list(queryset.filter(connected=True).values_list("pk", flat=True)))
        self.message_user(
            request,
            ngettext(
                "Marked %(count)d session as disconnected.",
                "Marked %(count)d sessions as disconnected.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(WebSocketToken)
class WebSocketTokenAdmin(ReadOnlyAdmin):
    list_display = ("token_preview", "user", "used", "created_at")
    list_filter = ("used", "created_at")
    list_select_related = ("user",)
    fields = ("token_preview", "user", "used", "created_at")
    readonly_fields = fields
    show_full_result_count = False

    def get_search_fields(self, request: HttpRequest) -> tuple[str, ...]:
        return (user_search_field(),)

    @admin.display(description=_("token"))
    def token_preview(self, obj: WebSocketToken) -> str:
        return f"{obj.token[:TOKEN_PREFIX_LENGTH]}..."


@admin.register(ConnectionRateLimit)
class ConnectionRateLimitAdmin(ReadOnlyAdmin):
    list_display = ("ip_address", "user", "attempt_time", "successful")
    list_filter = ("successful", "attempt_time")
    list_select_related = ("user",)
    show_full_result_count = False

    def get_search_fields(self, request: HttpRequest) -> tuple[str, ...]:
        return ("ip_address", user_search_field())


@admin.register(RateLimitCounter)
class RateLimitCounterAdmin(ReadOnlyAdmin):
    list_display = ("key", "updated_at", "admitted")
    list_filter = ("updated_at",)
    search_fields = ("key",)
    show_full_result_count = False


class ChannelPermissionRuleInline(admin.TabularInline):
    model = ChannelPermissionRule
    extra = 0
    filter_horizontal = ("permissions",)


def summarise_rules(rules: list[list[str]]) -> str:
    """``(A AND B) OR (C)``: any one rule admits, a rule needs all its permissions."""
    return " OR ".join(f"({' AND '.join(labels)})" for labels in rules if labels)


@admin.register(ChannelPermission)
class ChannelPermissionAdmin(admin.ModelAdmin):
    list_display = ("channel_name", "access", "rules_summary", "description", "updated_on")
    list_filter = ("access",)
    search_fields = ("channel_name", "description")
    inlines = (ChannelPermissionRuleInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        # Two extra queries for the whole page, not two per row.
        return (
            super()
            .get_queryset(request)
            .prefetch_related(
                Prefetch(
                    "rules",
                    queryset=ChannelPermissionRule.objects.prefetch_related(
                        "permissions__content_type"
                    ),
                )
            )
        )

    @admin.display(description=_("rules"))
    def rules_summary(self, obj: ChannelPermission) -> str:
        if obj.access != ChannelPermission.Access.PERMISSIONS:
            return "—"
        rules = [
            sorted(f"{p.content_type.app_label}.{p.codename}" for p in rule.permissions.all())
            for rule in obj.rules.all()
        ]
        return summarise_rules(rules) or str(_("superusers only (no rules)"))


@admin.register(SendRecord)
class SendRecordAdmin(ReadOnlyAdmin):
    """Background sends: state and counts. While a send runs its counts are summed over
    its batches; once it has finished they are stored on the record."""

    list_display = (
        "pk",
        "state",
        "recipients",
        "batches_done",
        "sent_display",
        "gone",
        "failed",
        "throttled",
        "skipped",
        "maybe_duplicated",
        "created_on",
        "finished_on",
    )
    list_filter = ("state", "created_on")
    exclude = ("message",)
    readonly_fields = ("message_display",)
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[SendRecord]:
        return (
            super()
            .get_queryset(request)
            .defer("message")
            .annotate(
                done=Count("batches", filter=Q(batches__state="done")),
                sent_so_far=Sum("batches__sent"),
            )
        )

    @admin.display(description=_("batches done"))
    def batches_done(self, obj: Any) -> str:
        return f"{obj.done} / {obj.batch_count}"

    @admin.display(description=_("sent"))
    def sent_display(self, obj: Any) -> int:
        return int(obj.sent if obj.state == SendRecord.State.FINISHED else obj.sent_so_far or 0)

    @admin.display(description=_("message"))
    def message_display(self, obj: SendRecord) -> str:
        return obj.message


@admin.register(ChannelMessage)
class ChannelMessageAdmin(ReadOnlyAdmin):
    """Kept channel history, newest first; the cleanup command deletes what the
    retention settings exclude."""

    list_display = ("channel_name", "seq", "sent_at")
    list_filter = ("sent_at",)
    search_fields = ("=channel_name",)
    ordering = ("-sent_at",)
    fields = ("channel_name", "seq", "sent_at", "data")
    readonly_fields = fields
    show_full_result_count = False
