"""The signer computes SigV4 itself, remembering what does not change between
requests; its signatures are exactly botocore's ``SigV4Auth``'s."""

from __future__ import annotations

import time

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials

from django_aws_api_gateway_websockets.messaging import signing
from django_aws_api_gateway_websockets.messaging.endpoint import connection_url
from django_aws_api_gateway_websockets.messaging.signing import ManagementApiSigner


def _botocore_signature(
    credentials: ReadOnlyCredentials,
    url: str,
    body: bytes,
    headers: dict[str, str],
    region: str = "eu-west-1",
) -> str:
    request = AWSRequest(method="POST", url=url, data=body, headers=dict(headers))
    del request.headers["Authorization"]
    request.context["timestamp"] = headers["X-Amz-Date"]
    signer = SigV4Auth(credentials, "execute-api", region)
    canonical = signer.canonical_request(request)
    return signer.signature(signer.string_to_sign(request, canonical), request)


def _botocore_authorization(
    credentials: ReadOnlyCredentials,
    url: str,
    body: bytes,
    headers: dict[str, str],
    region: str,
    method: str = "POST",
) -> str:
    """The whole ``Authorization`` header ``SigV4Auth.add_auth`` writes at that time."""
    request = AWSRequest(method=method, url=url, data=body, headers=dict(headers))
    for name in ("Authorization", "X-Amz-Date", "X-Amz-Security-Token"):
        del request.headers[name]
    request.context["timestamp"] = headers["X-Amz-Date"]

    class AtThatTime(SigV4Auth):
        def _modify_request_before_signing(self, request: AWSRequest) -> None:
            super()._modify_request_before_signing(request)
            request.headers.replace_header("X-Amz-Date", headers["X-Amz-Date"])

    AtThatTime(credentials, "execute-api", region).add_auth(request)
    return str(request.headers["Authorization"])


@pytest.mark.parametrize("token", [None, "FwoGZXIvYXdzEJr//////////wEaDH+token=="])
@pytest.mark.parametrize(
    "connection_id", ["L0SM9cOFvHcCIhw=", "a-b_c~d", "x/y z+é", "ünï=cöde", "plain"]
)
def test_the_whole_header_equals_sigv4auths(token: str | None, connection_id: str) -> None:
    credentials = ReadOnlyCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCY", token)
    region = "ap-southeast-2"
    endpoint = f"https://a1b2c3.execute-api.{region}.amazonaws.com/prod"
    url = connection_url(endpoint, connection_id)
    body = '{"text": "héllo"}'.encode()
    headers = ManagementApiSigner(credentials, region).headers_for(
        url, f"a1b2c3.execute-api.{region}.amazonaws.com", body
    )
    assert headers["Authorization"] == _botocore_authorization(
        credentials, url, body, headers, region
    )


def test_the_day_key_follows_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    credentials = ReadOnlyCredentials("AKIDEXAMPLE", "secret", None)
    signer = ManagementApiSigner(credentials, "eu-west-1")
    url, host = "https://h.example/prod/@connections/abc%3D", "h.example"
    midnight = time.mktime((2026, 3, 1, 0, 0, 0, 0, 0, 0)) - time.timezone
    for at in (midnight - 1, midnight, midnight + 86400):
        monkeypatch.setattr(signing.time, "time", lambda at=at: at)
        headers = signer.headers_for(url, host, b"{}")
        assert headers["X-Amz-Date"] == time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(at))
        expected = _botocore_signature(credentials, url, b"{}", headers)
        assert headers["Authorization"].endswith(f"Signature={expected}")


def test_signatures_match_botocore_across_hosts_bodies_and_tokens() -> None:
    for token in (None, "session-token-value"):
        credentials = ReadOnlyCredentials("AKIDEXAMPLE", "secret", token)
        signer = ManagementApiSigner(credentials, "eu-west-1")
        cases = [
            ("abc.execute-api.eu-west-1.amazonaws.com", "/prod", b'{"n": 1}'),
            ("xyz.execute-api.eu-west-1.amazonaws.com", "/prod", b'{"n": 1}'),
            ("xyz.execute-api.eu-west-1.amazonaws.com", "/dev", b'{"n": 2}'),
            ("127.0.0.1:8001", "/production", b'{"n": 2}'),
        ]
        for host, stage, body in cases * 2:
            url = f"https://{host}{stage}/@connections/L0SM9cOFvHcCIhw%3D"
            headers = signer.headers_for(url, host, body)
            assert headers["Host"] == host
            assert headers.get("X-Amz-Security-Token") == token
            signed = headers["Authorization"].split("SignedHeaders=")[1].split(",")[0]
            assert signed == (
                "host;x-amz-date;x-amz-security-token" if token else "host;x-amz-date"
            )
            expected = _botocore_signature(credentials, url, body, headers)
            assert headers["Authorization"].endswith(f"Signature={expected}")


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_other_verbs_and_botocore_requests_are_signed_as_sigv4auth_signs(method: str) -> None:
    credentials = ReadOnlyCredentials("AKIDEXAMPLE", "secret", "token")
    host = "abc.execute-api.eu-west-1.amazonaws.com"
    url = f"https://{host}/prod/@connections/L0SM9cOFvHcCIhw%3D"
    request = AWSRequest(method=method, url=url, data=b"", headers={"Host": host})
    ManagementApiSigner(credentials, "eu-west-1").add_auth(request)
    headers = dict(request.headers.items())
    assert list(request.headers.keys()).count("Authorization") == 1
    assert headers["Authorization"] == _botocore_authorization(
        credentials, url, b"", headers, "eu-west-1", method
    )
