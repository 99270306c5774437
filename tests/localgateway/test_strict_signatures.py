"""Strict mode: ``@connections`` signatures verified as AWS verifies them.

AWS answers 403 ``InvalidSignatureException`` for a signature its key does not produce,
and for a request more than five minutes from its ``X-Amz-Date`` ("a request must reach
AWS within five minutes of the time stamp in the request":
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_aws-signing.html; the message
is "Signature expired: <date> is now earlier than <now - 5 min> (<now> - 5 min.)",
https://github.com/boto/botocore/issues/149).
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime, timezone
from urllib.parse import urlsplit

import aiohttp
import pytest
import websockets
from botocore.credentials import ReadOnlyCredentials
from botocore.exceptions import ClientError

from django_aws_api_gateway_websockets.localgateway.config import Credentials
from django_aws_api_gateway_websockets.localgateway.sigv4 import MISMATCH, verify
from django_aws_api_gateway_websockets.messaging.signing import ManagementApiSigner
from tests.localgateway.helpers import (
    ACCESS_KEY,
    CREDENTIALS,
    management_client,
    running,
    sigv4_headers,
)
from tests.localgateway.test_server import call, error_code, run

NOW = datetime(2026, 11, 30, 12, 0, 0, tzinfo=timezone.utc).timestamp()
URL = "http://gateway.test/local/@connections/abc%3D"
TARGET = "/local/@connections/abc%3D"


def amz(seconds_from_now: float) -> str:
    moment = datetime.fromtimestamp(NOW + seconds_from_now, tz=timezone.utc)
    return moment.strftime("%Y%m%dT%H%M%SZ")


def check(headers: dict[str, str], body: bytes = b"hi", credentials=CREDENTIALS):
    lower = {"host": "gateway.test"}  # what the HTTP client adds when it sends the request
    lower.update({name.lower(): value for name, value in headers.items()})
    return verify("POST", TARGET, lower, body, credentials, NOW)


def test_a_correct_signature_verifies_within_the_five_minute_window():
    for skew in (0, -299, 299):
        assert check(sigv4_headers("POST", URL, b"hi", amz_date=amz(skew))) is None


def test_a_wrong_secret_is_an_invalid_signature():
    headers = sigv4_headers("POST", URL, b"hi", secret="not-the-secret", amz_date=amz(0))
    assert check(headers) == ("InvalidSignatureException", MISMATCH)


def test_a_zero_signature_dated_2000_is_refused():
    headers = {
        "Host": "gateway.test",
        "X-Amz-Date": "20000101T000000Z",
        "Authorization": f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/20000101/us-east-1/"
        "execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + "0" * 64,
    }
    kind, message = check(headers)
    assert kind == "InvalidSignatureException"
    assert message.startswith("Signature expired: 20000101T000000Z is now earlier than")


@pytest.mark.parametrize(
    ("skew", "start"),
    [
        (-301, "Signature expired: "),
        (301, "Signature not yet current: "),
    ],
)
def test_a_date_beyond_the_clock_skew_is_refused(skew, start):
    kind, message = check(sigv4_headers("POST", URL, b"hi", amz_date=amz(skew)))
    assert kind == "InvalidSignatureException"
    assert message.startswith(start + amz(skew))
    assert message.endswith("5 min.)")


def test_a_changed_body_an_unknown_key_and_another_region_are_refused():
    headers = sigv4_headers("POST", URL, b"hi", amz_date=amz(0))
    assert check(headers, body=b"changed") == ("InvalidSignatureException", MISMATCH)
    other_key = Credentials("AKIDSOMEONEELSE", "local", "us-east-1")
    assert check(headers, credentials=other_key)[0] == "UnrecognizedClientException"
    other_region = Credentials(ACCESS_KEY, "local", "eu-west-1")
    assert check(headers, credentials=other_region)[0] == "InvalidSignatureException"


def test_the_packages_own_signer_verifies():
    signer = ManagementApiSigner(ReadOnlyCredentials(ACCESS_KEY, "local", None), "us-east-1")
    url = "http://127.0.0.1:8001/local/@connections/abc%3D"
    headers = signer.headers_for(url, urlsplit(url).netloc, b'{"n": 1}')
    lower = {name.lower(): value for name, value in headers.items()}
    assert verify("POST", urlsplit(url).path, lower, b'{"n": 1}', CREDENTIALS, time.time()) is None


def test_the_gateway_answers_403_invalid_signature_like_aws_and_200_when_right():
    async def scenario():
        async with running() as (gateway, fake), websockets.connect(gateway.url) as ws:
            connection_id = (await fake.wait_for("connect")).headers["connectionId"]
            wrong = management_client(gateway.management_endpoint, secret="wrong")
            with pytest.raises(ClientError) as refused:
                await call(wrong.post_to_connection, ConnectionId=connection_id, Data=b"x")
            url = f"{gateway.management_endpoint}/@connections/{connection_id}"
            stale = sigv4_headers("POST", url, b"y", amz_date="20000101T000000Z")
            async with aiohttp.ClientSession() as http:
                response = await http.post(url, data=b"y", headers=stale)
                stale_answer = response.status, await response.json()
            right = management_client(gateway.management_endpoint)
            await call(right.post_to_connection, ConnectionId=connection_id, Data=b"z")
            return refused.value, stale_answer, await asyncio.wait_for(ws.recv(), 5)

    refused, (stale_status, stale_body), delivered = run(scenario())
    assert refused.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert error_code(refused) == "InvalidSignatureException"
    assert refused.response["Error"]["Message"] == MISMATCH
    assert stale_status == 403
    assert stale_body["message"].startswith("Signature expired: 20000101T000000Z")
    assert delivered == "z"  # only the correctly signed post arrived


def test_without_credentials_any_well_formed_signature_is_accepted():
    """The opt-in: ``runLocalGateway`` without ``--verify-signatures`` checks the shape only."""

    async def scenario():
        async with (
            running(credentials=None) as (gateway, fake),
            websockets.connect(gateway.url) as ws,
        ):
            connection_id = (await fake.wait_for("connect")).headers["connectionId"]
            wrong = management_client(gateway.management_endpoint, secret="wrong")
            await call(wrong.post_to_connection, ConnectionId=connection_id, Data=b"x")
            return json.dumps(await asyncio.wait_for(ws.recv(), 5))

    assert run(scenario()) == '"x"'
