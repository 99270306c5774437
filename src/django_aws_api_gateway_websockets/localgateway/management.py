"""The Management API (``/{stage}/@connections/{id}``) as decisions, without I/O.

Answers like AWS so that unchanged boto3 code behaves as in production: a well-formed
SigV4 ``Authorization`` header is required, and in strict mode (credentials given) its
signature must verify against them (403 ``InvalidSignatureException`` otherwise); 410
``GoneException`` for ids that are unknown, closed or still in their ``$connect``, 413
``PayloadTooLargeException`` over 128 KB, 429 ``LimitExceededException`` over the
request rate or when the client's buffer is full, and ``connectedAt``, ``lastActiveAt``
and ``identity`` on GET.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import unquote, urlsplit

from .config import Credentials, Limits
from .connections import Connection, ConnectionTable
from .limits import admits, rate_limit
from .sigv4 import verify

_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=[^/,\s]+/\d{8}/[a-z0-9-]+/execute-api/aws4_request,\s*"
    r"SignedHeaders=(?P<signed>[a-z0-9;-]+),\s*Signature=[0-9a-f]{64}"
)
_AMZ_DATE = re.compile(r"\d{8}T\d{6}Z")
_CONNECTION_ID = re.compile(r"[A-Za-z0-9_=+/-]{1,128}")
#: ``/{stage}/@connections/{id}``, with ``@`` as is or percent-encoded (AWS documents both),
#: or without the stage, as through a custom domain mapped with an empty base path.
_PATH = re.compile(r"(?:/(?P<stage>[^/]+))?/(?:@|%40)connections/(?P<id>[^/]*)")
_MANAGEMENT = re.compile(r"/(?:@|%40)connections/")


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Deliver:
    """Send ``data`` to the client of ``connection``."""

    connection: Connection
    data: bytes


@dataclass(frozen=True)
class Disconnect:
    """Close ``connection`` (``DELETE``)."""

    connection: Connection


Action = Deliver | Disconnect | None


def error_response(status: int, error_type: str, message: str | None) -> Response:
    body = json.dumps({"message": message}).encode()
    headers = (
        ("Content-Type", "application/json"),
        ("x-amzn-ErrorType", error_type),
        ("x-amzn-RequestId", str(uuid.uuid4())),
    )
    return Response(status, body, headers)


def iso8601(timestamp: float) -> str:
    moment = datetime.fromtimestamp(timestamp, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def signature_problem(headers: Mapping[str, str]) -> str | None:
    """Why the request is not SigV4-signed for ``execute-api``, or ``None``."""
    authorization = headers.get("authorization")
    if not authorization:
        return "Missing Authentication Token"
    match = _AUTHORIZATION.fullmatch(authorization.strip())
    if match is None:
        return (
            "Authorization header requires 'Credential' (for service execute-api), "
            "'SignedHeaders' and 'Signature' parameters."
        )
    if "host" not in match.group("signed").split(";"):
        return "The host header must be signed."
    if not _AMZ_DATE.fullmatch(headers.get("x-amz-date", "")):
        return (
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
        )
    return None


class ManagementApi:
    """``@connections`` over a connection table, one request at a time.

    ``stage=None`` accepts any stage (the recording Management API for tests does, since
    the stage comes from each project's gateway row).
    """

    def __init__(
        self,
        stage: str | None,
        table: ConnectionTable,
        limits: Limits,
        buffered_bytes: Callable[[Connection], int] = lambda connection: 0,
        now: float = 0.0,
        credentials: Credentials | None = None,
    ) -> None:
        self.stage = stage
        self.credentials = credentials
        self.table = table
        self.limits = limits
        self.buffered_bytes = buffered_bytes
        self.bucket = rate_limit(limits.management_rate, limits.management_burst, now)

    def is_management_path(self, target: str) -> bool:
        return _MANAGEMENT.search(urlsplit(target).path) is not None

    def handle(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes, now: float
    ) -> tuple[Response, Action]:
        """The answer to one request (``headers`` with lower-case names) and what to do."""
        match = _PATH.fullmatch(urlsplit(target).path)
        stage = match.group("stage") if match is not None else None
        if match is None or stage not in (None, self.stage or stage):
            return error_response(403, "ForbiddenException", "Forbidden"), None
        if method not in ("POST", "GET", "DELETE"):
            return error_response(
                403,
                "ForbiddenException",
                f"No method found matching route @connections for http method {method}.",
            ), None
        problem = signature_problem(headers)
        if problem is not None:
            kind = "MissingAuthenticationToken" if "Missing" in problem else "IncompleteSignature"
            return error_response(403, kind + "Exception", problem), None
        if self.credentials is not None:
            failure = verify(method, target, headers, body, self.credentials, now)
            if failure is not None:
                return error_response(403, *failure), None
        connection_id = unquote(match.group("id"))
        if not _CONNECTION_ID.fullmatch(connection_id):
            return error_response(
                400, "BadRequestException", f"Invalid connectionId: {connection_id}"
            ), None
        if not admits(self.bucket, now):
            return error_response(429, "LimitExceededException", "Too Many Requests"), None
        if method == "POST" and self.limits.message_bytes and len(body) > self.limits.message_bytes:
            return error_response(413, "PayloadTooLargeException", "Message too long"), None
        connection = self.table.get_open(connection_id)
        if connection is None:
            return error_response(410, "GoneException", None), None
        if method == "GET":
            return self._describe(connection), None
        if method == "DELETE":
            return Response(204), Disconnect(connection)
        if self.buffered_bytes(connection) > self.limits.client_buffer_bytes:
            return error_response(
                429, "LimitExceededException", "The client's buffer is full"
            ), None
        connection.touch(now)
        return Response(200), Deliver(connection, body)

    def _describe(self, connection: Connection) -> Response:
        body = {
            "connectedAt": iso8601(connection.connected_at),
            "identity": {"sourceIp": connection.source_ip, "userAgent": connection.user_agent},
            "lastActiveAt": iso8601(connection.last_active_at),
        }
        return Response(200, json.dumps(body).encode(), (("Content-Type", "application/json"),))
