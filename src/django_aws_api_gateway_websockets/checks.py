"""Django system checks over the settings and the routed WebSocket views.

The runtime readers in ``conf`` fall back to defaults on bad values so that a typo
never takes the site down; these checks are where such values are reported. Check ids
are ``django_aws_api_gateway_websockets.<ID>``; E001-E002 and W001-W005 keep the
original's meaning (see the system checks page of the documentation).
"""

from __future__ import annotations

import difflib
import re
import string
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register
from django.core.checks import Warning as CheckWarning
from django.urls import URLPattern, URLResolver, get_resolver

from . import conf

PREFIX = "django_aws_api_gateway_websockets"
#: The longest channel name a session row can hold.
CHANNEL_NAME_COLUMN_LENGTH = 128
#: What a ``management_endpoint_url`` may fill in.
ENDPOINT_PLACEHOLDERS = frozenset({"api_id", "region", "stage"})

_HOST_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
HOST_PATTERN = re.compile(rf"(\*\.)?{_HOST_LABEL}(\.{_HOST_LABEL})*")


def _id(code: str) -> str:
    return f"{PREFIX}.{code}"


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


def _config() -> dict[str, Any] | None:
    """The ``WEBSOCKETS`` dict, ``{}`` when unset, ``None`` when it is not a dict."""
    value = getattr(settings, "WEBSOCKETS", None)
    if value is None:
        return {}
    return value if isinstance(value, dict) else None


# Logging


#: The request loggers whose records carry the connect URL, token included.
REQUEST_LOGGERS = ("django.request", "django.server")
REDACTING_FILTER = "django_aws_api_gateway_websockets.logfilters.RedactTokens"


def _redacting_filters(logging_config: dict[str, Any]) -> set[str]:
    from .logfilters import RedactTokens

    filters = logging_config.get("filters")
    names = set()
    for name, spec in (filters if isinstance(filters, dict) else {}).items():
        factory = spec.get("()") if isinstance(spec, dict) else None
        if factory == REDACTING_FILTER or (
            isinstance(factory, type) and issubclass(factory, RedactTokens)
        ):
            names.add(name)
    return names


def _names(value: Any) -> set[str]:
    return {item for item in value if isinstance(item, str)} if isinstance(value, list) else set()


@register(Tags.security)
def check_request_log_redaction(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """W010: request logging configured in LOGGING without the token-redacting filter."""
    config = getattr(settings, "LOGGING", None)
    if not isinstance(config, dict) or not isinstance(config.get("loggers"), dict):
        return []
    redacting = _redacting_filters(config)
    found = config.get("handlers")
    handlers: dict[str, Any] = found if isinstance(found, dict) else {}
    messages: list[CheckMessage] = []
    for name in REQUEST_LOGGERS:
        logger = config["loggers"].get(name)
        if not isinstance(logger, dict) or _names(logger.get("filters")) & redacting:
            continue
        unfiltered = [
            handler
            for handler in _names(logger.get("handlers"))
            if not isinstance(handlers.get(handler), dict)
            or not _names(handlers[handler].get("filters")) & redacting
        ]
        # Handler filters do not apply where the record propagates to.
        if unfiltered or not logger.get("handlers") or logger.get("propagate", True):
            messages.append(
                CheckWarning(
                    f"LOGGING configures the '{name}' logger without {REDACTING_FILTER}: "
                    "its records carry connect URLs with their ws_token.",
                    hint=f"Add a filter {{'()': '{REDACTING_FILTER}'}} to the logger.",
                    id=_id("W010"),
                )
            )
    return messages


# Settings


@register(Tags.security)
def check_gateway_secret(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """E001: each configured secret must be usable in an API Gateway mapping."""
    config = _config()
    if not config or "gateway_secret" not in config:
        return []
    value = config["gateway_secret"]
    secrets = list(value) if isinstance(value, (list, tuple)) else [value]
    bad = [
        position
        for position, secret in enumerate(secrets, start=1)
        if not isinstance(secret, str) or not conf.GATEWAY_SECRET_PATTERN.fullmatch(secret)
    ]
    if not bad and secrets:
        return []
    # The message names positions only: a secret never appears in output or logs.
    where = ", ".join(str(position) for position in bad) or "1"
    return [
        Error(
            f"WEBSOCKETS['gateway_secret'] is not valid (entry {where}).",
            hint=(
                "Use a string, or a list of strings (the first is sent by API Gateway), of "
                "32 or more characters from A-Z a-z 0-9 . _ ~ + / = -, for example "
                "secrets.token_urlsafe(48)."
                + conf.newline_hint("".join(s for s in secrets if isinstance(s, str)))
            ),
            id=_id("E001"),
        )
    ]


@register(Tags.security, deploy=True)
def check_gateway_secret_set(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """W001: without a secret anyone who can reach the views can forge events."""
    if conf.get_gateway_secrets():
        return []
    return [
        CheckWarning(
            "WEBSOCKETS['gateway_secret'] is not set: anyone who can reach the WebSocket "
            "views and knows an API id can send events as any connection.",
            hint=(
                "Set a secret and run updateApiGatewayIntegrations so that API Gateway "
                "sends it with every event."
            ),
            id=_id("W001"),
        )
    ]


def _value_errors(config: dict[str, Any]) -> Iterator[str]:
    """One sentence per setting whose value the runtime would ignore."""
    for name in conf.DEFAULTS:
        if name not in config:
            continue
        value = config[name]
        if name == "trusted_proxy_count":
            if not (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
                yield f"WEBSOCKETS['{name}'] must be an integer of 0 or more, not {_shown(value)}."
        elif not conf.is_positive_int(value):
            yield f"WEBSOCKETS['{name}'] must be an integer of 1 or more, not {_shown(value)}."
        elif value > conf.INT_MAXIMA.get(name, value):
            yield (
                f"WEBSOCKETS['{name}'] must be at most {conf.INT_MAXIMA[name]}, "
                f"not {_shown(value)}."
            )
    for name in conf.BOOLEAN_DEFAULTS:
        if name in config and not isinstance(config[name], bool):
            yield f"WEBSOCKETS['{name}'] must be True or False, not {_shown(config[name])}."
    for name in conf.FLOAT_DEFAULTS:
        if name not in config:
            continue
        value = config[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            yield f"WEBSOCKETS['{name}'] must be a number above 0, not {_shown(value)}."
    if "websocket_url" in config:
        value = config["websocket_url"]
        parts = urlsplit(value) if isinstance(value, str) else None
        if parts is None or parts.scheme not in ("ws", "wss") or not parts.netloc:
            yield (
                f"WEBSOCKETS['websocket_url'] must be a ws:// or wss:// URL, not {_shown(value)}."
            )
    if "send_rate_redis_url" in config and conf.get_send_rate_redis_url() is None:
        value = config["send_rate_redis_url"]
        yield f"WEBSOCKETS['send_rate_redis_url'] must be a redis:// URL, not {_shown(value)}."
    if config.get("presence_channels") not in (None, "") and conf.get_presence_pattern() is None:
        value = config["presence_channels"]
        yield (
            "WEBSOCKETS['presence_channels'] must be a regular expression of channel "
            f"names, not {_shown(value)}."
        )
    if "history_channels" in config:
        value = config["history_channels"]
        patterns = list(value) if isinstance(value, (list, tuple)) else [value]
        valid = set(conf.get_pattern_list("history_channels"))
        bad = [p for p in patterns if not isinstance(p, str) or p not in valid]
        if bad:
            yield (
                "WEBSOCKETS['history_channels'] must be a regular expression or a list of "
                f"them; not valid: {_shown(bad)}."
            )
    if "allowed_integration_hosts" in config:
        value = config["allowed_integration_hosts"]
        hosts = list(value) if isinstance(value, (list, tuple)) else [value]
        bad = [h for h in hosts if not isinstance(h, str) or not HOST_PATTERN.fullmatch(h.lower())]
        if bad or not hosts:
            yield (
                "WEBSOCKETS['allowed_integration_hosts'] must be a host name or a list of "
                f"host names ('*.example.com' for sub-domains); not valid: {_shown(bad or value)}."
            )


@register(Tags.compatibility)
def check_settings_values(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """E002: values of the wrong type or range, which the runtime replaces by defaults."""
    config = _config()
    if config is None:
        return [
            Error(
                f"WEBSOCKETS must be a dict, not {type(settings.WEBSOCKETS).__name__}.",
                hint="Every WebSockets setting is ignored until it is a dict.",
                id=_id("E002"),
            )
        ]
    return [
        Error(message, hint="The default is used instead.", id=_id("E002"))
        for message in _value_errors(config)
    ]


@register(Tags.compatibility)
def check_unknown_keys(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """W002: an unknown key is usually a typo of a known one."""
    messages: list[CheckMessage] = []
    for key in sorted(_config() or {}, key=str):
        if key in conf.KNOWN_KEYS:
            continue
        close = difflib.get_close_matches(str(key), sorted(conf.KNOWN_KEYS), n=1)
        hint = (
            f"Did you mean '{close[0]}'?"
            if close
            else "Known keys: " + ", ".join(sorted(conf.KNOWN_KEYS))
        )
        messages.append(
            CheckWarning(f"Unknown WEBSOCKETS key {key!r} is ignored.", hint=hint, id=_id("W002"))
        )
    return messages


@register(Tags.compatibility, deploy=True)
def check_region(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """W003: sending and provisioning need a region."""
    try:
        conf.get_region_name()
    except RuntimeError:
        return [
            CheckWarning(
                "Neither AWS_GATEWAY_REGION_NAME nor AWS_REGION_NAME is set: messages "
                "cannot be sent to API Gateway and no API can be created.",
                hint="Set AWS_GATEWAY_REGION_NAME to the region of your API, e.g. 'eu-west-1'.",
                id=_id("W003"),
            )
        ]
    return []


def origin_problem(origin: Any) -> str | None:
    """Why ``origin`` is not ``*`` or ``scheme://host[:port]``; ``None`` when it is."""
    if not isinstance(origin, str):
        return f"{_shown(origin)} is not a string"
    if origin == "*":
        return None
    try:
        parts = urlsplit(origin.strip())
        parts.port  # noqa: B018 (raises ValueError on a bad port)
    except ValueError:
        return f"{origin!r} has an invalid port"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{origin!r} is not scheme://host[:port] with http or https"
    if parts.path.strip("/") or parts.query or parts.fragment or parts.username:
        return f"{origin!r} has more than scheme, host and port"
    return None


@register(Tags.security)
def check_allowed_origins(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """E003: an origin that can never equal a browser's ``Origin`` header."""
    config = _config() or {}
    if "allowed_origins" not in config:
        return []
    value = config["allowed_origins"]
    origins = list(value) if isinstance(value, (list, tuple)) else [value]
    problems = [p for p in map(origin_problem, origins) if p]
    return [
        Error(
            f"WEBSOCKETS['allowed_origins']: {problem}.",
            hint="List origins as a browser sends them, e.g. 'https://app.example.com', or '*'.",
            id=_id("E003"),
        )
        for problem in problems
    ]


@register(Tags.security, deploy=True)
def check_any_origin(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """W006: any web page may then open connections with a visitor's cookies."""
    if "*" not in (conf.get_allowed_origins() or []):
        return []
    return [
        CheckWarning(
            "WEBSOCKETS['allowed_origins'] allows every origin: any web site can open a "
            "connection on behalf of a logged-in visitor.",
            hint="List the origins of your own pages instead of '*'.",
            id=_id("W006"),
        )
    ]


def endpoint_problem(url: Any) -> str | None:
    """Why ``url`` is no usable Management API endpoint; ``None`` when it is."""
    if not isinstance(url, str) or not url:
        return f"{_shown(url)} is not a URL"
    try:
        fields = {field for _text, field, _spec, _conv in string.Formatter().parse(url) if field}
    except ValueError:
        return f"{url!r} has unbalanced braces"
    unknown = fields - ENDPOINT_PLACEHOLDERS
    if unknown:
        return f"{url!r} uses unknown placeholders {sorted(unknown)}"
    parts = urlsplit(url.format(api_id="a", region="r", stage="s"))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"{url!r} is not an http or https URL"
    return None


@register(Tags.compatibility)
def check_management_endpoint(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """E004: a bad endpoint would make every send fail."""
    config = _config() or {}
    if "management_endpoint_url" not in config:
        return []
    problem = endpoint_problem(config["management_endpoint_url"])
    if problem is None:
        return []
    return [
        Error(
            f"WEBSOCKETS['management_endpoint_url']: {problem}.",
            hint=(
                "Use an http(s) URL that may contain {api_id}, {region} and {stage}, e.g. "
                "'http://127.0.0.1:8001/{stage}' for the local gateway; remove it to send "
                "to AWS."
            ),
            id=_id("E004"),
        )
    ]


@register(Tags.compatibility, deploy=True)
def check_management_endpoint_deploy(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """W007: a plain-HTTP endpoint is the local gateway, not AWS."""
    url = (_config() or {}).get("management_endpoint_url")
    if not isinstance(url, str) or not url.startswith("http://"):
        return []
    return [
        CheckWarning(
            f"WEBSOCKETS['management_endpoint_url'] is {url!r}: messages go to a local "
            "gateway over plain HTTP, not to API Gateway.",
            hint="Remove management_endpoint_url in production.",
            id=_id("W007"),
        )
    ]


@register(Tags.security, deploy=True)
def check_websocket_url_deploy(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """W009: browsers refuse ws:// from an https page, and it is unencrypted."""
    url = conf.get_websocket_url()
    if url is None or not url.startswith("ws://"):
        return []
    return [
        CheckWarning(
            f"WEBSOCKETS['websocket_url'] is {url!r}: an unencrypted address, which "
            "browsers refuse to open from https pages.",
            hint="Use the wss:// address of your API or its custom domain.",
            id=_id("W009"),
        )
    ]


# Routed views


def routed_views(patterns: list[Any] | None = None) -> Iterator[tuple[type, URLPattern]]:
    """Each ``WebSocketView`` subclass that the root URLconf routes, with its pattern."""
    from .views import WebSocketView  # the views are imported only when checks run

    if patterns is None:
        if not getattr(settings, "ROOT_URLCONF", None):
            return  # a project without URLs (a worker, say) routes no view
        patterns = get_resolver().url_patterns
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from routed_views(entry.url_patterns)
        elif isinstance(entry, URLPattern):
            view_class = getattr(entry.callback, "view_class", None)
            if isinstance(view_class, type) and issubclass(view_class, WebSocketView):
                yield view_class, entry


def _unique_views() -> list[tuple[type, URLPattern]]:
    seen: dict[type, URLPattern] = {}
    for view_class, pattern in routed_views():
        seen.setdefault(view_class, pattern)
    return list(seen.items())


def _label(view_class: type) -> str:
    return f"{view_class.__module__}.{view_class.__qualname__}"


@register(Tags.security, deploy=True)
def check_unlisted_channels(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """W004: a channel without a ChannelPermission row is open to every client."""
    return [
        CheckWarning(
            f"{_label(view)} lets clients join any channel that has no ChannelPermission.",
            hint="Set ALLOW_UNLISTED_CHANNELS = False on the view and list channels in the admin.",
            obj=view,
            id=_id("W004"),
        )
        for view, _pattern in _unique_views()
        if getattr(view, "ALLOW_UNLISTED_CHANNELS", False)
    ]


def exposed_handlers(view_class: Any) -> set[str]:
    """Handlers clients can call on a view whose ``ALLOWED_HANDLERS`` is empty."""
    return set(view_class._automatic_handlers()) - set(view_class.BASE_HANDLERS)


@register(Tags.security, deploy=True)
def check_automatic_handlers(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """W005: every public method of such a view is callable by any client."""
    messages: list[CheckMessage] = []
    for view, _pattern in _unique_views():
        if getattr(view, "ALLOWED_HANDLERS", None):
            continue
        exposed = sorted(exposed_handlers(view))
        if exposed:
            messages.append(
                CheckWarning(
                    f"{_label(view)} lets clients call {', '.join(exposed)}: every public "
                    "method is a handler while ALLOWED_HANDLERS is empty.",
                    hint="List the handlers clients may call in ALLOWED_HANDLERS.",
                    obj=view,
                    id=_id("W005"),
                )
            )
    return messages


@register(Tags.urls)
def check_view_routes(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """E005 and W008: view settings and URL patterns that cannot work."""
    messages: list[CheckMessage] = []
    for view, _pattern in _unique_views():
        length = getattr(view, "MAX_CHANNEL_NAME_LENGTH", 0)
        if isinstance(length, int) and length > CHANNEL_NAME_COLUMN_LENGTH:
            messages.append(
                Error(
                    f"{_label(view)}.MAX_CHANNEL_NAME_LENGTH is {length}, but a session "
                    f"holds at most {CHANNEL_NAME_COLUMN_LENGTH} characters.",
                    hint=f"Use {CHANNEL_NAME_COLUMN_LENGTH} or less.",
                    obj=view,
                    id=_id("E005"),
                )
            )
    for view, pattern in routed_views():
        if "route" not in pattern.pattern.regex.groupindex:
            messages.append(
                CheckWarning(
                    f"The URL pattern '{pattern.pattern}' of {_label(view)} has no 'route' "
                    "parameter: every event, even $connect, is handled as a message.",
                    hint="Route the view as path('ws/<slug:route>', MyView.as_view()).",
                    obj=view,
                    id=_id("W008"),
                )
            )
    return messages


# 4.1.0's names of the checks above, for code and tests that call a check directly.
check_gateway_secret_format = check_gateway_secret
check_gateway_secret_is_set = check_gateway_secret_set
check_aws_region_is_set = check_region
check_unlisted_channels_are_refused = check_unlisted_channels
check_handlers_are_listed = check_automatic_handlers


def check_websockets_setting(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """4.1.0's one check of ``WEBSOCKETS``: its values (E002), then its keys (W002)."""
    return check_settings_values(app_configs) + check_unknown_keys(app_configs)
