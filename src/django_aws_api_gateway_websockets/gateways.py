"""Gateways by API id, cached in the process so that no event pays a lookup query.

Every integration call names its API id; the gateway row (and the URL slugs of its
additional routes) is read once and kept for :data:`CACHE_SECONDS`. Saving or deleting
a gateway or a route clears this process's entry at once; other processes pick up the
change within the TTL. Unknown ids are not cached, so a new gateway is found at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import ApiGateway, ApiGatewayAdditionalRoute
from .ttlcache import TtlCache

#: How long another process may keep using a gateway row after it changed.
CACHE_SECONDS = 30.0


@dataclass(frozen=True)
class KnownGateway:
    gateway: ApiGateway
    #: URL slugs and route keys of the gateway's additional routes.
    route_slugs: frozenset[str]


_cache: TtlCache[KnownGateway | None] = TtlCache(CACHE_SECONDS)


def route_slug(integration_url: str) -> str:
    """The last path segment of an integration URL (the view's ``route`` slug)."""
    segments = [part for part in urlsplit(integration_url).path.split("/") if part]
    return segments[-1] if segments else ""


def known_gateway(api_id: str) -> KnownGateway | None:
    """The gateway with this API id and its additional route slugs, or ``None``."""
    if not api_id:
        return None
    return _cache.get_or_load(api_id, lambda: _load(api_id), keep_none=False)


def _load(api_id: str) -> KnownGateway | None:
    gateway = ApiGateway.objects.filter(api_id=api_id).first()
    if gateway is None:
        return None
    routes = ApiGatewayAdditionalRoute.objects.filter(api_gateway=gateway).values_list(
        "route_key", "integration_url"
    )
    slugs = frozenset(name for key, url in routes for name in (key, route_slug(url)) if name)
    return KnownGateway(gateway=gateway, route_slugs=slugs)


def clear_cache() -> None:
    _cache.clear()


@receiver(post_save, sender=ApiGateway, dispatch_uid="ws_gateways_cache_save")
@receiver(post_delete, sender=ApiGateway, dispatch_uid="ws_gateways_cache_delete")
@receiver(post_save, sender=ApiGatewayAdditionalRoute, dispatch_uid="ws_gateways_route_save")
@receiver(post_delete, sender=ApiGatewayAdditionalRoute, dispatch_uid="ws_gateways_route_delete")
def _forget(**kwargs: Any) -> None:
    clear_cache()
