"""A moto server (server mode, real HTTP) for the provisioning tests, and helpers to
inject AWS failures through botocore's event hooks."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

from django_aws_api_gateway_websockets.aws import clear_boto3_client_cache, get_boto3_client
from django_aws_api_gateway_websockets.models import ApiGateway

from . import moto_extras

REGION = "eu-west-1"


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    moto_extras.install()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws(moto_url: str, monkeypatch: pytest.MonkeyPatch, settings: Any) -> Iterator[str]:
    """Every boto3 client of the package talks to the moto server, which starts empty."""
    urllib.request.urlopen(urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST"))
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    settings.AWS_GATEWAY_REGION_NAME = REGION
    clear_boto3_client_cache()
    yield moto_url
    clear_boto3_client_cache()


@pytest.fixture
def apigw(aws: str) -> Any:
    """The package's own cached apigatewayv2 client (the one provisioning uses)."""
    return get_boto3_client("apigatewayv2")


@pytest.fixture
def reader(aws: str) -> Any:
    """A separate client for reading back what was created."""
    return boto3.client("apigatewayv2", region_name=REGION, endpoint_url=aws)


@pytest.fixture
def route53(aws: str) -> Any:
    return boto3.client("route53", region_name=REGION, endpoint_url=aws)


class FailOnce:
    """Make the next call of one operation fail with an AWS error, once."""

    def __init__(self, client: Any, operation: str, code: str = "TooManyRequestsException"):
        self.client, self.operation, self.code, self.fired = client, operation, code, False
        self.event = f"before-call.{client.meta.service_model.service_name}.{operation}"
        client.meta.events.register(self.event, self)

    def __call__(self, **kwargs: Any) -> None:
        if not self.fired:
            self.fired = True
            error = {"Error": {"Code": self.code, "Message": "injected"}}
            raise ClientError(error, self.operation)

    def remove(self) -> None:
        self.client.meta.events.unregister(self.event, self)


@pytest.fixture
def fail_once() -> Iterator[Any]:
    hooks: list[FailOnce] = []

    def install(client: Any, operation: str, code: str = "TooManyRequestsException") -> FailOnce:
        hooks.append(FailOnce(client, operation, code))
        return hooks[-1]

    yield install
    for hook in hooks:
        hook.remove()


@pytest.fixture
def gateway(db: Any) -> ApiGateway:
    return ApiGateway.objects.create(
        api_name="Chat API",
        api_description="chat",
        target_base_endpoint="https://www.example.com/ws/",
        stage_name="production",
        stage_description="first",
        tags={"team": "web"},
    )
