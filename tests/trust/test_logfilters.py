"""Tokens stay out of logs: the shipped filter redacts every spelling of ``ws_token`` that
Django accepts, in messages, arguments and the request that error mails render; check
W010 warns where request logging is configured without it."""

from __future__ import annotations

import logging

import django
import pytest
from django.http import QueryDict
from django.test import RequestFactory
from django.utils.log import AdminEmailHandler

from django_aws_api_gateway_websockets.checks import check_request_log_redaction
from django_aws_api_gateway_websockets.localgateway.server import _redact
from django_aws_api_gateway_websockets.logfilters import RedactTokens, redact_tokens

TOKEN = "0123456789abcdef" * 4
# Django 6.0 takes plain addresses and deprecates the (name, address) pairs 5.2 needs.
ADMINS = ["ops@example.com"] if django.VERSION >= (6, 0) else [("Ops", "ops@example.com")]
FILTER = {"()": "django_aws_api_gateway_websockets.logfilters.RedactTokens"}


@pytest.mark.parametrize(
    "key", ["ws_token", "ws%5Ftoken", "ws%5ftoken", "w%73_token", "%77s_token"]
)
def test_every_spelling_django_reads_as_the_key_is_redacted(key):
    query = f"channel=a&{key}={TOKEN}&x=1"
    assert QueryDict(query)["ws_token"] == TOKEN  # why each spelling matters
    redacted = redact_tokens(f'"GET /ws/connect?{query} HTTP/1.1" 400 25')
    assert TOKEN not in redacted
    assert f"{key}=[redacted]&x=1" in redacted
    assert TOKEN not in _redact(f"/local?{query}")


@pytest.mark.parametrize("text", ["my_ws_token=abc", "xws_token=abc", "ws_tokens=abc", "a b c"])
def test_other_keys_are_left_alone(text):
    assert redact_tokens(text) == text


def capture(logger_name: str) -> tuple[logging.Logger, list[str], list[logging.LogRecord]]:
    logger = logging.getLogger(logger_name)
    lines: list[str] = []
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))
            records.append(record)

    handler = Keep()
    handler.addFilter(RedactTokens())
    logger.addHandler(handler)
    return logger, lines, records


def test_a_request_log_line_and_its_request_are_redacted():
    logger, lines, records = capture("trust.test.request")
    request = RequestFactory().get(f"/ws/connect?ws%5Ftoken={TOKEN}&channel=a")
    try:
        logger.warning("Bad Request: %s", request.get_full_path(), extra={"request": request})
        logger.info('"%s" %s %s', f"GET /ws/connect?ws_token={TOKEN} HTTP/1.1", "400", "25")
    finally:
        logger.handlers.clear()
    assert all(TOKEN not in line for line in lines)
    logged_request = records[0].request  # type: ignore[attr-defined]
    assert logged_request.GET["ws_token"] == "[redacted]"
    assert TOKEN not in logged_request.META["QUERY_STRING"]
    assert logged_request.GET["channel"] == "a"
    # The request being served is not touched.
    assert request.GET["ws_token"] == TOKEN


def test_error_mails_carry_no_token(mailoutbox, settings):
    settings.ADMINS = ADMINS
    logger = logging.getLogger("trust.test.mail")
    handler = AdminEmailHandler(include_html=True)
    handler.addFilter(RedactTokens())
    logger.addHandler(handler)
    request = RequestFactory().get(f"/ws/connect?ws_token={TOKEN}")
    try:
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("Internal Server Error: %s", request.path, extra={"request": request})
    finally:
        logger.handlers.clear()
    (mail,) = mailoutbox
    assert "boom" in mail.body
    assert TOKEN not in mail.body
    assert all(TOKEN not in str(content) for content, _ in mail.alternatives)


def logging_setting(**logger: object) -> dict[str, object]:
    return {
        "version": 1,
        "filters": {"redact": FILTER},
        "handlers": {
            "plain": {"class": "logging.StreamHandler"},
            "redacted": {"class": "logging.StreamHandler", "filters": ["redact"]},
        },
        "loggers": {"django.request": logger},
    }


@pytest.mark.parametrize(
    ("logger", "warned"),
    [
        ({"handlers": ["plain"], "propagate": False}, True),
        ({"handlers": ["plain"], "filters": ["redact"]}, False),
        ({"handlers": ["redacted"], "propagate": False}, False),
        ({"handlers": ["redacted"]}, True),  # propagates past the handler's filter
        ({"level": "ERROR"}, True),
    ],
)
def test_check_w010(settings, logger, warned):
    settings.LOGGING = logging_setting(**logger)
    messages = check_request_log_redaction()
    assert [m.id for m in messages] == (
        ["django_aws_api_gateway_websockets.W010"] if warned else []
    )


def test_check_w010_is_quiet_without_request_logging(settings):
    settings.LOGGING = {"version": 1, "loggers": {"myapp": {"level": "INFO"}}}
    assert check_request_log_redaction() == []
