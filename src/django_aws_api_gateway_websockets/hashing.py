"""Keyed hashes of session keys and of users' authentication state.

Rows never hold a raw session key. Hashes are keyed with ``SECRET_KEY``; checks also
accept hashes made with any of ``SECRET_KEY_FALLBACKS``, as Django does for its own
session auth hashes, so rotating the key does not end every connection.
"""

from __future__ import annotations

import hmac
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.utils.crypto import salted_hmac

# The original package's salts: hashes stored by 4.1.0 (sessions, tokens) must keep
# matching after a switch, or every switched connection would be closed.
_SESSION_SALT = "django_aws_api_gateway_websockets.WebSocketToken.session_key"
_AUTH_SALT = "django_aws_api_gateway_websockets.WebSocketSession.auth_hash"


def _secrets() -> list[str]:
    return [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]


def _hash(salt: str, value: str, secret: str | None = None) -> str:
    return salted_hmac(salt, value, secret=secret, algorithm="sha256").hexdigest()


def hash_session_key(session_key: str) -> str:
    """64 hex characters identifying a Django session without revealing its key."""
    return _hash(_SESSION_SALT, session_key)


def session_key_hashes(session_key: str) -> list[str]:
    """The hash under the current key and under each fallback key."""
    return [_hash(_SESSION_SALT, session_key, secret) for secret in _secrets()]


def hash_user_auth(user: Any) -> str:
    """A hash that changes when the user's password changes; ``""`` if unsupported."""
    get_hash = getattr(user, "get_session_auth_hash", None)
    if get_hash is None:
        return ""
    return _hash(_AUTH_SALT, get_hash())


def user_auth_hashes(user: Any) -> list[str]:
    """The user's auth hash under the current key and each fallback; ``[]`` if the
    user model has no session auth hash."""
    return _auth_hashes(user, tuple(_secrets()))


#: Results of :func:`user_auth_matches` for users whose auth hash depends only on their
#: password (Django's own ``get_session_auth_hash``), keyed by password hash, stored
#: hash and keys: every message checks it, and two HMACs per message add up.
_matches: dict[tuple[str, str, tuple[str, ...]], bool] = {}
_MATCHES_MAX = 4096


def user_auth_matches(user: Any, stored: str) -> bool:
    """Whether ``stored`` is the user's current auth hash under any accepted key."""
    get_hash = getattr(user, "get_session_auth_hash", None)
    if get_hash is None or not stored:
        return not stored
    keys = tuple(_secrets())
    cacheable = type(
        user
    ).get_session_auth_hash is AbstractBaseUser.get_session_auth_hash and getattr(
        type(user), "_get_session_auth_hash", None
    ) is getattr(AbstractBaseUser, "_get_session_auth_hash", None)
    if cacheable:
        cache_key = (str(user.password), stored, keys)
        known = _matches.get(cache_key)
        if known is not None:
            return known
    matches = _auth_matches(user, stored, keys)
    if cacheable:
        if len(_matches) >= _MATCHES_MAX:
            _matches.clear()
        _matches[cache_key] = matches
    return matches


def _auth_matches(user: Any, stored: str, keys: tuple[str, ...]) -> bool:
    return any(hmac.compare_digest(value, stored) for value in _auth_hashes(user, keys))


def _auth_hashes(user: Any, keys: tuple[str, ...]) -> list[str]:
    get_hash = getattr(user, "get_session_auth_hash", None)
    if get_hash is None:
        return []
    # get_session_auth_hash() itself is keyed on SECRET_KEY; Django offers
    # _get_session_auth_hash(secret=...) for the fallbacks.
    inner = getattr(user, "_get_session_auth_hash", None)
    return [
        _hash(_AUTH_SALT, inner(secret=secret) if inner is not None else get_hash(), secret)
        for secret in keys
    ]
