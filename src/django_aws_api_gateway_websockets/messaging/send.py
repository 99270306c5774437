"""Sending to one session, with the original's semantics (see ``send_to_session``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from asgiref.sync import sync_to_async
from botocore.exceptions import ClientError
from django.utils import timezone

from .. import metrics
from ..departures import mark_gone
from ..models import ApiGateway
from .endpoint import connection_url, management_endpoint
from .payload import encode_message
from .policy import Verdict
from .results import Delivery
from .transport import SendSettings, Target, get_transport

if TYPE_CHECKING:
    from ..models import WebSocketSession

_ERROR_CODES = {
    400: "BadRequestException",
    403: "ForbiddenException",
    413: "PayloadTooLargeException",
    429: "LimitExceededException",
}


class ManagementApiError(ClientError):
    """A post that failed for good. A ``botocore`` ``ClientError``, as the original
    raised, so existing ``except ClientError`` code keeps working."""

    def __init__(self, delivery: Delivery) -> None:
        status = delivery.status
        if status is None:
            code = "RequestTimeout" if delivery.uncertain else "ConnectionError"
            message = "No answer from the Management API (the message may have arrived)"
            if not delivery.uncertain:
                message = "Could not connect to the Management API"
        else:
            code = _ERROR_CODES.get(status, "InternalServerError" if status >= 500 else "Error")
            message = f"The Management API answered {status}"
        response: Any = {
            "Error": {"Code": code, "Message": f"{message} after {delivery.attempts} attempt(s)"},
            "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": delivery.request_id},
        }
        super().__init__(response, "PostToConnection")
        self.delivery = delivery


def _gateway_of(session: WebSocketSession) -> ApiGateway:
    field = type(session)._meta.get_field("api_gateway")
    if field.is_cached(session):  # type: ignore[union-attr]
        return session.api_gateway  # type: ignore[return-value]
    return ApiGateway.objects.only("api_id", "stage_name").get(pk=session.api_gateway_id)


def send_to_session(session: WebSocketSession, data: Any) -> dict[str, Any] | None:
    """Post ``data`` to one connection.

    Returns the Management API's response metadata. When the connection is gone (410)
    the session is marked disconnected in one UPDATE, on the instance too, and the
    result is ``None``. Raises ``ValueError`` without a gateway or over 128 KB, and
    ``ManagementApiError`` when the post fails after its retries.
    """
    return send_encoded_to_session(session, encode_message(data))


def send_encoded_to_session(session: WebSocketSession, body: bytes) -> dict[str, Any] | None:
    """``send_to_session`` for a message already encoded (and size-checked)."""
    if session.api_gateway_id is None:
        raise ValueError(f"WebSocketSession {session.pk} has no API Gateway to send through.")
    endpoint = management_endpoint(_gateway_of(session))
    url = connection_url(endpoint, session.connection_id)
    target = Target(session.pk, session.connection_id, url, urlsplit(endpoint).netloc)
    broadcast = get_transport().open(SendSettings.from_conf(concurrency=1))
    try:
        (delivery,) = broadcast.add([target], body).result()
    finally:
        broadcast.close()
    metrics.delivered(delivery.verdict.value, delivery.status, len(body))
    if delivery.verdict is Verdict.SENT:
        return {
            "ResponseMetadata": {
                "HTTPStatusCode": delivery.status,
                "RequestId": delivery.request_id,
                "RetryAttempts": delivery.attempts - 1,
            }
        }
    if delivery.verdict is Verdict.GONE:
        now = timezone.now()
        mark_gone([session.pk], now)
        session.connected, session.updated_on = False, now
        return None
    raise ManagementApiError(delivery)


async def asend_to_session(session: WebSocketSession, data: Any) -> dict[str, Any] | None:
    """``send_to_session`` for async code; the caller's loop is never blocked."""
    return await sync_to_async(send_to_session)(session, data)
