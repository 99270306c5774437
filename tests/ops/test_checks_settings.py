"""System checks over the WEBSOCKETS settings."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.checks import Error
from django.core.checks import Warning as CheckWarning

from django_aws_api_gateway_websockets import checks, conf

GOOD_SECRET = "A" * 32
BAD_SECRET = "short-secret-value"


def ids(messages: list[Any]) -> list[str]:
    return [message.id.rsplit(".", 1)[1] for message in messages]


@pytest.mark.parametrize(
    "value",
    [BAD_SECRET, [GOOD_SECRET, BAD_SECRET], ["x" * 31], [], 42, "has space" * 8, ""],
)
def test_e001_invalid_secret_never_shown(settings: Any, value: Any) -> None:
    settings.WEBSOCKETS = {"gateway_secret": value}
    messages = checks.check_gateway_secret()
    assert ids(messages) == ["E001"]
    assert isinstance(messages[0], Error)
    text = messages[0].msg + messages[0].hint
    assert BAD_SECRET not in text
    assert "has space" not in text


@pytest.mark.parametrize("value", [GOOD_SECRET, [GOOD_SECRET, "b" * 40], ("Zz0._~+/=-" * 4,)])
def test_e001_valid_secrets(settings: Any, value: Any) -> None:
    settings.WEBSOCKETS = {"gateway_secret": value}
    assert checks.check_gateway_secret() == []
    assert checks.check_gateway_secret_set() == []


def test_e001_names_the_bad_entry(settings: Any) -> None:
    settings.WEBSOCKETS = {"gateway_secret": [GOOD_SECRET, GOOD_SECRET, BAD_SECRET]}
    assert "(entry 3)" in checks.check_gateway_secret()[0].msg


def test_w001_no_secret(settings: Any) -> None:
    settings.WEBSOCKETS = {}
    messages = checks.check_gateway_secret_set()
    assert ids(messages) == ["W001"]
    assert isinstance(messages[0], CheckWarning)


@pytest.mark.parametrize("value", [["oops"], "text", 3, ("a", "b")])
def test_e002_non_dict_websockets_does_not_crash(settings: Any, value: Any) -> None:
    settings.WEBSOCKETS = value
    assert ids(checks.check_settings_values()) == ["E002"]
    # The other checks treat it as empty instead of raising (the original crashed).
    assert checks.check_gateway_secret() == []
    assert checks.check_unknown_keys() == []
    assert checks.check_allowed_origins() == []
    assert checks.check_management_endpoint() == []
    assert ids(checks.check_gateway_secret_set()) == ["W001"]


def test_unset_websockets_is_fine(settings: Any) -> None:
    del settings.WEBSOCKETS
    assert checks.check_settings_values() == []
    assert checks.check_unknown_keys() == []


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("token_expiry_seconds", 0),
        ("token_expiry_seconds", "60"),
        ("rate_limit_max_attempts", True),
        ("rate_limit_window_minutes", 1.5),
        ("session_max_age_seconds", -1),
        ("send_rate_per_second", None),
        ("send_concurrency", 0),
        ("send_max_attempts", "4"),
        ("send_batch_size", 0),
        ("trusted_proxy_count", -1),
        ("trusted_proxy_count", False),
        ("send_timeout_seconds", 0),
        ("send_timeout_seconds", "10"),
        ("send_timeout_seconds", True),
        ("push_changes_to_aws", "yes"),
        ("count_messages", 1),
        ("rate_limit_ipv6_prefix", 0),
        ("rate_limit_ipv6_prefix", 129),
        ("allowed_integration_hosts", 7),
        ("allowed_integration_hosts", ["example.com", "bad host"]),
        ("allowed_integration_hosts", "example.com:8000"),
        ("websocket_url", "https://ws.example.com"),
        ("websocket_url", "wss://"),
        ("websocket_url", 1),
    ],
)
def test_e002_bad_values(settings: Any, key: str, value: Any) -> None:
    settings.WEBSOCKETS = {key: value}
    messages = checks.check_settings_values()
    assert ids(messages) == ["E002"]
    assert f"WEBSOCKETS['{key}']" in messages[0].msg


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("token_expiry_seconds", 30),
        ("trusted_proxy_count", 0),
        ("trusted_proxy_count", 2),
        ("send_timeout_seconds", 2.5),
        ("send_timeout_seconds", 3),
        ("push_changes_to_aws", False),
        ("count_messages", False),
        ("rate_limit_ipv6_prefix", 48),
        ("rate_limit_ipv6_prefix", 128),
        ("allowed_integration_hosts", "www.example.com"),
        ("allowed_integration_hosts", ["*.example.com", "API.example.org", "localhost"]),
        ("allowed_integration_hosts", []),  # as in 4.1.0: any host, like unset
        ("websocket_url", "wss://ws.example.com"),
        ("websocket_url", "ws://127.0.0.1:8001/local"),
    ],
)
def test_e002_good_values(settings: Any, key: str, value: Any) -> None:
    settings.WEBSOCKETS = {key: value}
    assert checks.check_settings_values() == []


def test_w002_unknown_key_suggests_the_known_one(settings: Any) -> None:
    settings.WEBSOCKETS = {"token_expiry_second": 60, "gateway_secret": GOOD_SECRET, 5: 1}
    messages = checks.check_unknown_keys()
    assert ids(messages) == ["W002", "W002"]
    assert "Did you mean 'token_expiry_seconds'?" in messages[1].hint
    assert "Known keys:" in messages[0].hint


def test_w003_region(settings: Any) -> None:
    assert checks.check_region() == []
    del settings.AWS_GATEWAY_REGION_NAME
    assert ids(checks.check_region()) == ["W003"]
    settings.AWS_REGION_NAME = "us-east-1"
    assert checks.check_region() == []


@pytest.mark.parametrize(
    "value",
    [
        "https://app.example.com",
        ["https://app.example.com", "http://localhost:8000"],
        "*",
        ["https://app.example.com/"],
    ],
)
def test_allowed_origins_valid(settings: Any, value: Any) -> None:
    settings.WEBSOCKETS = {"allowed_origins": value}
    assert checks.check_allowed_origins() == []


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("app.example.com", "not scheme://host"),
        (["https://ok.example.com", "ftp://files.example.com"], "not scheme://host"),
        ("https://app.example.com/chat", "more than scheme, host and port"),
        ("https://app.example.com:99999", "invalid port"),
        ([42], "not a string"),
    ],
)
def test_e003_allowed_origins_invalid(settings: Any, value: Any, why: str) -> None:
    settings.WEBSOCKETS = {"allowed_origins": value}
    messages = checks.check_allowed_origins()
    assert ids(messages) == ["E003"]
    assert why in messages[0].msg


def test_w006_any_origin_in_deploy(settings: Any) -> None:
    settings.WEBSOCKETS = {"allowed_origins": ["*"]}
    assert ids(checks.check_any_origin()) == ["W006"]
    settings.WEBSOCKETS = {"allowed_origins": ["https://app.example.com"]}
    assert checks.check_any_origin() == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8001/{stage}",
        "https://{api_id}.execute-api.{region}.amazonaws.com/{stage}",
        "https://vpce.example.com/",
    ],
)
def test_management_endpoint_valid(settings: Any, url: str) -> None:
    settings.WEBSOCKETS = {"management_endpoint_url": url}
    assert checks.check_management_endpoint() == []


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1:8001/{stag}", "unknown placeholders ['stag']"),
        ("http://127.0.0.1:8001/{stage", "unbalanced braces"),
        ("127.0.0.1:8001", "not an http or https URL"),
        ("", "is not a URL"),
        (8001, "is not a URL"),
    ],
)
def test_e004_management_endpoint_invalid(settings: Any, url: Any, why: str) -> None:
    settings.WEBSOCKETS = {"management_endpoint_url": url}
    messages = checks.check_management_endpoint()
    assert ids(messages) == ["E004"]
    assert why in messages[0].msg


def test_w007_plain_http_endpoint_in_deploy(settings: Any) -> None:
    settings.WEBSOCKETS = {"management_endpoint_url": "http://127.0.0.1:8001/{stage}"}
    assert ids(checks.check_management_endpoint_deploy()) == ["W007"]
    settings.WEBSOCKETS = {"management_endpoint_url": "https://vpce.example.com/{stage}"}
    assert checks.check_management_endpoint_deploy() == []
    settings.WEBSOCKETS = {}
    assert checks.check_management_endpoint_deploy() == []


def test_w009_plain_ws_url_in_deploy(settings: Any) -> None:
    settings.WEBSOCKETS = {"websocket_url": "ws://127.0.0.1:8001/local"}
    assert ids(checks.check_websocket_url_deploy()) == ["W009"]
    settings.WEBSOCKETS = {"websocket_url": "wss://ws.example.com"}
    assert checks.check_websocket_url_deploy() == []
    settings.WEBSOCKETS = {}
    assert checks.check_websocket_url_deploy() == []


SETTINGS_CHECKS = (
    checks.check_gateway_secret,
    checks.check_settings_values,
    checks.check_allowed_origins,
    checks.check_management_endpoint,
)


@pytest.mark.parametrize("key", sorted(conf.KNOWN_KEYS))
def test_every_known_key_is_checked(settings: Any, key: str) -> None:
    """A setting added to conf.py needs a check of its value here too."""
    settings.WEBSOCKETS = {key: object()}
    errors = [m for check in SETTINGS_CHECKS for m in check() if isinstance(m, Error)]
    assert errors, f"no system check reports a bad value of WEBSOCKETS[{key!r}]"


def test_defaults_is_the_table_4_1_0_published_and_every_integer_is_readable() -> None:
    assert conf.DEFAULTS == {
        "token_rate_limit_per_minute": 20,
        "token_expiry_seconds": 60,
        "rate_limit_max_attempts": 20,
        "rate_limit_window_minutes": 1,
    }
    assert conf.DEFAULTS.items() <= conf.INT_DEFAULTS.items()
    assert conf.get_setting("send_concurrency") == conf.INT_DEFAULTS["send_concurrency"]


def test_an_out_of_range_prefix_falls_back_to_the_default(settings: Any) -> None:
    from django_aws_api_gateway_websockets.conf import get_setting

    settings.WEBSOCKETS = {"rate_limit_ipv6_prefix": 129}
    assert get_setting("rate_limit_ipv6_prefix") == 64


def test_4_1_0_check_names_run_the_same_checks(settings: Any) -> None:
    """4.1.0's names call the checks directly; ``check_websockets_setting`` was its one
    check of values (E002) and keys (W002)."""
    settings.WEBSOCKETS = {"rate_limit_max_attempts": -1, "gateway_secrett": "x"}
    assert ids(checks.check_websockets_setting()) == ["E002", "W002"]
    settings.WEBSOCKETS = {"gateway_secret": BAD_SECRET}
    assert ids(checks.check_gateway_secret_format()) == ["E001"]
    assert checks.check_gateway_secret_is_set is checks.check_gateway_secret_set
    assert checks.check_aws_region_is_set is checks.check_region
    assert checks.check_unlisted_channels_are_refused is checks.check_unlisted_channels
    assert checks.check_handlers_are_listed is checks.check_automatic_handlers


def test_the_websockets_setting_is_checked_once_by_its_4_1_0_check(settings: Any) -> None:
    """``manage.py check`` runs ``check_websockets_setting`` (registered, as in 4.1.0),
    which reports each bad value and unknown key once."""
    from django.core.checks import registry, run_checks

    assert checks.check_websockets_setting in registry.registry.get_checks()
    settings.WEBSOCKETS = {"rate_limit_max_attempts": -1, "gateway_secrett": "x"}
    reported = [m.id.rsplit(".", 1)[-1] for m in run_checks(tags=["compatibility"])]
    assert reported.count("E002") == 1
    assert reported.count("W002") == 1


def test_a_secret_read_from_a_file_with_its_newline_is_refused_saying_so(settings: Any) -> None:
    """As 4.1.0: the check's hint and provisioning's error name the newline."""
    from django_aws_api_gateway_websockets.provisioning.spec import (
        integration_request_parameters,
    )

    settings.WEBSOCKETS = {"gateway_secret": GOOD_SECRET + "\n"}
    (message,) = checks.check_gateway_secret()
    assert "newline" in message.hint
    with pytest.raises(ValueError, match="newline"):
        integration_request_parameters()
    settings.WEBSOCKETS = {"gateway_secret": BAD_SECRET}
    assert "newline" not in checks.check_gateway_secret()[0].hint
