"""Fixtures of the messaging tests: a Management API double that all sending points at,
a gateway and sessions."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials

from django_aws_api_gateway_websockets.messaging.signing import clear_credentials_cache
from django_aws_api_gateway_websockets.models import ApiGateway, WebSocketSession

from .double import ManagementApiDouble, Post

ACCESS_KEY = "AKIDMESSAGINGTEST"
SECRET_KEY = "messaging-test-secret"


@pytest.fixture(autouse=True)
def no_credential_lookups(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Keep botocore's credential chain off the network and away from real files."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
    clear_credentials_cache()
    yield
    clear_credentials_cache()


@pytest.fixture
def management_api(settings: object) -> Iterator[ManagementApiDouble]:
    double = ManagementApiDouble(slow_seconds=0.6).start()
    settings.AWS_ACCESS_KEY_ID = ACCESS_KEY  # type: ignore[attr-defined]
    settings.AWS_SECRET_ACCESS_KEY = SECRET_KEY  # type: ignore[attr-defined]
    settings.WEBSOCKETS = {  # type: ignore[attr-defined]
        "management_endpoint_url": double.url + "/{stage}",
        "send_timeout_seconds": 0.3,
    }
    yield double
    double.stop()


@pytest.fixture
def gateway(db: None) -> ApiGateway:
    return ApiGateway.objects.create(api_name="chat", api_id="abc123", stage_name="prod")


@pytest.fixture
def make_sessions(db: None) -> Callable[..., list[WebSocketSession]]:
    def make(
        count: int, gateway: ApiGateway | None, channel: str = "general", prefix: str = "conn"
    ) -> list[WebSocketSession]:
        return WebSocketSession.objects.bulk_create(
            WebSocketSession(
                connection_id=f"{prefix}{i:05d}=", channel_name=channel, api_gateway=gateway
            )
            for i in range(count)
        )

    return make


AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[A-Z0-9]+)/(?P<day>\d{8})/(?P<region>[a-z0-9-]+)"
    r"/execute-api/aws4_request, SignedHeaders=(?P<signed>[a-z0-9;-]+), "
    r"Signature=(?P<signature>[0-9a-f]{64})"
)


def assert_signed(post: Post, access_key: str = ACCESS_KEY, secret: str = SECRET_KEY) -> None:
    """The post carries a SigV4 signature that botocore, given the secret, recomputes."""
    match = AUTHORIZATION.fullmatch(post.headers["authorization"])
    assert match, post.headers["authorization"]
    assert match["key"] == access_key
    assert match["region"] == "eu-west-1"
    amz_date = post.headers["x-amz-date"]
    assert re.fullmatch(r"\d{8}T\d{6}Z", amz_date)
    assert match["day"] == amz_date[:8]
    signed = match["signed"].split(";")
    assert {"host", "x-amz-date"} <= set(signed)
    request = AWSRequest(
        method="POST",
        url=f"http://{post.headers['host']}{post.raw_path}",
        data=post.body,
        headers={name: post.headers[name] for name in signed},
    )
    request.context["timestamp"] = amz_date
    signer = SigV4Auth(ReadOnlyCredentials(access_key, secret, None), "execute-api", "eu-west-1")
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    assert match["signature"] == expected
