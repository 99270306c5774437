"""The tables. Behaviour lives in the service modules; the methods kept here for
compatibility with the original package delegate to them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from .conf import GATEWAY_SECRET_HEADER, GATEWAY_SECRET_PATTERN, get_gateway_secrets
from .hashing import hash_session_key, hash_user_auth

if TYPE_CHECKING:
    from .messaging.results import BroadcastResult

__all__ = [
    "GATEWAY_SECRET_HEADER",
    "GATEWAY_SECRET_PATTERN",
    "MAX_MESSAGE_SIZE",
    "ApiGateway",
    "ApiGatewayAdditionalRoute",
    "ChannelMessage",
    "ChannelPermission",
    "ChannelPermissionRule",
    "ChannelPresence",
    "ChannelSequence",
    "ChannelSubscription",
    "ConnectionRateLimit",
    "RateLimitCounter",
    "SendBatch",
    "SendRecord",
    "WebSocketSession",
    "WebSocketSessionQuerySet",
    "WebSocketToken",
    "get_gateway_secrets",
    "hash_session_key",
    "hash_user_auth",
    "serialise_message",
]


def integration_request_parameters() -> dict[str, str]:
    """The request parameters every integration carries (connection id, secret)."""
    from .provisioning.spec import integration_request_parameters

    return integration_request_parameters()


def validate_integration_host(url: str | None, field: str) -> None:
    from .provisioning.validation import validate_integration_host

    validate_integration_host(url, field)


def __getattr__(name: str) -> Any:
    # 4.1.0's names whose code lives elsewhere, resolved on first use so that models
    # import nothing from AWS at load time.
    from .compat import moved_name

    return moved_name(__name__, name)


#: The largest message API Gateway delivers, in bytes of UTF-8 JSON.
MAX_MESSAGE_SIZE = 128 * 1024


def serialise_message(data: Any) -> str:
    """The JSON text of ``data``; ``ValueError`` when over ``MAX_MESSAGE_SIZE`` bytes."""
    from .messaging.payload import serialise_message

    return serialise_message(data)


CHANNEL_NAME_REGEX = r"^[a-zA-Z0-9_-]+$"


class ApiGateway(models.Model):
    """One API Gateway WebSocket API, as created in AWS or run by the local gateway."""

    class ProvisioningStatus(models.TextChoices):
        PENDING = "pending", _("Pending")
        CREATING = "creating", _("Creating")
        API_CREATED = "api_created", _("API created")
        ROUTES_CREATED = "routes_created", _("Routes created")
        DEPLOYED = "deployed", _("Deployed")
        DOMAIN_CREATED = "domain_created", _("Custom domain created")
        MAPPED = "mapped", _("Custom domain mapped")

    api_name = models.CharField(max_length=255, unique=True)
    api_description = models.CharField(max_length=255, blank=True, default="")
    default_channel_name = models.CharField(
        max_length=128,
        blank=True,
        default="",
        help_text=_("Channel given to connections that do not ask for one."),
    )
    domain_name = models.CharField(
        max_length=255,
        blank=True,
        default="",
        help_text=_("The custom domain for the WebSocket endpoint, e.g. ws.example.com."),
    )
    target_base_endpoint = models.URLField(
        null=True,
        blank=True,
        default=None,
        help_text=_(
            "The URL of your WebSocket view without the route slug, with the trailing slash, "
            "e.g. https://www.example.com/ws/ when $default goes to https://www.example.com/ws/default."
        ),
    )
    certificate_arn = models.CharField(
        max_length=255,
        blank=True,
        default="",
        help_text=_("ARN of the AWS Certificate Manager certificate for the custom domain."),
    )
    hosted_zone_id = models.CharField(
        max_length=32,
        blank=True,
        default="",
        help_text=_(
            "Route 53 hosted zone of the custom domain; when set, the DNS alias is created."
        ),
    )
    api_key_selection_expression = models.CharField(
        max_length=255, default="$request.header.x-api-key"
    )
    route_selection_expression = models.CharField(max_length=255, default="$request.body.action")
    route_key = models.CharField(max_length=255, default="$default")
    stage_name = models.CharField(max_length=63, default="production", blank=True)
    stage_description = models.CharField(max_length=63, default="", blank=True)
    deployment_id = models.CharField(max_length=32, default="", blank=True, editable=False)
    tags = models.JSONField(blank=True, default=dict, help_text=_('{"tag-name": "tag-value"}'))
    api_id = models.CharField(
        max_length=32, blank=True, default="", help_text=_("The API id AWS gave the API.")
    )
    api_endpoint = models.CharField(
        max_length=255, blank=True, default="", help_text=_("The API's wss:// endpoint.")
    )
    api_gateway_domain_name = models.CharField(
        max_length=255,
        blank=True,
        default="",
        help_text=_("The target of the custom domain's DNS record."),
    )
    api_mapping_id = models.CharField(max_length=128, blank=True, default="")
    api_created = models.BooleanField(default=False, editable=False)
    custom_domain_created = models.BooleanField(default=False, editable=False)
    provisioning_status = models.CharField(
        max_length=16,
        choices=ProvisioningStatus.choices,
        default=ProvisioningStatus.PENDING,
        help_text=_(
            "How far creating the API in AWS has got; running the action again continues from here."
        ),
    )
    last_error = models.CharField(max_length=255, blank=True, default="", editable=False)
    default_route_response = models.BooleanField(
        default=False,
        help_text=_(
            "Pass what the $default handler returns back to the client (an API Gateway "
            "route response)."
        ),
    )
    dns_record_created = models.BooleanField(default=False, editable=False)
    created_on = models.DateTimeField(auto_now_add=True)
    updated_on = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("API Gateway")
        indexes = [
            models.Index(fields=["api_id"], name="django_aws__api_id_0da7ec_idx"),
            models.Index(fields=["domain_name"], name="django_aws__domain__3b4423_idx"),
            models.Index(fields=["custom_domain_created"], name="django_aws__custom__5e8390_idx"),
            models.Index(fields=["api_created"], name="django_aws__api_cre_376add_idx"),
            models.Index(fields=["created_on"], name="django_aws__created_32cf2a_idx"),
        ]

    def __str__(self) -> str:
        return self.api_name

    def save(self, *args: Any, push_to_aws: bool | None = None, **kwargs: Any) -> None:
        """Validate (full saves), then push changed API settings to AWS after commit."""
        from .provisioning.records import save_gateway

        full = not kwargs.get("update_fields")
        save_gateway(self, lambda: super(ApiGateway, self).save(*args, **kwargs), push_to_aws, full)

    @property
    def effective_stage_name(self) -> str:
        """The stage used in URLs; a blank stage means ``production``."""
        return self.stage_name or "production"

    # Provisioning (AWS): thin delegations to the ``provisioning`` package.

    @classmethod
    def from_db(cls, db: Any, field_names: Any, values: Any, **kwargs: Any) -> ApiGateway:
        # ``kwargs``: Django 6.1 passes ``fetch_mode``.
        instance = super().from_db(db, field_names, values, **kwargs)
        from .provisioning.records import remember

        remember(instance)
        return instance

    def clean(self) -> None:
        from .provisioning.validation import validate_gateway

        validate_gateway(self)

    @property
    def is_deployed(self) -> bool:
        return bool(self.api_created and self.api_id and self.deployment_id)

    @property
    def effective_provisioning_status(self) -> str:
        """The status, reading rows of versions before statuses were recorded."""
        status = self.ProvisioningStatus
        if self.provisioning_status == status.PENDING and self.api_created:
            return str(status.MAPPED if self.custom_domain_created else status.DEPLOYED)
        return self.provisioning_status

    @property
    def needs_api_creation(self) -> bool:
        status = self.ProvisioningStatus
        done = {status.DEPLOYED, status.DOMAIN_CREATED, status.MAPPED}
        return self.effective_provisioning_status not in done

    @property
    def needs_custom_domain(self) -> bool:
        from .provisioning.domain import needs_dns_record

        status = self.effective_provisioning_status
        if status == self.ProvisioningStatus.MAPPED:
            return needs_dns_record(self)
        return status in {self.ProvisioningStatus.DEPLOYED, self.ProvisioningStatus.DOMAIN_CREATED}

    def create_gateway(self, force: bool = False) -> bool:
        """Create (or finish creating) the API in AWS; ``False`` if already deployed."""
        from .provisioning import create_gateway

        return create_gateway(self, force=force)

    def create_custom_domain(self) -> bool:
        from .provisioning import create_custom_domain

        return create_custom_domain(self)

    def deploy_api(self, client: Any) -> str:
        from .provisioning.create import deploy

        return deploy(client, self)

    def sync_to_aws(self, client: Any = None, fields: list[str] | None = None) -> list[str]:
        from .provisioning import push_gateway

        return push_gateway(self, client, fields)

    def sync_from_aws(self, client: Any = None) -> list[str]:
        from .provisioning import pull_gateway

        return pull_gateway(self, client)


class ApiGatewayAdditionalRoute(models.Model):
    """A custom route key of a gateway, sent to its own integration URL."""

    api_gateway = models.ForeignKey(
        ApiGateway, on_delete=models.CASCADE, related_name="additional_routes"
    )
    name = models.CharField(max_length=63, help_text=_("Descriptive name for the route"))
    route_key = models.CharField(max_length=64, db_index=True)
    integration_url = models.URLField()
    deployed = models.BooleanField(default=False, editable=False)
    route_id = models.CharField(max_length=32, blank=True, default="", editable=False)
    integration_id = models.CharField(max_length=32, blank=True, default="", editable=False)
    route_response = models.BooleanField(
        default=False,
        help_text=_(
            "Pass what the handler returns back to the client (an API Gateway route response)."
        ),
    )
    created_on = models.DateTimeField(auto_now_add=True)
    updated_on = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("API Gateway additional route")
        unique_together = [["api_gateway", "route_key"]]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, push_to_aws: bool | None = None, **kwargs: Any) -> None:
        """Validate (full saves), then create or update the route in AWS after commit."""
        from .provisioning.records import save_route

        full = not kwargs.get("update_fields")
        save_route(
            self,
            lambda: super(ApiGatewayAdditionalRoute, self).save(*args, **kwargs),
            push_to_aws,
            full,
        )

    @classmethod
    def from_db(
        cls, db: Any, field_names: Any, values: Any, **kwargs: Any
    ) -> ApiGatewayAdditionalRoute:
        # ``kwargs``: Django 6.1 passes ``fetch_mode``.
        instance = super().from_db(db, field_names, values, **kwargs)
        from .provisioning.records import remember

        remember(instance)
        return instance

    def clean(self) -> None:
        from .provisioning.validation import validate_route

        validate_route(self)

    def delete(self, *args: Any, push_to_aws: bool | None = None, **kwargs: Any) -> Any:
        from .provisioning.records import delete_route_record

        return delete_route_record(
            self,
            lambda: super(ApiGatewayAdditionalRoute, self).delete(*args, **kwargs),
            push_to_aws,
        )

    def create_route(self, client: Any, deploy: bool = True) -> list[str]:
        from .provisioning import push_route

        return push_route(self, client, deploy_after=deploy)

    def update_route(
        self, client: Any, previous_route_key: str | None = None, deploy: bool = True
    ) -> list[str]:
        from .provisioning import push_route

        return push_route(self, client, deploy_after=deploy, previous_key=previous_route_key or "")

    def delete_route(self, client: Any, deploy: bool = True) -> list[str]:
        from .provisioning import remove_route

        return remove_route(self, client, deploy_after=deploy)


class WebSocketSessionQuerySet(models.QuerySet["WebSocketSession"]):
    def connected(self) -> WebSocketSessionQuerySet:
        return self.filter(connected=True)

    def in_channel(self, channel_name: str) -> WebSocketSessionQuerySet:
        """Sessions whose primary channel is ``channel_name`` or that subscribed to it,
        each once (an ``EXISTS``, not a join, so pages need no de-duplication)."""
        subscribed = ChannelSubscription.objects.filter(
            session=models.OuterRef("pk"), channel_name=channel_name
        )
        return self.filter(models.Q(channel_name=channel_name) | models.Exists(subscribed))

    def for_user(self, user: Any) -> WebSocketSessionQuerySet:
        return self.filter(user=user)

    def send_message(self, data: Any, **options: Any) -> BroadcastResult:
        """Send ``data`` to every connected session in the queryset.

        Returns a result that reports every recipient as sent, gone or failed (and
        iterates like the original's list of successful responses).
        """
        from .messaging.fanout import send_to_queryset

        return send_to_queryset(self, data, **options)

    async def asend_message(self, data: Any, **options: Any) -> BroadcastResult:
        from .messaging.fanout import asend_to_queryset

        return await asend_to_queryset(self, data, **options)

    def send_message_in_background(self, data: Any, **options: Any) -> Any:
        """Split the send into batches run by Django's task framework."""
        from .messaging.background import enqueue_send

        return enqueue_send(self, data, **options)


class WebSocketSession(models.Model):
    """One API Gateway connection, keyed by its connection id."""

    connection_id = models.CharField(max_length=255, unique=True)
    channel_name = models.CharField(
        max_length=128, blank=True, default="", help_text=_("Used to group connections together")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        blank=True,
        null=True,
        default=None,
        on_delete=models.CASCADE,
        related_name="websocket_sessions",
    )
    connected = models.BooleanField(
        default=True, help_text=_("Whether the connection is still open")
    )
    api_gateway = models.ForeignKey(
        ApiGateway,
        null=True,
        blank=True,
        default=None,
        on_delete=models.SET_NULL,
        related_name="sessions",
    )
    request_count = models.PositiveBigIntegerField(default=1)
    session_key_hash = models.CharField(max_length=64, blank=True, default="", db_index=True)
    auth_hash = models.CharField(max_length=64, blank=True, default="")
    presence = models.BooleanField(
        default=False,
        help_text=_("Joined a presence channel: its departure is checked against presence."),
    )
    created_on = models.DateTimeField(auto_now_add=True)
    updated_on = models.DateTimeField(auto_now=True)

    objects = WebSocketSessionQuerySet.as_manager()

    class Meta:
        verbose_name = _("WebSocket session")
        indexes = [
            models.Index(
                fields=["connection_id", "connected"], name="django_aws__connect_fee1eb_idx"
            ),
            models.Index(
                fields=["channel_name", "connection_id"], name="django_aws__channel_dd10fa_idx"
            ),
            models.Index(
                fields=["channel_name", "connected"], name="django_aws__channel_1de026_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.connection_id

    def send_message(self, data: Any) -> dict[str, Any] | None:
        """Post ``data`` to this connection.

        Returns the Management API's response, or ``None`` when the connection is gone
        (the session is then marked disconnected). Raises ``ValueError`` without a
        gateway or when the message is over 128 KB.
        """
        from .messaging.send import send_to_session

        return send_to_session(self, data)

    async def asend_message(self, data: Any) -> dict[str, Any] | None:
        from .messaging.send import asend_to_session

        return await asend_to_session(self, data)


class ChannelSubscription(models.Model):
    """A channel a connection follows besides its primary one (``channel_name``).

    Rows go with their session; a session marked disconnected keeps them until the
    cleanup deletes the session, and queries join on ``connected`` anyway.
    """

    session = models.ForeignKey(
        WebSocketSession, on_delete=models.CASCADE, related_name="subscriptions"
    )
    channel_name = models.CharField(max_length=128)
    created_on = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("channel subscription")
        constraints = [
            models.UniqueConstraint(
                fields=["session", "channel_name"], name="ws_subscription_unique"
            )
        ]
        indexes = [models.Index(fields=["channel_name", "session"], name="ws_subscription_channel")]

    def __str__(self) -> str:
        return f"{self.session_id} -> {self.channel_name}"


class ChannelPresence(models.Model):
    """A user who is a member of a presence channel, announced to the channel once.

    The row exists from the first connection of the user joining the channel to the
    last one leaving it (see ``presence.py``); ``data`` is the public payload the view
    chose for the user when the row was made.
    """

    channel_name = models.CharField(max_length=128)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="channel_presences"
    )
    data = models.JSONField(default=dict, blank=True)
    #: Connections that joined since the row was made; 1 tells the joiner it was first.
    joins = models.PositiveIntegerField(default=1)
    joined_on = models.DateTimeField()

    class Meta:
        verbose_name = _("channel presence")
        constraints = [
            models.UniqueConstraint(fields=["channel_name", "user"], name="ws_presence_unique")
        ]
        indexes = [models.Index(fields=["user", "channel_name"], name="ws_presence_user")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.channel_name}"


class WebSocketToken(models.Model):
    """A single-use token that lets a logged-in browser open one connection."""

    token = models.CharField(
        max_length=64,
        unique=True,
        validators=[RegexValidator(r"^[a-f0-9]{64}$", "Invalid token format")],
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="websocket_tokens"
    )
    # A keyed hash of the Django session key, never the key itself.
    session_key = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    used = models.BooleanField(default=False)
    # The user's auth hash when the token was issued, copied to the session on connect
    # so that connecting needs no user query.
    auth_hash = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        verbose_name = _("WebSocket token")
        indexes = [models.Index(fields=["token", "used"], name="idx_websocket_tokens_used")]

    def __str__(self) -> str:
        return f"{self.token[:16]}…"

    @classmethod
    def generate_token(cls, user: Any, session_key: str) -> WebSocketToken:
        from .tokens import issue_token

        return issue_token(user, session_key)

    @classmethod
    def validate_and_consume(
        cls, token_value: str, session_key: str, max_age_seconds: int = 60
    ) -> Any:
        """The token's user if the token was valid and is now spent, else ``None``."""
        from .tokens import consume_token_user

        return consume_token_user(token_value, session_key, max_age_seconds)

    @classmethod
    def cleanup_expired(cls, max_age_seconds: int = 300) -> tuple[int, dict[str, int]]:
        from .tokens import delete_tokens_older_than

        return delete_tokens_older_than(max_age_seconds)

    @classmethod
    def check_rate_limit(cls, user: Any, max_tokens_per_minute: int = 10) -> bool:
        """Whether ``user`` may have another token now (counts this request)."""
        from .ratelimit import allow_token_issue

        return allow_token_issue(user, max_tokens_per_minute)


class ConnectionRateLimit(models.Model):
    """A recorded connection attempt (kept from the original for existing data and
    callers; the views limit with :class:`RateLimitCounter`, which is atomic)."""

    ip_address = models.GenericIPAddressField(db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="connection_attempts",
    )
    attempt_time = models.DateTimeField(auto_now_add=True, db_index=True)
    successful = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("connection attempt")
        indexes = [
            models.Index(fields=["ip_address", "attempt_time"], name="idx_ip_attempt_time"),
            models.Index(fields=["user", "attempt_time"], name="idx_user_attempt_time"),
        ]

    def __str__(self) -> str:
        return f"{self.ip_address} at {self.attempt_time:%Y-%m-%d %H:%M:%S}"

    @classmethod
    def check_rate_limit(
        cls, ip_address: str, user: Any = None, max_attempts: int = 20, window_minutes: int = 5
    ) -> tuple[bool, int]:
        from .ratelimit import check_recorded_attempts

        return check_recorded_attempts(ip_address, user, max_attempts, window_minutes)

    @classmethod
    def record_attempt(
        cls, ip_address: str, user: Any = None, successful: bool = False
    ) -> ConnectionRateLimit:
        from .ratelimit import record_attempt

        return record_attempt(ip_address, user, successful)

    @classmethod
    def cleanup_old_records(cls, days: int = 7) -> tuple[int, dict[str, int]]:
        from .ratelimit import delete_records_older_than

        return delete_records_older_than(days)


#: Characters of one admission in ``RateLimitCounter.hits``: 16 digits of microseconds
#: since the epoch, then 8 hex digits that make the entry unique.
RATE_LIMIT_ENTRY_WIDTH = 24


class RateLimitCounter(models.Model):
    """One rate-limit key: the admitted attempts of its sliding window.

    ``hits`` holds the timestamps of the most recent admissions, oldest first (at most
    the limit's number), changed by one atomic upsert per attempt (see ``ratelimit.py``).
    """

    key = models.CharField(max_length=191, unique=True)
    hits = models.TextField(blank=True, default="")
    updated_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("rate limit counter")

    def __str__(self) -> str:
        return f"{self.key} @ {self.updated_at:%H:%M:%S}: {self.admitted}"

    @property
    def admitted(self) -> int:
        """How many admissions the row remembers (the limit's number at most)."""
        return len(self.hits) // RATE_LIMIT_ENTRY_WIDTH


class ChannelPermission(models.Model):
    """Who may join a channel. A channel without a row follows
    ``WebSocketView.ALLOW_UNLISTED_CHANNELS``."""

    class Access(models.TextChoices):
        ALLOW_ALL = "allow_all", _("Allow all")
        SUPERUSER_ONLY = "superuser_only", _("Super admin only")
        STAFF_ONLY = "staff_only", _("Staff only")
        PERMISSIONS = "permissions", _("Requires Django permissions")

    channel_name = models.CharField(
        max_length=128,
        unique=True,
        validators=[
            RegexValidator(
                CHANNEL_NAME_REGEX, _("Use only letters, numbers, underscores and hyphens.")
            )
        ],
    )
    access = models.CharField(max_length=16, choices=Access.choices, default=Access.ALLOW_ALL)
    description = models.CharField(max_length=255, blank=True, default="")
    created_on = models.DateTimeField(auto_now_add=True)
    updated_on = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("channel permission")
        ordering = ["channel_name"]

    def __str__(self) -> str:
        return f"{self.channel_name} ({self.get_access_display()})"

    @classmethod
    def for_channel(cls, channel_name: str) -> ChannelPermission | None:
        return cls.objects.filter(channel_name=channel_name).first()

    def allows(self, user: Any) -> bool:
        from .channels import permission_allows

        return permission_allows(self, user)


class ChannelPermissionRule(models.Model):
    """A set of permissions a user must all hold; any one rule of a channel admits."""

    channel_permission = models.ForeignKey(
        ChannelPermission, on_delete=models.CASCADE, related_name="rules"
    )
    permissions = models.ManyToManyField(
        Permission, blank=True, related_name="channel_permission_rules"
    )

    class Meta:
        verbose_name = _("channel permission rule")
        ordering = ["pk"]

    def __str__(self) -> str:
        labels = [
            f"{p.content_type.app_label}.{p.codename}"
            for p in self.permissions.select_related("content_type")
        ]
        return " AND ".join(labels) or str(_("(no permissions)"))

    def is_satisfied_by(self, user: Any) -> bool:
        labels = [f"{p.content_type.app_label}.{p.codename}" for p in self.permissions.all()]
        return bool(labels) and user.has_perms(labels)


class SendRecord(models.Model):
    """A background send, written before ``send_message_in_background`` returns: the
    message exactly as posted, how it was queued, and (once finished) the counts.

    Its recipients are in its batches (:class:`SendBatch`); while it runs, the counts
    are the sums over them (``messaging.records.counts``).
    """

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        FINISHED = "finished", _("Finished")

    message = models.TextField(help_text=_("The UTF-8 JSON posted to every recipient."))
    message_id = models.CharField(
        max_length=32,
        blank=True,
        default="",
        help_text=_("The id stamped on the message when the sender asked for one."),
    )
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    recipients = models.PositiveIntegerField(default=0)
    batch_count = models.PositiveIntegerField(default=0)
    # Where the batches are enqueued again after a crash: the task options of the send.
    backend = models.CharField(max_length=100, blank=True, default="")
    queue_name = models.CharField(max_length=100, blank=True, default="")
    priority = models.IntegerField(null=True, blank=True, default=None)
    max_workers = models.PositiveIntegerField(null=True, blank=True, default=None)
    sent = models.PositiveIntegerField(default=0)
    gone = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    throttled = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    maybe_duplicated = models.PositiveIntegerField(
        default=0,
        help_text=_(
            "At most this many recipients may have the message twice: posts that got no "
            "answer, and posts in flight when a worker died."
        ),
    )
    created_on = models.DateTimeField(auto_now_add=True, db_index=True)
    started_on = models.DateTimeField(null=True, blank=True, default=None)
    finished_on = models.DateTimeField(null=True, blank=True, default=None)

    class Meta:
        verbose_name = _("send record")
        ordering = ["-created_on"]

    def __str__(self) -> str:
        return f"send {self.pk} ({self.state}, {self.recipients} recipients)"


class SendBatch(models.Model):
    """Part of a background send, run by one task at a time under a lease.

    ``position`` counts the recipients (in ``session_ids`` order) whose posts are
    settled and counted; a worker that takes over an expired lease resumes there.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")

    record = models.ForeignKey(SendRecord, on_delete=models.CASCADE, related_name="batches")
    index = models.PositiveIntegerField()
    session_ids = models.JSONField(help_text=_("Primary keys of the recipients' sessions."))
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    claimed_by = models.CharField(max_length=100, blank=True, default="")
    lease_expires_at = models.DateTimeField(null=True, blank=True, default=None)
    claims = models.PositiveIntegerField(default=0)
    position = models.PositiveIntegerField(default=0)
    sent = models.PositiveIntegerField(default=0)
    gone = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    throttled = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    maybe_duplicated = models.PositiveIntegerField(default=0)
    finished_on = models.DateTimeField(null=True, blank=True, default=None)

    class Meta:
        verbose_name = _("send batch")
        verbose_name_plural = _("send batches")
        constraints = [
            models.UniqueConstraint(fields=["record", "index"], name="ws_sendbatch_record_index")
        ]
        indexes = [
            models.Index(fields=["state", "lease_expires_at"], name="ws_sendbatch_lease_idx")
        ]

    def __str__(self) -> str:
        return f"batch {self.index} of send {self.record_id} ({self.state})"


class ChannelSequence(models.Model):
    """The last sequence number given to a message of a channel that keeps history.

    Never deleted, so that a channel's numbers are never given twice, even after all
    its messages have expired (see ``history.py``).
    """

    # The key itself: a surrogate id would be drawn (and burnt) by every upsert.
    channel_name = models.CharField(max_length=128, primary_key=True)
    last_seq = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("channel sequence")

    def __str__(self) -> str:
        return f"{self.channel_name} @ {self.last_seq}"


class ChannelMessage(models.Model):
    """A message sent to a channel that keeps history, kept for ``resume`` and
    ``history`` within the retention settings."""

    channel_name = models.CharField(max_length=128)
    seq = models.PositiveBigIntegerField()
    data = models.TextField(help_text=_("The message's data as JSON."))
    sent_at = models.DateTimeField()

    class Meta:
        verbose_name = _("channel message")
        constraints = [
            models.UniqueConstraint(fields=["channel_name", "seq"], name="ws_channelmessage_seq")
        ]
        indexes = [models.Index(fields=["sent_at"], name="ws_channelmessage_sent_at")]

    def __str__(self) -> str:
        return f"{self.channel_name} #{self.seq}"
