"""SigV4 signing of Management API posts with botocore's own signer and credentials.

Credentials come from the project's AWS settings (``aws.get_boto3_session``). A send
signs thousands of requests with one body and one key, so the signer keeps the body's
hash and the day's derived key instead of recomputing them for every request.
"""

from __future__ import annotations

import threading
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials
from botocore.exceptions import NoCredentialsError

from ..aws import get_boto3_session, settings_key

#: Signs for a server that is not AWS (the local gateway accepts any credentials).
LOCAL_CREDENTIALS = ReadOnlyCredentials("LOCALGATEWAYKEY", "local-gateway-secret", None)

#: Every header a request from ``headers_for`` can carry when it is signed.
_SIGNED = ("Host", "X-Amz-Date", "X-Amz-Security-Token")

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


class ManagementApiSigner(SigV4Auth):
    """botocore's ``SigV4Auth`` for ``execute-api``, remembering what does not change
    between the requests of one send: the body's hash, the day's signing key, and the
    parsed headers (botocore works them out twice per request)."""

    def __init__(self, credentials: ReadOnlyCredentials, region: str) -> None:
        super().__init__(credentials, "execute-api", region)
        self._payload_of: tuple[Any, str] = (None, "")
        self._key_of: tuple[str, bytes] = ("", b"")
        self._headers_of: tuple[tuple[str | None, ...], Any] = ((), None)
        self._derived: dict[str, str] = {}

    def payload(self, request: AWSRequest) -> str:
        data = request.data  # not ``request.body``, which prepares the whole request
        if data is not self._payload_of[0]:
            self._payload_of = (data, super().payload(request))
        return self._payload_of[1]

    def headers_to_sign(self, request: AWSRequest) -> Any:
        # The requests signed here carry only these headers, so the parsed set, and what
        # botocore derives from it, changes with the host and once a second.
        key = tuple(request.headers.get(name) for name in _SIGNED)
        if key != self._headers_of[0]:
            self._headers_of = (key, super().headers_to_sign(request))
            self._derived.clear()
        return self._headers_of[1]

    def canonical_headers(self, headers_to_sign: Any) -> str:
        if "canonical" not in self._derived:
            self._derived["canonical"] = super().canonical_headers(headers_to_sign)
        return self._derived["canonical"]

    def signed_headers(self, headers_to_sign: Any) -> str:
        if "signed" not in self._derived:
            self._derived["signed"] = super().signed_headers(headers_to_sign)
        return self._derived["signed"]

    def canonical_query_string(self, request: AWSRequest) -> str:
        return "" if "?" not in request.url else super().canonical_query_string(request)

    def signature(self, string_to_sign: str, request: AWSRequest) -> str:
        day = request.context["timestamp"][0:8]
        if day != self._key_of[0]:
            key = self._sign(f"AWS4{self.credentials.secret_key}".encode(), day)
            for part in (self._region_name, self._service_name, "aws4_request"):
                key = self._sign(key, part)
            self._key_of = (day, key)
        return self._sign(self._key_of[1], string_to_sign, hex=True)

    def headers_for(self, url: str, host: str, body: bytes) -> dict[str, str]:
        """The headers that sign ``POST url`` with ``body``; ``host`` is the URL's.
        (The memos above rely on requests built here: no headers but ``_SIGNED``.)"""
        request = AWSRequest(method="POST", url=url, data=body, headers={"Host": host})
        self.add_auth(request)
        return dict(request.headers.items())
