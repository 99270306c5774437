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
    """``"<ExceptionClass>: <AWS error code>"``, short enough for ``last_error``; other
    errors by their class only, as in 4.1.0 (their text may hold details not to show),
    except this package's own ``ValueError`` messages about settings and AWS state."""
    if isinstance(exc, ClientError):
        return f"{type(exc).__name__}: {error_code(exc)}"[:255]
    if type(exc) is ValueError:
        return f"ValueError: {exc}"[:255]
    return type(exc).__name__


def is_not_found(exc: BaseException) -> bool:
    return error_code(exc) in {"NotFoundException", "NoSuchHostedZone"}


def is_conflict(exc: BaseException) -> bool:
    return error_code(exc) == "ConflictException"
