"""Keep single-use tokens out of the request log. A token is spent on connect and expires
within a minute, but a log is no place for credentials."""

from __future__ import annotations

import logging
import re

TOKEN = re.compile(r"(ws_token=)[^&\s\"]+")


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(
                TOKEN.sub(r"\1…", arg) if isinstance(arg, str) else arg for arg in args
            )
        return True
