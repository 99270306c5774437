"""The names of 4.1.0's ``models`` and ``admin`` modules that provisioning uses, looked
up there at call time: they are the seams 4.1.0's users replace in their tests
(``patch("django_aws_api_gateway_websockets.models.get_boto3_client")``,
``models.run_aws_after_commit`` to run deferred AWS calls at once, ``admin.messages``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def boto3_client(service: str = "apigatewayv2") -> Any:
    from .. import models

    if service == "apigatewayv2":  # asked for as 4.1.0 asked: ``get_boto3_client()``
        return models.get_boto3_client()
    return models.get_boto3_client(service)


def after_commit(operation: Callable[[], Any]) -> Any:
    from .. import models

    return models.run_aws_after_commit(operation)


def admin_messages() -> Any:
    """``django.contrib.messages``, as the admin module names it."""
    from .. import admin

    return admin.messages
