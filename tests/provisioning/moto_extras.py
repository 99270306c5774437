"""Operations that moto's apigatewayv2 lacks, added to the moto server for these tests.

moto 5.x has no deployments, no ``GetRouteResponses``, and echoes a domain's
configuration without the output fields AWS adds (``ApiGatewayDomainName``,
``HostedZoneId``, ``DomainNameStatus``). These additions are served by the same moto
server over HTTP, so boto3 serialises, signs and parses the calls for real, and
botocore validates every request against the real service model.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import Any

from moto.apigatewayv2 import models as moto_models
from moto.apigatewayv2 import urls as moto_urls
from moto.apigatewayv2.responses import ApiGatewayV2Response

#: What AWS answers for API Gateway's regional endpoints' hosted zone (illustrative).
API_GATEWAY_ZONE = "ZLY8HYME6SFDD"

_deployments: dict[str, dict[str, dict[str, Any]]] = {}


def _api_id(path: str, index: int) -> str:
    return path.split("/")[index]


def create_deployment(self: ApiGatewayV2Response) -> Any:
    api_id = _api_id(self.path, -2)
    self.apigatewayv2_backend.get_api(api_id)  # 404 for an unknown API
    params = json.loads(self.body or "{}")
    deployment = {
        "deploymentId": uuid.uuid4().hex[:10],
        "deploymentStatus": "DEPLOYED",
        "createdDate": datetime.now(timezone.utc).isoformat(),
        "description": params.get("description", ""),
        "autoDeployed": False,
    }
    _deployments.setdefault(api_id, {})[deployment["deploymentId"]] = deployment
    return 201, {}, json.dumps(deployment)


def get_deployments(self: ApiGatewayV2Response) -> Any:
    api_id = _api_id(self.path, -2)
    self.apigatewayv2_backend.get_api(api_id)
    return 200, {}, json.dumps({"items": list(_deployments.get(api_id, {}).values())})


def get_deployment(self: ApiGatewayV2Response) -> Any:
    api_id = _api_id(self.path, -3)
    deployment = _deployments.get(api_id, {}).get(self.path.split("/")[-1])
    if deployment is None:
        body = {"message": "Invalid Deployment identifier specified"}
        return 404, {"x-amzn-errortype": "NotFoundException"}, json.dumps(body)
    return 200, {}, json.dumps(deployment)


def get_route_responses(self: ApiGatewayV2Response) -> Any:
    route = self.apigatewayv2_backend.get_route(_api_id(self.path, -4), self.path.split("/")[-2])
    items = [response.to_json() for response in route.route_responses.values()]
    return 200, {}, json.dumps({"items": items})


_original_domain_init = moto_models.DomainName.__init__


def _domain_init(self: Any, *args: Any, **kwargs: Any) -> None:
    _original_domain_init(self, *args, **kwargs)
    region = kwargs["backend"].region_name
    for configuration in self.domain_name_configurations:
        configuration.setdefault(
            "apiGatewayDomainName", f"d-{uuid.uuid4().hex[:10]}.execute-api.{region}.amazonaws.com"
        )
        configuration.setdefault("hostedZoneId", API_GATEWAY_ZONE)
        configuration.setdefault("domainNameStatus", "AVAILABLE")


def install() -> None:
    """Add the missing operations; call before the moto server answers its first call."""
    ApiGatewayV2Response.create_deployment = create_deployment  # type: ignore[attr-defined]
    ApiGatewayV2Response.get_deployments = get_deployments  # type: ignore[attr-defined]
    ApiGatewayV2Response.get_deployment = get_deployment  # type: ignore[attr-defined]
    ApiGatewayV2Response.get_route_responses = get_route_responses  # type: ignore[attr-defined]
    moto_models.DomainName.__init__ = _domain_init  # type: ignore[method-assign]
    dispatch = ApiGatewayV2Response.dispatch
    moto_urls.url_paths.update(
        {
            "{0}/v2/apis/(?P<api_id>[^/]+)/deployments$": dispatch,
            "{0}/v2/apis/(?P<api_id>[^/]+)/deployments/(?P<deployment_id>[^/]+)$": dispatch,
        }
    )
