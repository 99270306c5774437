"""A local API Gateway for WebSocket APIs with HTTP_PROXY integrations.

Browsers connect to it as they would to API Gateway; it calls Django over HTTP exactly as
API Gateway does and serves the Management API (``@connections``) for Django's replies,
with AWS's limits. It imports nothing from the views: Django is only ever reached over
HTTP. The decisions live in Sans-I/O modules (``routing``, ``limits``, ``connections``,
``integration``, ``management``); ``server`` does the I/O.
"""

from .config import GatewayConfig, Limits
from .server import LocalGateway

__all__ = ["GatewayConfig", "Limits", "LocalGateway"]
