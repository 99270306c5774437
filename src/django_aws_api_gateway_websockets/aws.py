"""boto3 sessions and clients, built once per process from the project's AWS settings.

Credential order, as in the original package: ``AWS_IAM_PROFILE``; else
``AWS_ACCESS_KEY_ID`` with ``AWS_SECRET_ACCESS_KEY``; else boto3's default chain. Unlike
the original, a profile's client is also given the configured region, when one is set,
so that it signs for the region the endpoint URLs name.

boto3 is looked up as ``models.boto3`` when a client is built, as the original's
``models`` imported it: projects' tests written for 4.1.0 replace it there.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import boto3
from botocore.config import Config
from django.conf import settings

from .conf import configured_region, get_region_name


def default_config() -> Config:
    """Timeouts and retries for control-plane calls (provisioning). A new object each
    time: botocore rewrites a config's ``retries`` in place when it builds a client."""
    return Config(
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


def boto3_library() -> Any:
    """boto3 as the original's ``models`` module names it (``models.boto3``), looked up
    at call time so that a test's replacement takes effect."""
    from . import models

    return models.boto3


def _access_keys() -> dict[str, str]:
    key_id = getattr(settings, "AWS_ACCESS_KEY_ID", None)
    secret = getattr(settings, "AWS_SECRET_ACCESS_KEY", None)
    if key_id and secret:
        return {"aws_access_key_id": key_id, "aws_secret_access_key": secret}
    return {}


def get_boto3_session() -> boto3.session.Session:
    """A boto3 session for the configured credentials and region (a profile without a
    configured region keeps the profile's own, as in the original)."""
    library = boto3_library()
    profile = getattr(settings, "AWS_IAM_PROFILE", None)
    if profile:
        region = configured_region()
        return library.Session(profile_name=profile, **({"region_name": region} if region else {}))
    return library.Session(**_access_keys(), region_name=get_region_name())


def _build_client(service: str, kwargs: dict[str, Any]) -> Any:
    """A new client, made as the original made it: from the profile's session, else from
    boto3's default session with the keys (if set) and the region."""
    if getattr(settings, "AWS_IAM_PROFILE", None):
        return get_boto3_session().client(service, **kwargs)
    options = {**_access_keys(), "region_name": get_region_name(), **kwargs}
    return boto3_library().client(service, **options)


def _cache_key(service: str, kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """Equal arguments share a client: a ``Config`` counts by its options, so a config
    made afresh for each call does not build a client each time."""
    options = []
    for name, value in sorted(kwargs.items()):
        if isinstance(value, Config):
            value = sorted(vars(value).items())
        options.append((name, repr(value)))
    return (*settings_key(), service, tuple(options))


def get_boto3_client(service: str = "apigatewayv2", **kwargs: Any) -> Any:
    """A cached client for ``service``; keyword arguments go to boto3's ``client``."""
    if "config" not in kwargs:
        kwargs["config"] = default_config()
    key = _cache_key(service, kwargs)
    with _lock:  # also covers boto3's default session, which is not safe to create twice
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = _build_client(service, kwargs)
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
