"""The one place that says where a gateway's Management API is and which region signs.

``WEBSOCKETS["management_endpoint_url"]`` (e.g. ``"http://127.0.0.1:8001/{stage}"``)
points all sending at another server, such as the local gateway.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

from ..awsnames import is_api_id, is_stage_name
from ..conf import get_management_endpoint_template, get_region_name

if TYPE_CHECKING:
    from ..models import ApiGateway

#: The region signed for when the endpoint is not AWS's and no region is configured.
LOCAL_REGION = "us-east-1"


def is_aws_endpoint(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host.endswith((".amazonaws.com", ".amazonaws.com.cn"))


def signing_region() -> str:
    """The configured region; a local endpoint also works without one."""
    try:
        return get_region_name()
    except RuntimeError:
        if is_aws_endpoint(get_management_endpoint_template()):
            raise
        return LOCAL_REGION


def management_endpoint(gateway: ApiGateway) -> str:
    """``{endpoint}`` of ``POST {endpoint}/@connections/{id}`` for ``gateway``.

    ``ValueError`` when the gateway's API id or stage is not an AWS name: they become the
    URL's host and path, so a crafted value could send the signed request elsewhere. A
    blank API id (a row not created in AWS, as tests with a replaced client factory
    register) names no host and is left as 4.1.0 left it.
    """
    template, stage = get_management_endpoint_template(), gateway.effective_stage_name
    api_id_ok = not gateway.api_id or is_api_id(gateway.api_id)
    if ("{api_id}" in template and not api_id_ok) or not is_stage_name(stage):
        raise ValueError(f"Gateway {gateway.pk} has an invalid API id or stage name.")
    return template.format(
        api_id=gateway.api_id, region=signing_region(), stage=quote(stage, safe="")
    )


def connection_url(endpoint: str, connection_id: str) -> str:
    """The URL of one connection, percent-encoded as botocore encodes URI labels."""
    return f"{endpoint}/@connections/{quote(connection_id, safe='-_.~')}"
