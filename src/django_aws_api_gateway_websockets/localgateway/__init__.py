"""A local API Gateway for WebSocket APIs with HTTP_PROXY integrations.

Browsers connect to it as they would to API Gateway; it calls Django over HTTP exactly as
API Gateway does and serves the Management API (``@connections``) for Django's replies,
with AWS's limits. It imports nothing from the views: Django is only ever reached over
HTTP. The decisions live in Sans-I/O modules (``routing``, ``limits``, ``connections``,
``integration``, ``management``); ``server``, ``thread`` and ``recording`` do the I/O.
"""

from __future__ import annotations

from typing import Any

from .config import Credentials, GatewayConfig, Limits

__all__ = ["Credentials", "GatewayConfig", "Limits", "LocalGateway", "RecordingManagementApi"]


def __getattr__(name: str) -> Any:
    # The servers load aiohttp; the pytest plugin imports this package at start-up.
    if name == "LocalGateway":
        from .server import LocalGateway

        return LocalGateway
    if name == "GatewayThread":
        from .thread import GatewayThread

        return GatewayThread
    if name == "RecordingManagementApi":
        from .recording import RecordingManagementApi

        return RecordingManagementApi
    raise AttributeError(name)
