"""What provisioning makes of AWS answers and errors, as 4.1.0 did (no AWS needed)."""

from __future__ import annotations

from botocore.exceptions import ClientError, EndpointConnectionError

from django_aws_api_gateway_websockets.provisioning.errors import describe_error
from django_aws_api_gateway_websockets.provisioning.spec import (
    integration_attributes,
    integration_differences,
)
from django_aws_api_gateway_websockets.provisioning.state import text_of

URI = "https://example.com/ws/default"


def test_errors_are_described_by_kind_and_aws_code_only():
    denied = ClientError({"Error": {"Code": "Denied", "Message": "detail"}}, "UpdateApi")
    assert describe_error(denied) == "ClientError: Denied"
    assert describe_error(RuntimeError("secret detail")) == "RuntimeError"
    assert describe_error(EndpointConnectionError(endpoint_url="https://x")) == (
        "EndpointConnectionError"
    )
    assert describe_error(ValueError("WEBSOCKETS is wrong")) == "ValueError: WEBSOCKETS is wrong"


def test_an_answer_without_type_or_parameters_differs_in_its_uri_only():
    assert integration_differences(URI, {"IntegrationId": "i", "IntegrationUri": URI}) == []
    assert integration_differences(URI, {"IntegrationUri": "https://old/"}) == [
        f"uri https://old/ -> {URI}"
    ]


def test_an_answer_with_other_type_or_parameters_differs():
    wanted = integration_attributes(URI)
    answer = {"IntegrationUri": URI, "IntegrationType": "HTTP", "RequestParameters": {}}
    assert integration_differences(URI, answer) == ["request parameters", "type HTTP -> HTTP_PROXY"]
    answer |= {"IntegrationType": "HTTP_PROXY", "RequestParameters": wanted["RequestParameters"]}
    assert integration_differences(URI, answer) == []


def test_ids_read_from_answers_are_stored_as_text():
    # 4.1.0 stored whatever a client answered as text, so a stand-in client's ids save.
    class StandIn:
        def __str__(self) -> str:
            return "r1"

    assert text_of("abc") == "abc"
    assert text_of(StandIn()) == "r1"
