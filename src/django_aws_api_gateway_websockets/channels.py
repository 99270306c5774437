"""Channel permissions: who may join a channel, looked up without a query per connect.

``ChannelPermission`` rows change rarely and are read on every ``$connect`` and
``change_channel``, so lookups are cached in the process for a few seconds. Saving or
deleting a row (or a rule, or a rule's permissions) clears this process's cache at
once; other processes see the change within :data:`CACHE_SECONDS`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from .models import ChannelPermission, ChannelPermissionRule
from .ttlcache import TtlCache

#: How long another process may keep using a channel permission after it changed.
CACHE_SECONDS = 5.0

_cache: TtlCache[ChannelPermission | None] = TtlCache(CACHE_SECONDS)


def permission_allows(channel_permission: ChannelPermission, user: Any) -> bool:
    """Whether ``user`` may join the channel the row describes."""
    access = channel_permission.access
    if access == ChannelPermission.Access.ALLOW_ALL:
        return True
    if access not in ChannelPermission.Access.values:
        return False
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    if access == ChannelPermission.Access.STAFF_ONLY:
        return bool(user.is_staff)
    if access == ChannelPermission.Access.PERMISSIONS:
        return any(rule.is_satisfied_by(user) for rule in channel_permission.rules.all())
    return False


#: An object-level rule of a view's ``CHANNEL_RULES``: given the request (with its user)
#: and the match of the rule's pattern on the channel name, whether the user may join.
ChannelRule = Callable[[Any, "re.Match[str]"], bool]


def rule_for(
    rules: Mapping[str | re.Pattern[str], ChannelRule], channel_name: str
) -> tuple[ChannelRule, re.Match[str]] | None:
    """The first rule whose pattern matches the whole channel name, with its match."""
    for pattern, rule in rules.items():
        match = re.fullmatch(pattern, channel_name)
        if match is not None:
            return rule, match
    return None


def channel_permission_for(channel_name: str) -> ChannelPermission | None:
    """The channel's row with its rules and their permissions, or ``None``."""
    return _cache.get_or_load(
        channel_name,
        lambda: (
            ChannelPermission.objects.filter(channel_name=channel_name)
            .prefetch_related("rules__permissions__content_type")
            .first()
        ),
    )


def clear_cache() -> None:
    _cache.clear()


@receiver(post_save, sender=ChannelPermission, dispatch_uid="ws_channels_cache_save")
@receiver(post_delete, sender=ChannelPermission, dispatch_uid="ws_channels_cache_delete")
@receiver(post_save, sender=ChannelPermissionRule, dispatch_uid="ws_channels_rule_save")
@receiver(post_delete, sender=ChannelPermissionRule, dispatch_uid="ws_channels_rule_delete")
@receiver(
    m2m_changed, sender=ChannelPermissionRule.permissions.through, dispatch_uid="ws_channels_m2m"
)
def _forget(**kwargs: Any) -> None:
    clear_cache()
