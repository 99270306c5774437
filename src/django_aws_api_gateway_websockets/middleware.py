"""Middleware that lets the session which changed its own password keep its
connections, as Django keeps that session (see ``revocation``)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

from .revocation import current_request, settle_request


class LoginRevocationMiddleware:
    """Put it after ``AuthenticationMiddleware``. Without it, a password change ends
    every connection of the user, the changing session's too (its page reconnects with
    a new token)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        session = getattr(request, "session", None)
        old_session_key = session.session_key if session is not None else None
        token = current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            current_request.reset(token)
            settle_request(request, old_session_key)
