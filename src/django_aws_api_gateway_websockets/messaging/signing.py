"""SigV4 signing of Management API posts with botocore's credentials.

Credentials come from the project's AWS settings (``aws.get_boto3_session``). A send
signs thousands of requests with one body and one key, so the signer keeps the body's
hash and the day's derived key instead of recomputing them for every request.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from typing import Any
from urllib.parse import quote

from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials
from botocore.exceptions import NoCredentialsError

from ..aws import get_boto3_session, settings_key

#: Signs for a server that is not AWS (the local gateway accepts any credentials).
LOCAL_CREDENTIALS = ReadOnlyCredentials("LOCALGATEWAYKEY", "local-gateway-secret", None)

_lock = threading.Lock()
_credentials: dict[tuple[Any, ...], Any] = {}


def _resolved_credentials() -> Any:
    """The credentials botocore's chain finds for the settings (``None`` if none),
    looked up once per process and settings: the chain can read files and the network."""
    key = settings_key()
    with _lock:
        if key not in _credentials:
            _credentials[key] = get_boto3_session().get_credentials()
        return _credentials[key]


def current_credentials(for_aws: bool) -> ReadOnlyCredentials:
    """A frozen copy of the credentials, refreshed if they are about to expire."""
    try:
        credentials = _resolved_credentials()
    except RuntimeError:  # no region configured: only a local endpoint gets here
        credentials = None
    if credentials is None:
        if for_aws:
            raise NoCredentialsError()
        return LOCAL_CREDENTIALS
    return credentials.get_frozen_credentials()


def clear_credentials_cache() -> None:
    with _lock:
        _credentials.clear()


class ManagementApiSigner:
    """SigV4 for ``execute-api`` posts, computed with ``hmac`` and ``hashlib``.

    The requests of a send differ only in URL, host and time, so the body's hash, the
    day's signing key and the credential scope are computed once, and a request costs
    two SHA-256 hashes and one HMAC (botocore's ``SigV4Auth`` spends about ten times
    that in Python). The test suite checks every signature against ``SigV4Auth``'s.
    Only requests built here are signed: ``@connections`` calls without a query string,
    carrying ``Host``, ``X-Amz-Date`` and, with temporary credentials,
    ``X-Amz-Security-Token``.
    """

    def __init__(self, credentials: ReadOnlyCredentials, region: str) -> None:
        self._access_key = credentials.access_key
        self._secret_key = credentials.secret_key
        self._token = credentials.token
        self._region = region
        self._signed = "host;x-amz-date;x-amz-security-token" if self._token else "host;x-amz-date"
        self._token_line = f"x-amz-security-token:{self._token}\n" if self._token else ""
        self._payload_of: tuple[bytes | None, str] = (None, "")
        self._key_of: tuple[str, bytes] = ("", b"")
        self._time_of: tuple[int, str] = (-1, "")

    def _signing_key(self, day: str) -> bytes:
        if day != self._key_of[0]:
            key = f"AWS4{self._secret_key}".encode()
            for part in (day, self._region, "execute-api", "aws4_request"):
                key = hmac.new(key, part.encode(), hashlib.sha256).digest()
            self._key_of = (day, key)
        return self._key_of[1]

    def headers_for(self, url: str, host: str, body: bytes, method: str = "POST") -> dict[str, str]:
        """The headers that sign ``method url`` with ``body``; ``host`` is the URL's."""
        now = int(time.time())
        if now != self._time_of[0]:
            self._time_of = (now, time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now)))
        amz_date = self._time_of[1]
        if body is not self._payload_of[0]:
            self._payload_of = (body, hashlib.sha256(body).hexdigest())
        # The path as botocore canonicalises it: percent-encoded once more.
        path = quote(url[url.index("/", url.index("//") + 2) :], safe="/~")
        canonical = (
            f"{method}\n{path}\n\nhost:{host}\nx-amz-date:{amz_date}\n{self._token_line}\n"
            f"{self._signed}\n{self._payload_of[1]}"
        )
        scope = f"{amz_date[:8]}/{self._region}/execute-api/aws4_request"
        string_to_sign = (
            f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n"
            f"{hashlib.sha256(canonical.encode()).hexdigest()}"
        )
        signature = hmac.new(
            self._signing_key(amz_date[:8]), string_to_sign.encode(), hashlib.sha256
        ).hexdigest()
        headers = {
            "Host": host,
            "X-Amz-Date": amz_date,
            "Authorization": f"AWS4-HMAC-SHA256 Credential={self._access_key}/{scope}, "
            f"SignedHeaders={self._signed}, Signature={signature}",
        }
        if self._token:
            headers["X-Amz-Security-Token"] = self._token
        return headers

    def add_auth(self, request: AWSRequest) -> None:
        """Sign a botocore request in place, as ``SigV4Auth.add_auth`` would, for callers
        that build ``AWSRequest`` objects (it must carry a ``Host`` header)."""
        headers = self.headers_for(
            request.url, request.headers["Host"], request.data or b"", request.method
        )
        for name, value in headers.items():
            del request.headers[name]
            request.headers[name] = value
