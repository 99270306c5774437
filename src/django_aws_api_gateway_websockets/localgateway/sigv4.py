"""Strict mode: verifying the SigV4 signature of a ``@connections`` call as AWS does.

The expected signature is computed by botocore's own ``SigV4Auth`` from the request as it
arrived (method, raw path, the headers the caller signed, the body), so a wrong secret, a
stale date or a request changed on the way fails here as it would in AWS. AWS accepts a
request within five minutes of its ``X-Amz-Date`` ("Protect against potential replay
attacks", https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_aws-signing.html).
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import ReadOnlyCredentials

from .config import Credentials

#: Seconds a signature's date may be away from the gateway's clock.
CLOCK_SKEW = 300.0

_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/,\s]+)/(?P<day>\d{8})/(?P<region>[a-z0-9-]+)"
    r"/execute-api/aws4_request,\s*SignedHeaders=(?P<signed>[a-z0-9;-]+),\s*"
    r"Signature=(?P<signature>[0-9a-f]{64})"
)
_AMZ_FORMAT = "%Y%m%dT%H%M%SZ"

MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service "
    "documentation for details."
)


class _Recomputing(SigV4Auth):
    """botocore's signer, signing exactly the headers the caller listed."""

    def headers_to_sign(self, request: AWSRequest) -> HTTPHeaders:
        headers = HTTPHeaders()
        for name, value in request.headers.items():
            headers[name.lower()] = value
        return headers


def verify(
    method: str,
    target: str,
    headers: Mapping[str, str],
    body: bytes,
    credentials: Credentials,
    now: float,
) -> tuple[str, str] | None:
    """AWS's error type and message for a request that fails verification, or ``None``.

    ``headers`` has lower-case names; the request already has a well-formed
    ``Authorization`` and ``X-Amz-Date`` (``management.signature_problem``).
    """
    match = _AUTHORIZATION.fullmatch(headers.get("authorization", "").strip())
    if match is None:
        return "IncompleteSignatureException", "Authorization header is malformed."
    if match["key"] != credentials.access_key:
        return (
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        )
    if credentials.region and match["region"] != credentials.region:
        return (
            "InvalidSignatureException",
            f"Credential should be scoped to a valid region, not '{match['region']}'. ",
        )
    amz_date = headers["x-amz-date"]
    try:
        signed_at = datetime.strptime(amz_date, _AMZ_FORMAT).replace(tzinfo=timezone.utc)
    except ValueError:
        return (
            "InvalidSignatureException",
            f"Date must be in ISO-8601 'basic format'. Got '{amz_date}'.",
        )
    problem = _skew_problem(amz_date, signed_at, now)
    if problem is not None:
        return "InvalidSignatureException", problem
    signed = match["signed"].split(";")
    if any(name not in headers for name in signed):
        return "InvalidSignatureException", MISMATCH
    request = AWSRequest(
        method=method,
        url=f"http://{headers.get('host', '')}{target}",
        data=body,
        headers={name: headers[name] for name in signed},
    )
    request.context["timestamp"] = amz_date
    signer = _Recomputing(
        ReadOnlyCredentials(credentials.access_key, credentials.secret_key, None),
        "execute-api",
        match["region"],
    )
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    if match["day"] != amz_date[:8] or not hmac.compare_digest(expected, match["signature"]):
        return "InvalidSignatureException", MISMATCH
    return None


def _skew_problem(amz_date: str, signed_at: datetime, now: float) -> str | None:
    """AWS's words for a date outside the window around ``now``."""
    current = datetime.fromtimestamp(now, tz=timezone.utc)
    window = timedelta(seconds=CLOCK_SKEW)
    stamp = current.strftime(_AMZ_FORMAT)
    if signed_at < current - window:
        earliest = (current - window).strftime(_AMZ_FORMAT)
        return f"Signature expired: {amz_date} is now earlier than {earliest} ({stamp} - 5 min.)"
    if signed_at > current + window:
        latest = (current + window).strftime(_AMZ_FORMAT)
        return (
            f"Signature not yet current: {amz_date} is still later than {latest} ({stamp} + 5 min.)"
        )
    return None
