"""boto3 sessions and clients, built once per process from the project's AWS settings.

Credential order, as in the original package: ``AWS_IAM_PROFILE``; else
``AWS_ACCESS_KEY_ID`` with ``AWS_SECRET_ACCESS_KEY``; else boto3's default chain. Unlike
the original, a profile's client is also given the configured region, so that it signs
for the region the endpoint URLs name.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import boto3
from botocore.config import Config
from django.conf import settings

from .conf import get_region_name

#: Timeouts and retries for control-plane calls (provisioning).
DEFAULT_CONFIG = Config(
    connect_timeout=5, read_timeout=20, retries={"max_attempts": 3, "mode": "standard"}
)

_lock = threading.Lock()
_clients: dict[tuple[Any, ...], Any] = {}


def settings_key() -> tuple[Any, ...]:
    """What a cached client or credential depends on: the process and the AWS settings."""
    return (
        os.getpid(),
        getattr(settings, "AWS_IAM_PROFILE", None),
        getattr(settings, "AWS_ACCESS_KEY_ID", None),
        getattr(settings, "AWS_SECRET_ACCESS_KEY", None),
        getattr(settings, "AWS_GATEWAY_REGION_NAME", None),
        getattr(settings, "AWS_REGION_NAME", None),
    )


def get_boto3_session() -> boto3.session.Session:
    """A boto3 session for the configured credentials and region."""
    profile = getattr(settings, "AWS_IAM_PROFILE", None)
    region = get_region_name()
    if profile:
        return boto3.session.Session(profile_name=profile, region_name=region)
    key_id = getattr(settings, "AWS_ACCESS_KEY_ID", None)
    secret = getattr(settings, "AWS_SECRET_ACCESS_KEY", None)
    if key_id and secret:
        return boto3.session.Session(
            aws_access_key_id=key_id, aws_secret_access_key=secret, region_name=region
        )
    return boto3.session.Session(region_name=region)


def get_boto3_client(service: str = "apigatewayv2", **kwargs: Any) -> Any:
    """A cached client for ``service``; keyword arguments go to ``session.client``."""
    kwargs.setdefault("config", DEFAULT_CONFIG)
    key = (*settings_key(), service, tuple(sorted((k, repr(v)) for k, v in kwargs.items())))
    with _lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = get_boto3_session().client(service, **kwargs)
        return client


def stubbed_client_exists() -> bool:
    """Whether a botocore ``Stubber`` is active on a client this module handed out (the
    stubber registers its handlers under fixed ids; botocore offers no public query)."""
    with _lock:
        clients = list(_clients.values())
    for client in clients:
        handlers = getattr(getattr(client.meta.events, "_emitter", None), "_unique_id_handlers", {})
        if "boto_stubber" in handlers:
            return True
    return False


def clear_boto3_client_cache() -> None:
    with _lock:
        _clients.clear()
