"""The two views: API Gateway's integration endpoint and the browser's token endpoint.

Both are thin adapters. Untrusted input is validated by :mod:`.events`; tokens, limits,
channel permissions and session rows are handled by the service modules. The class
attributes and hooks keep the names and defaults of the original package.
"""

from __future__ import annotations

import hmac
import inspect
import json
import logging
import re
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import DisallowedHost, RequestDataTooBig
from django.core.mail import mail_admins
from django.db.models import F  # noqa: F401  (kept importable for the original's tests)
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
    JsonResponse,
    QueryDict,
)
from django.utils.decorators import method_decorator
from django.utils.html import escape
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from . import metrics
from .admission import (
    BAD_ORIGIN,
    FORBIDDEN_CHANNEL,
    INVALID_CHANNEL,
    METHOD_NOT_ALLOWED,
    NOT_AUTHENTICATED,
    RATE_LIMITED,
    REFUSED,
    Caller,
    Policy,
    Refusal,
    admit,
)
from .channels import ChannelRule, channel_permission_for, rule_for
from .conf import (
    GATEWAY_SECRET_HEADER,
    get_allowed_origins,
    get_boolean_setting,
    get_gateway_secrets,
    get_setting,
)
from .events import (
    CONNECT,
    DEFAULT,
    DISCONNECT,
    LIFECYCLE_ROUTES,
    Event,
    EventError,
    EventRules,
    MetaHeaders,
    is_valid_channel_name,
    missing_names,
    origin_allowed,
    read_event,
)
from .gateways import known_gateway
from .hashing import (  # noqa: F401  (the original's module-level names)
    hash_session_key,
    hash_user_auth,
    user_auth_matches,
)
from .history import LARGEST_SEQ
from .logfilters import redact_tokens
from .models import (  # noqa: F401  (the original's module-level names)
    MAX_MESSAGE_SIZE,
    ApiGateway,
    ChannelPermission,
    ConnectionRateLimit,
    WebSocketSession,
    WebSocketToken,
)
from .presence import is_presence_channel, joined, left, presence_messages
from .ratelimit import connection_limit, count_token_issue
from .replay import DEFAULT_HISTORY_LIMIT, MAX_RESUME_CHANNELS, answer_history, answer_resume
from .sessions import close_session, end_session, load_session, move_session
from .subscriptions import (
    NOT_MEMBER,
    ChannelRefusal,
    is_member,
    refused_message,
    subscribe,
    unsubscribe,
)
from .tokens import issue_token

logger = logging.getLogger(__name__)

# At most one exception mail per (view class, exception type) per interval, per process.
_exception_mails: dict[tuple[type, type], float] = {}
_exception_mails_lock = threading.Lock()
_EXCEPTION_MAILS_MAX_KEYS = 256

# Handler whitelists, built once per view class.
_whitelists: dict[type, frozenset[str]] = {}


#: The channel messages (docs/channels.rst): handlers of every view, off until a view
#: lists them (``ADDITIONAL_ALLOWED_HANDLERS = [*CHANNEL_HANDLERS]``).
CHANNEL_HANDLERS = ("subscribe", "unsubscribe", "presence", "resume", "history")


class _SessionSlot:
    """``WebSocketView.websocket_session``: the session dispatch found, or, in a view a
    unit test set up with ``setup()`` and then calls directly, the connection's open
    session, loaded on first read."""

    def __get__(self, view: Any, owner: type | None = None) -> Any:
        if view is None:
            return None
        state = view.__dict__
        if "_websocket_session" not in state:
            loader = state.pop("_load_websocket_session", None)
            state["_websocket_session"] = loader() if loader else None
        return state["_websocket_session"]

    def __set__(self, view: Any, value: Any) -> None:
        view.__dict__.pop("_load_websocket_session", None)
        view.__dict__["_websocket_session"] = value


def _exception_mail_is_due(view_class: type, exc_type: type, interval: int) -> bool:
    if interval <= 0:
        return True
    now = time.monotonic()
    key = (view_class, exc_type)
    with _exception_mails_lock:
        last = _exception_mails.get(key)
        if last is not None and now - last < interval:
            return False
        if len(_exception_mails) >= _EXCEPTION_MAILS_MAX_KEYS:
            _exception_mails.clear()
        _exception_mails[key] = now
        return True


def _mail_admins_quietly(subject: str, message: str) -> None:
    """Mail the admins; a mail failure must not hide the handler's own exception.

    (``fail_silently`` is deprecated from Django 6.1.)
    """
    try:
        mail_admins(subject, message)
    except Exception:
        logger.warning("Could not mail the admins about a WebSocket exception", exc_info=True)


def _hide_token(request: HttpRequest) -> None:
    """Take the token out of the request once the event holds it: error mails and
    reports show the query string and ``request.GET``."""
    redacted = redact_tokens(request.META.get("QUERY_STRING", ""))
    request.META["QUERY_STRING"] = redacted
    request.GET = QueryDict(redacted)


@method_decorator(csrf_exempt, name="dispatch")
class WebSocketView(View):
    """API Gateway's HTTP integration endpoint: ``path("ws/<slug:route>", V.as_view())``.

    ``connect`` and ``disconnect`` keep the session table; every other route is a
    message, dispatched to the handler method the body names.
    """

    http_method_names = ["post"]
    debug = False
    debug_log: list[str] | None = None
    SEND_EXCEPTION_MAIL = True
    EXCEPTION_MAIL_INTERVAL = 60
    MAX_BODY_SIZE = MAX_MESSAGE_SIZE
    MAX_CHANNEL_NAME_LENGTH = 128
    CHANNEL_NAME_PATTERN: re.Pattern[str] | str = re.compile(r"^[a-zA-Z0-9_-]+$")
    ALLOW_UNLISTED_CHANNELS = True
    #: Object-level channel rules: ``{pattern: rule}``; a channel the pattern matches as
    #: a whole may be joined when ``rule(request, match)`` is true (and its
    #: ``ChannelPermission`` row, if any, admits), e.g. ``{r"order-(?P<id>\d+)":
    #: own_order}``. See :meth:`can_join_channel`.
    CHANNEL_RULES: dict[str | re.Pattern[str], ChannelRule] = {}
    CHECK_PERMISSIONS_ON_CONNECT = False
    ALLOWED_HANDLERS: set[str] | frozenset[str] = set()
    ADDITIONAL_ALLOWED_HANDLERS: list[str] = []
    #: Route slugs besides ``default`` that this view accepts as messages, in addition
    #: to the additional routes recorded for the gateway.
    ADDITIONAL_ALLOWED_ROUTES: list[str] = []
    BASE_HANDLERS = frozenset({"default", "change_channel"})
    USE_WS_TOKEN = True
    RATE_LIMIT_ENABLED = True
    RATE_LIMIT_MAX_ATTEMPTS = 0
    RATE_LIMIT_WINDOW_MINUTES = 0
    route_selection_key = "action"
    handler_selection_key = "handler"
    model = None
    body: dict[str, Any] = {}
    aws_api_gateway_id: str | None = None
    # The gateway row and the connection's session once dispatch found them; ``None``
    # when there is none, ``False`` on an instance before dispatch (as in the original).
    api_gateway: Any = None
    websocket_session = _SessionSlot()
    #: The validated request, set by ``setup()``.
    event: Event
    required_headers = [
        "Host",
        "X-Forwarded-For",
        "X-Forwarded-Proto",
        "Content-Length",
        "Connectionid",
        "User-Agent",
        "X-Amzn-Apigateway-Api-Id",
    ]
    # API Gateway sends neither X-Real-Ip nor X-Forwarded-Port; add them back here
    # when a proxy of yours does and you want them enforced.
    additional_required_headers: list[str] = []
    # Only what every WebSocket handshake carries: Cookie is needed for tokens alone,
    # Origin is checked when present, and many clients send no extensions.
    required_connection_headers = ["Sec-Websocket-Key", "Sec-Websocket-Version"]
    expected_useragent_prefix = "AmazonAPIGateway_"
    CHECK_CONNECT_USERAGENT = False
    permissions_required: list[str] = []
    all_permissions_required: list[str] = []

    def __init__(self, **kwargs: Any) -> None:
        self.api_gateway = kwargs.get("api_gateway", False)
        self.websocket_session = kwargs.get("websocket_session", False)
        self.debug = kwargs.get("debug", self.debug)
        self.debug_log = []
        if not self.RATE_LIMIT_MAX_ATTEMPTS:
            self.RATE_LIMIT_MAX_ATTEMPTS = get_setting("rate_limit_max_attempts")
        if not self.RATE_LIMIT_WINDOW_MINUTES:
            self.RATE_LIMIT_WINDOW_MINUTES = get_setting("rate_limit_window_minutes")
        # The resolved whitelist, on the instance as in 4.1.0.
        self.ALLOWED_HANDLERS = self._handler_whitelist()
        super().__init__(**kwargs)

    # -- the request path ----------------------------------------------------------

    def setup(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        """Django's setup, then the request validated into ``self.event``, ``self.body``
        and ``self.api_gateway``, so that a view set up by a unit test
        (``view.setup(request, route="default")``) hands its handlers and hooks what
        dispatch would; its ``websocket_session`` is loaded when first read."""
        super().setup(request, *args, **kwargs)
        if request.method != "POST":  # API Gateway only POSTs; dispatch answers the rest
            return
        route = str(kwargs.get("route", DEFAULT))
        self._refusal = self._read_request(request, route)
        if self._refusal is None and route not in LIFECYCLE_ROUTES and not self.websocket_session:
            connection_id, gateway = self.event.connection_id, self.api_gateway or None
            self.__dict__.pop("_websocket_session", None)
            self.__dict__["_load_websocket_session"] = lambda: load_session(connection_id, gateway)

    def _read_request(
        self, request: HttpRequest, route: str, direct: bool = False
    ) -> HttpResponse | None:
        """Validate the request into ``self.event``; the refusal, or ``None``.

        ``direct`` reads it for a hook called on a view that went through neither
        ``setup()`` nor ``dispatch``: as in 4.1.0, whose dispatch checked the gateway
        secret, the common headers and the gateway, only the hook's own checks run and
        the view keeps the ``api_gateway`` it was given.
        """
        if not direct and not self._gateway_secret_ok(request):
            logger.warning("Refused a call without the gateway secret")
            return self.invalid_gateway_secret(request)
        try:
            body = b"" if route in LIFECYCLE_ROUTES else request.body
        except RequestDataTooBig:
            return HttpResponse("Message too large", status=413, content_type="text/plain")
        rules = self._event_rules()
        if direct:
            forwarded = "HTTP_X_FORWARDED_FOR" in request.META
            rules = replace(
                rules,
                required_headers=(),
                trusted_proxy_count=rules.trusted_proxy_count if forwarded else 0,
            )
        try:
            self.event = read_event(
                route,
                MetaHeaders(request.META),
                request.GET,
                body,
                request.META.get("REMOTE_ADDR", ""),
                rules,
            )
        except EventError as error:
            if error.kind == "headers":
                return self.missing_headers(request)
            return HttpResponse(error.message, status=error.status, content_type="text/plain")
        self.body = self.event.body
        if self.event.ws_token:
            _hide_token(request)
        if not direct and not self._find_gateway(self.event.api_id):
            return self.missing_headers(request)
        return None

    def _read_request_once(self, request: HttpRequest, route: str) -> HttpResponse | None:
        """The request read for a hook called directly (``WebSocketView().connect(
        request)``, as 4.1.0's tests do); nothing when ``setup()`` or ``dispatch`` read
        it already."""
        if "event" in self.__dict__:
            return None
        return self._read_request(request, route, direct=True)

    @metrics.observe_event
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # API Gateway only POSTs: anything else is refused before any other work.
        if request.method != "POST":
            return self.http_method_not_allowed(request, *args, **kwargs)
        route = str(kwargs.get("route", DEFAULT))
        # ``setup()`` read the request; a caller that skipped it gets it read here.
        refusal = (
            self.__dict__.pop("_refusal")
            if "_refusal" in self.__dict__
            else self._read_request(request, route)
        )
        if refusal is not None:
            return refusal
        if route == CONNECT:
            if self.CHECK_CONNECT_USERAGENT and (
                self.event.user_agent != self.expected_useragent_prefix + self._api_id()
            ):
                return self.invalid_useragent(request)
            return self.connect(request, *args, **kwargs) or JsonResponse({})
        if route == DISCONNECT:
            return self.disconnect(request, *args, **kwargs) or JsonResponse({})
        if route not in self._message_routes():
            return HttpResponse("Unknown route", status=404, content_type="text/plain")
        return self._message(request, *args, **kwargs)

    def _allowed_methods(self) -> list[str]:
        return ["POST"]  # every route is POSTed to dispatch, which has no post()

    def _message(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if (
            self.handler_selection_key not in self.body
            and self.route_selection_key not in self.body
        ):
            return self.handler_selection_key_missing(request)
        handler = self._select_handler()
        if handler is None:
            return HttpResponseBadRequest("Unknown handler")
        self.websocket_session = load_session(
            self.event.connection_id,
            self.api_gateway or None,
            count=get_boolean_setting("count_messages"),
        )
        if self.websocket_session is None or not self._add_user_to_request(request):
            return self.session_not_found(request)
        if not self._passes_permission_checks(request):
            return self.permission_denied(request)
        try:
            response = handler(request, *args, **kwargs)
        except Exception as exc:
            logger.exception("Unexpected exception in %s.%s", type(self).__name__, handler.__name__)
            if self.SEND_EXCEPTION_MAIL and _exception_mail_is_due(
                type(self), type(exc), self.EXCEPTION_MAIL_INTERVAL
            ):
                _mail_admins_quietly("Unexpected Websocket Exception", str(exc))
            raise
        return response or JsonResponse({})

    # -- lifecycle routes ----------------------------------------------------------

    def connect(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        """Admit the connection: checks without the database here, then the admission
        service (:func:`.admission.admit`): at most four statements."""
        refusal = self._read_request_once(request, CONNECT)
        if refusal is not None:
            return refusal
        event = self.event
        missing = missing_names(request.headers, self.required_connection_headers)
        if missing:
            return HttpResponseBadRequest(f"Missing {len(missing)} headers")
        if not self._host_allowed(request):
            return HttpResponseBadRequest("Host is not in AllowedHosts")
        if not origin_allowed(event.origin, request.headers.get("Host", ""), get_allowed_origins()):
            return HttpResponseBadRequest("Host is not in Origin")
        channel = event.channel or self._default_channel()
        if channel is None:
            return HttpResponseBadRequest("Invalid channel")
        django_session = getattr(request, "session", None)
        caller = Caller(
            session_key=getattr(django_session, "session_key", None) or "",
            session=django_session,
            user=None if self.USE_WS_TOKEN else getattr(request, "user", None),
        )
        decision = admit(
            event,
            channel,
            self.api_gateway or None,
            self._admission_policy(),
            caller,
            lambda user: self._connection_checks(request, channel, user),
        )
        if isinstance(decision, Refusal):
            return self._refusal_response(request, decision)
        self.websocket_session = decision
        joined(decision, channel, lambda: self.presence_data(request))
        self._debug(f"Connected {event.connection_id} to channel {channel!r}")
        return JsonResponse({})

    def _admission_policy(self) -> Policy:
        return Policy(
            use_token=self.USE_WS_TOKEN,
            token_max_age=get_setting("token_expiry_seconds"),
            limit=self.RATE_LIMIT_MAX_ATTEMPTS if self.RATE_LIMIT_ENABLED else None,
            window_minutes=self.RATE_LIMIT_WINDOW_MINUTES,
            ipv6_prefix=get_setting("rate_limit_ipv6_prefix"),
        )

    def _connection_checks(self, request: HttpRequest, channel: str, user: Any) -> Refusal | None:
        """The view's own checks on ``$connect``, with ``request.user`` set to ``user``."""
        request.user = user if user is not None else AnonymousUser()
        if (
            self.CHECK_PERMISSIONS_ON_CONNECT and not self._passes_permission_checks(request)
        ) or not self.can_join_channel(request, channel):
            return Refusal(403, "Permission Denied", FORBIDDEN_CHANNEL)
        ok, message = self._additional_connection_checks(request)
        if not ok:
            return Refusal(400, message, REFUSED)
        return None

    def _refusal_response(self, request: HttpRequest, refusal: Refusal) -> HttpResponse:
        if refusal.reason == FORBIDDEN_CHANNEL:
            return self.permission_denied(request)
        return HttpResponse(refusal.message, status=refusal.status, content_type="text/plain")

    def disconnect(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse | None:
        """Mark the session disconnected (one statement); ``self.websocket_session``
        then holds the closed row. ``None`` on success, as in 4.1.0 (dispatch answers
        ``{}``)."""
        refusal = self._read_request_once(request, DISCONNECT)
        if refusal is not None:
            return refusal
        session = close_session(self.event.connection_id, self.api_gateway or None)
        if session is None:
            return self.session_not_found(request)
        self.websocket_session = session
        return None

    # -- message handlers ----------------------------------------------------------

    def default(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse | None:
        raise NotImplementedError("This logic needs to be defined within the subclass")

    def change_channel(
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> HttpResponse | None:
        """Move this connection to ``body["channel"]`` (a handler a subclass may expose)."""
        channel = self.body.get("channel")
        if not isinstance(channel, str) or not self._valid_channel(channel):
            return HttpResponseBadRequest("Invalid channel")
        if not self.can_join_channel(request, channel):
            return self.permission_denied(request)
        session = self.websocket_session
        previous = session.channel_name
        move_session(session, channel, presence=is_presence_channel(channel))
        if previous != channel:
            left(session, previous)
            joined(session, channel, lambda: self.presence_data(request))
        return None

    def subscribe(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse | None:
        """Add ``body["channel"]`` to this connection's channels (docs/channels.rst);
        answers ``subscribed`` or ``refused``."""
        channel = self._requested_channel("subscribe")
        if not isinstance(channel, str):
            return channel
        refusal = subscribe(
            self.websocket_session,
            channel,
            valid=self._valid_channel(channel),
            allowed=lambda: self.can_join_channel(request, channel),
            presence_data=lambda: self.presence_data(request),
        )
        self._answer("subscribe", channel, refusal, {"type": "subscribed"})
        return None

    def unsubscribe(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse | None:
        """Take ``body["channel"]`` out of this connection's channels; answers
        ``unsubscribed`` or ``refused``."""
        channel = self._requested_channel("unsubscribe")
        if not isinstance(channel, str):
            return channel
        refusal = unsubscribe(self.websocket_session, channel)
        self._answer("unsubscribe", channel, refusal, {"type": "unsubscribed"})
        return None

    def presence(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse | None:
        """Answer the members of ``body["channel"]``, a presence channel this connection
        is in: ``{"type": "presence", "channel": ..., "members": [...]}``."""
        channel = self._requested_channel("presence")
        if not isinstance(channel, str):
            return channel
        if not self._valid_channel(channel) or not is_presence_channel(channel):
            refusal = ChannelRefusal(INVALID_CHANNEL, "This channel keeps no presence")
            self._answer("presence", channel, refusal, {})
        elif not is_member(self.websocket_session, channel):
            refusal = ChannelRefusal(NOT_MEMBER, "This connection is not in the channel")
            self._answer("presence", channel, refusal, {})
        else:
            for message in presence_messages(channel):
                self._answer("presence", channel, None, message)
        return None

    def resume(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse | None:
        """Send what this connection missed: ``{"channels": {"room-1": 41}}`` gives,
        per channel, the messages after the sequence number seen last, or a ``reset``
        (docs/channels.rst). A channel handler: see ``CHANNEL_HANDLERS``."""
        channels = self.body.get("channels")
        if not (
            isinstance(channels, dict)
            and 0 < len(channels) <= MAX_RESUME_CHANNELS
            and all(_is_seq(seq) for seq in channels.values())
        ):
            return HttpResponseBadRequest("Invalid channels")
        answer_resume(self.websocket_session, channels, self._valid_channel)
        return None

    def history(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse | None:
        """Send the last messages of a channel: ``{"channel": "room-1", "limit": 50}``
        (docs/channels.rst). A channel handler: see ``CHANNEL_HANDLERS``."""
        channel = self.body.get("channel")
        limit = self.body.get("limit", DEFAULT_HISTORY_LIMIT)
        if not isinstance(channel, str) or not (_is_seq(limit) and limit > 0):
            return HttpResponseBadRequest("Invalid history request")
        answer_history(self.websocket_session, channel, limit, self._valid_channel)
        return None

    # -- hooks ---------------------------------------------------------------------

    def can_join_channel(self, request: HttpRequest, channel_name: str) -> bool:
        """Whether the request's user may be in the channel: on ``$connect``, for a
        token, on ``change_channel`` and ``subscribe``. The channel's
        ``ChannelPermission`` row and the object-level rule of ``CHANNEL_RULES`` that
        matches it must both admit; a channel with neither follows
        ``ALLOW_UNLISTED_CHANNELS``."""
        row = self.get_channel_permission(channel_name)
        found = rule_for(self.CHANNEL_RULES, channel_name)
        if row is None and found is None:
            return self.ALLOW_UNLISTED_CHANNELS
        if row is not None and not row.allows(getattr(request, "user", None)):
            return False
        return found is None or bool(found[0](request, found[1]))

    def get_channel_permission(self, channel_name: str) -> ChannelPermission | None:
        return channel_permission_for(channel_name)

    def presence_data(self, request: HttpRequest) -> dict[str, Any]:
        """The public payload other members see for ``request.user`` in a presence
        channel (for instance ``{"name": user.get_short_name()}``); at most
        ``WEBSOCKETS["presence_payload_max_bytes"]`` bytes of JSON."""
        return {}

    def has_any_permission(self, request: HttpRequest) -> bool:
        if not self.permissions_required:
            return True
        user = request.user
        return any(user.has_perms([perm]) for perm in self.permissions_required)

    def has_all_permission(self, request: HttpRequest) -> bool:
        if not self.all_permissions_required:
            return True
        user = request.user
        return all(user.has_perms([perm]) for perm in self.all_permissions_required)

    def _passes_permission_checks(self, request: HttpRequest) -> bool:
        if self.all_permissions_required:
            return self.has_all_permission(request)
        return self.has_any_permission(request)

    def _additional_connection_checks(
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> tuple[bool, str]:
        """Override to refuse a connection: return ``(False, "reason")``."""
        return True, ""

    def _get_client_ip(self, request: HttpRequest) -> str:
        """The client's address (see ``trusted_proxy_count``), for hooks of subclasses."""
        return self.event.client_ip

    def _add_user_to_request(self, request: HttpRequest) -> bool:
        """Put the session's user on the request; False (and the session closed) when
        that user's login has ended (deactivated, or password changed)."""
        session = self.websocket_session
        user = session.user
        if user is not None and (
            not user.is_active or not user_auth_matches(user, session.auth_hash)
        ):
            end_session(session)
            return False
        request.user = user if user is not None else AnonymousUser()
        return True

    # -- failure responses ---------------------------------------------------------

    def missing_headers(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if self.debug:  # header names only: values may hold cookies
            expected = [*self.required_headers, *self.additional_required_headers]
            self._debug(f"Expected headers {expected}; Received {sorted(request.headers)}")
        return HttpResponseBadRequest("Invalid request headers")

    def invalid_useragent(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return HttpResponseBadRequest("Unexpected Useragent")

    def invalid_gateway_secret(
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> HttpResponse:
        return HttpResponseForbidden("Invalid request")

    def permission_denied(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return HttpResponseForbidden("Permission Denied")

    def session_not_found(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return HttpResponseBadRequest("Invalid connection ID")

    def handler_selection_key_missing(
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> HttpResponse:
        return HttpResponseBadRequest("Invalid request format (1)")

    def route_selection_key_missing(
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> HttpResponse:
        """Deprecated and never called; kept, with 4.1.0's warning and answer, for
        subclasses that call it."""
        warnings.warn(
            "Deprecated: Use handler_selection_key_missing instead. Will be removed in version 3",
            DeprecationWarning,
            stacklevel=2,
        )
        return HttpResponseBadRequest(
            f"route_select_key {self.route_selection_key} missing from request body."
        )

    # -- helpers -------------------------------------------------------------------

    def _debug(self, message: str) -> None:
        if self.debug and self.debug_log is not None:
            self.debug_log.append(escape(str(message))[:500])

    def _event_rules(self) -> EventRules:
        return EventRules(
            required_headers=(*self.required_headers, *self.additional_required_headers),
            max_body_size=self.MAX_BODY_SIZE,
            channel_pattern=self._channel_pattern(),
            max_channel_length=self.MAX_CHANNEL_NAME_LENGTH,
            trusted_proxy_count=get_setting("trusted_proxy_count"),
        )

    def _valid_channel(self, channel: str) -> bool:
        """Whether ``channel`` is a channel name by this view's rules."""
        return is_valid_channel_name(channel, self._channel_pattern(), self.MAX_CHANNEL_NAME_LENGTH)

    def _requested_channel(self, request_name: str) -> str | HttpResponse:
        """``body["channel"]``, or, when it is not a string, the 400 answer (the
        connection is sent the ``refused`` message too)."""
        channel = self.body.get("channel")
        if isinstance(channel, str):
            return channel
        refusal = ChannelRefusal(INVALID_CHANNEL, "Give the channel's name as a string")
        self._send_answer(refused_message(request_name, None, refusal))
        return HttpResponseBadRequest("Invalid channel")

    def _send_answer(self, message: dict[str, Any]) -> None:
        """Answer the connection; a session without a gateway cannot be answered."""
        session = self.websocket_session
        if session.api_gateway_id is None:
            logger.warning("Cannot answer a channel request of a session without a gateway")
            return
        session.send_message(message)

    def _answer(
        self,
        request_name: str,
        channel: str,
        refusal: ChannelRefusal | None,
        answer: dict[str, Any],
    ) -> None:
        """Send the connection ``answer`` with the channel, or the refusal."""
        if refusal is not None:
            shown = channel if len(channel) <= self.MAX_CHANNEL_NAME_LENGTH else None
            message = refused_message(request_name, shown, refusal)
        else:
            message = {**answer, "channel": channel}
        self._send_answer(message)

    def _channel_pattern(self) -> re.Pattern[str]:
        pattern = self.CHANNEL_NAME_PATTERN
        return re.compile(pattern) if isinstance(pattern, str) else pattern

    def _gateway_secret_ok(self, request: HttpRequest) -> bool:
        secrets = get_gateway_secrets()
        if not secrets:
            return True
        sent = MetaHeaders(request.META).get(GATEWAY_SECRET_HEADER, "").encode()
        # Compare with every secret, so timing does not tell which one nearly matched.
        results = [hmac.compare_digest(sent, secret.encode()) for secret in secrets]
        return any(results)

    def _find_gateway(self, api_id: str) -> bool:
        """Set ``self.api_gateway``; False when the API id is not accepted."""
        if self.aws_api_gateway_id and api_id != self.aws_api_gateway_id:
            return False
        known = known_gateway(api_id)
        if known is None and not self.aws_api_gateway_id:
            return False
        self.api_gateway = known.gateway if known else None
        self._gateway_route_slugs = known.route_slugs if known else frozenset()
        return True

    def _api_id(self) -> str:
        if self.aws_api_gateway_id:
            return self.aws_api_gateway_id
        if self.api_gateway:
            return self.api_gateway.api_id
        return self.event.api_id

    def _message_routes(self) -> frozenset[str]:
        return frozenset({DEFAULT, *self.ADDITIONAL_ALLOWED_ROUTES, *self._gateway_route_slugs})

    def _host_allowed(self, request: HttpRequest) -> bool:
        if not settings.ALLOWED_HOSTS:
            return True
        try:
            request.get_host()
        except DisallowedHost:
            return False
        return True

    def _default_channel(self) -> str | None:
        """The gateway's default channel, ``""`` without one, ``None`` if invalid."""
        name = self.api_gateway.default_channel_name if self.api_gateway else ""
        if name and not self._valid_channel(name):
            logger.warning("The gateway's default channel %r is not a valid channel name", name)
            return None
        return name

    def _select_handler(self) -> Callable[..., Any] | None:
        """The handler the body names; ``None`` for an explicit unknown ``handler``.

        An explicit ``handler`` wins. ``action`` is also API Gateway's route key, so
        an ``action`` that names no handler falls back to ``default``.
        """
        requested = self.body.get(self.handler_selection_key)
        if requested:
            handler = self._allowed_handler(requested)
            if handler is None:
                logger.warning(
                    "%s refused unknown handler %r", type(self).__name__, str(requested)[:100]
                )
            return handler
        action = self.body.get(self.route_selection_key)
        return (self._allowed_handler(action) if action else None) or self.default

    def _allowed_handler(self, name: Any) -> Callable[..., Any] | None:
        if not isinstance(name, str) or name.startswith("_") or name not in self.ALLOWED_HANDLERS:
            return None
        handler = getattr(self, name, None)
        return handler if callable(handler) else None

    @classmethod
    def _handler_whitelist(cls) -> frozenset[str]:
        if cls.ALLOWED_HANDLERS:
            return frozenset(cls.ALLOWED_HANDLERS)
        whitelist = _whitelists.get(cls)
        if whitelist is None:
            whitelist = frozenset(
                {"default", *cls.ADDITIONAL_ALLOWED_HANDLERS, *cls._automatic_handlers()}
            )
            _whitelists[cls] = whitelist
        return whitelist

    @classmethod
    def _automatic_handlers(cls) -> set[str]:
        """Public plain functions defined by ``cls`` and its WebSocketView ancestors,
        minus the base class's own names (except :attr:`BASE_HANDLERS`, and the
        channel handlers, names a 4.1.0 view may define as its own handlers)."""
        reserved = {name for name in dir(WebSocketView) if not name.startswith("_")}
        reserved -= {*cls.BASE_HANDLERS, *CHANNEL_HANDLERS}
        names: set[str] = set()
        for klass in cls.__mro__:
            if klass is WebSocketView or not issubclass(klass, WebSocketView):
                continue
            for name, value in vars(klass).items():
                if not name.startswith("_") and name not in reserved and inspect.isfunction(value):
                    names.add(name)
        return names


class WebSocketTokenView(View):
    """``POST`` (logged in, with CSRF) -> ``{"token", "expires_in"}``.

    The token is single-use and bound to the caller's Django session; the database
    keeps only its hash. With a ``channel`` (form field, JSON body field or query
    parameter) it also answers whether the connect would be refused, and why, before it
    is tried: browsers hide the status of a refused WebSocket handshake. Every other
    answer is ``{"error": "<text>", "reason": "<code>"}``.
    """

    #: The WebSocket view the tokens are for: its channel rules and connection limits
    #: decide the answer for a ``channel``.
    websocket_view: type[WebSocketView] = WebSocketView

    @metrics.observe_token
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return token_refusal(403, "Authentication required", NOT_AUTHENTICATED)
        view = self.websocket_view()
        origin = request.headers.get("Origin")
        if not origin_allowed(origin, request.headers.get("Host", ""), get_allowed_origins()):
            return token_refusal(403, "This page's origin may not connect", BAD_ORIGIN)
        channel = _requested_channel(request)
        if channel is not None and not (isinstance(channel, str) and view._valid_channel(channel)):
            return token_refusal(400, "Invalid channel", INVALID_CHANNEL)
        watched = None
        if view.RATE_LIMIT_ENABLED:
            watched = connection_limit(
                user.pk, view.RATE_LIMIT_MAX_ATTEMPTS, view.RATE_LIMIT_WINDOW_MINUTES
            )
        counted = count_token_issue(user, get_setting("token_rate_limit_per_minute"), watched)
        if not counted.admitted or counted.watched_retry_after:
            return token_refusal(
                429,
                "Rate limit exceeded",
                RATE_LIMITED,
                retry_after=counted.retry_after or counted.watched_retry_after,
            )
        if channel is not None and not view.can_join_channel(request, channel):
            return token_refusal(403, "Permission Denied", FORBIDDEN_CHANNEL)
        if not request.session.session_key:
            request.session.create()
        token = issue_token(user, str(request.session.session_key))
        response = JsonResponse(
            {"token": token.token, "expires_in": get_setting("token_expiry_seconds")}
        )
        response["Cache-Control"] = "no-store"
        return response

    def http_method_not_allowed(
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> HttpResponse:
        response = token_refusal(405, "Only POST is allowed", METHOD_NOT_ALLOWED)
        response["Allow"] = "POST"
        return response


def token_refusal(status: int, error: str, reason: str, retry_after: int = 0) -> JsonResponse:
    """The token view's refusal: ``{"error", "reason"}`` (and ``retry_after``)."""
    body: dict[str, Any] = {"error": error, "reason": reason}
    if retry_after:
        body["retry_after"] = retry_after
    response = JsonResponse(body, status=status)
    response["Cache-Control"] = "no-store"
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


def _is_seq(value: Any) -> bool:
    """A whole number from 0 to the largest sequence number, as JSON gives it (not a
    boolean)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= LARGEST_SEQ


def _requested_channel(request: HttpRequest) -> Any:
    """The ``channel`` of a token request (form field, JSON body field or query
    parameter), not yet validated; ``None`` when none was given."""
    value: Any = request.POST.get("channel") or request.GET.get("channel")
    if value is None and request.content_type == "application/json":
        try:
            body = json.loads(request.body or b"{}")
        except (ValueError, RequestDataTooBig):
            body = None
        value = body.get("channel") if isinstance(body, dict) else None
    return None if value is None or value == "" else value
