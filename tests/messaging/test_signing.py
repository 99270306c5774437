"""The signer remembers what does not change between requests; its signatures stay
exactly botocore's."""

from __future__ import annotations

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials

from django_aws_api_gateway_websockets.messaging.signing import ManagementApiSigner


def _botocore_signature(
    credentials: ReadOnlyCredentials, url: str, body: bytes, headers: dict[str, str]
) -> str:
    request = AWSRequest(method="POST", url=url, data=body, headers=dict(headers))
    del request.headers["Authorization"]
    request.context["timestamp"] = headers["X-Amz-Date"]
    signer = SigV4Auth(credentials, "execute-api", "eu-west-1")
    canonical = signer.canonical_request(request)
    return signer.signature(signer.string_to_sign(request, canonical), request)


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
