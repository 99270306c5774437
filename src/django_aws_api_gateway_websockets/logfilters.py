"""Keep connect tokens out of logs.

A ``ws_token`` is single-use and short-lived, but until it is spent it opens a
connection as its user, and logs outlive that minute in places with wider access than
the database. :class:`RedactTokens` hides the value in any logger's records: the
message, its arguments and the Django request a record carries (``record.request``,
which Django's error mails render), whatever the spelling of the key Django accepts
(``ws_token=``, ``ws%5Ftoken=`` and any other percent-encoding of it).

Wire it into ``LOGGING`` as a filter of the loggers that log requests (see the security
page of the documentation); system check W010 warns where it is missing.

This module imports nothing from Django at load time, so the local gateway uses it too.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

#: The replacement of a token's value.
REDACTED = "[redacted]"
#: The query key, and a name that Django reads as this key however it is percent-encoded.
TOKEN_KEY = "ws_token"


def _spellings(char: str) -> str:
    """The character itself or its percent-encoding (hex digits in either case)."""
    return f"(?:{re.escape(char)}|%(?i:{ord(char):02x}))"


#: ``ws_token=<value>`` in any spelling; the value runs to ``&``, ``#``, a quote or space.
TOKEN_IN_TEXT = re.compile(
    r"(?<![A-Za-z0-9_%])(" + "".join(_spellings(c) for c in TOKEN_KEY) + r"=)[^&#\s\"'<>]+"
)


def redact_tokens(text: str) -> str:
    """``text`` with the value of every ``ws_token`` query parameter replaced."""
    if "token" not in text and "%" not in text:  # the common case, at no regex cost
        return text
    return TOKEN_IN_TEXT.sub(rf"\1{REDACTED}", text)


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact_tokens(value)
    if value is None or isinstance(value, (int, float, bool)):
        return value
    text = str(value)
    cleaned = redact_tokens(text)
    return value if cleaned == text else cleaned


class RedactTokens(logging.Filter):
    """A logging filter that hides ``ws_token`` values; it never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_tokens(record.msg)
        if isinstance(record.args, dict):
            record.args = {key: _redacted(value) for key, value in record.args.items()}
        elif record.args:
            record.args = tuple(_redacted(arg) for arg in record.args)
        request = getattr(record, "request", None)
        if request is not None and hasattr(request, "META") and hasattr(request, "GET"):
            record.request = _redacted_request(request)
        return True


def _redacted_request(request: Any) -> Any:
    """A shallow copy of a Django request with the token out of its query and META; the
    request being served is left as it is."""
    if TOKEN_KEY not in request.GET and not any(
        isinstance(value, str) and redact_tokens(value) != value for value in request.META.values()
    ):
        return request
    clean = copy.copy(request)
    query = request.GET.copy()
    if TOKEN_KEY in query:
        query.setlist(TOKEN_KEY, [REDACTED])
    query._mutable = False
    clean.GET = query
    clean.META = {
        key: redact_tokens(value) if isinstance(value, str) else value
        for key, value in request.META.items()
    }
    if hasattr(request, "environ"):
        clean.environ = clean.META
    clean.exception_reporter_filter = _RedactingReporterFilter(request)
    return clean


class _Redacted:
    """Shows a value as its ``repr`` with tokens redacted (error reports pprint locals)."""

    def __init__(self, value: Any) -> None:
        self.text = redact_tokens(repr(value))

    def __repr__(self) -> str:
        return self.text


class _RedactingReporterFilter:
    """The request's exception reporter filter, with tokens redacted from the local
    variables of the traceback's frames (an HTML error mail shows them)."""

    def __init__(self, request: Any) -> None:
        from django.views.debug import get_exception_reporter_filter

        self._filter = get_exception_reporter_filter(request)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._filter, name)

    def get_traceback_frame_variables(self, request: Any, tb_frame: Any) -> Any:
        return [
            (name, _Redacted(value))
            for name, value in self._filter.get_traceback_frame_variables(request, tb_frame)
        ]
