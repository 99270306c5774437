"""How AWS failures are named, recognised and reported."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

#: What a provisioning step may raise that is AWS's doing rather than a bug.
AWS_ERRORS = (BotoCoreError, ClientError)


class ApiGatewaySyncError(Exception):
    """An AWS call made for a gateway or route failed; the message names the error."""


def error_code(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


def describe_error(exc: BaseException) -> str:
    """``"<ExceptionClass>: <AWS error code>"``, short enough for ``last_error``."""
    code = error_code(exc)
    text = f"{type(exc).__name__}: {code}" if code else f"{type(exc).__name__}: {exc}"
    return text[:255]


def is_not_found(exc: BaseException) -> bool:
    return error_code(exc) in {"NotFoundException", "NoSuchHostedZone"}


def is_conflict(exc: BaseException) -> bool:
    return error_code(exc) == "ConflictException"
