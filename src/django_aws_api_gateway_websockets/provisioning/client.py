"""The boto3 client provisioning uses, obtained through ``models.get_boto3_client``:
the factory 4.1.0's users replace in their tests (``patch("...models.get_boto3_client")``)."""

from __future__ import annotations

from typing import Any


def boto3_client(service: str = "apigatewayv2") -> Any:
    from .. import models

    return models.get_boto3_client(service)
