"""What a project's own tests need to exercise its WebSocket views without AWS.

:class:`ApiGatewayRequests` builds the HTTP calls API Gateway makes to Django (the
``$connect``, message and ``$disconnect`` integration requests, with the header set of
a real HTTP_PROXY integration) and sends them through Django's test ``Client``.

:class:`RecordingManagementApi` is a real Management API (``@connections``) on an
ephemeral port that keeps every message per connection and answers 410, 413 and 429 like
AWS; :func:`recording_management_api` starts one and points sending at it, and the
``management_api`` pytest fixture does so for one test.

The module is a pytest plugin a project opts into, in its ``conftest.py``::

    pytest_plugins = ["django_aws_api_gateway_websockets.testing"]

It is not registered globally, so installing the package changes no other test. It
imports neither Django's models nor the servers' dependencies at import time, so it
loads before Django is configured, and it works without pytest installed (the fixtures
then do not exist).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlencode

from .localgateway.connections import new_connection_id
from .localgateway.recording import RecordingManagementApi

if TYPE_CHECKING:
    from django.http import HttpResponse
    from django.test import Client

try:
    import pytest
except ImportError:  # the request builder and the recorder work without pytest
    pytest = None  # type: ignore[assignment]

__all__ = [
    "ApiGatewayRequests",
    "RecordingManagementApi",
    "new_connection_id",
    "recording_management_api",
]

BROWSER_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0 Safari/537.36"
)


class ApiGatewayRequests:
    """One WebSocket connection as API Gateway would report it to Django.

    ``path`` is the view's URL without the route slug (the gateway's
    ``target_base_endpoint`` path), e.g. ``"/ws/"``. Every call returns Django's
    response. The secret header is sent when ``WEBSOCKETS["gateway_secret"]`` is set,
    unless ``gateway_secret`` is given (``""`` sends none).
    """

    def __init__(
        self,
        client: Client | None = None,
        *,
        path: str = "/ws/",
        api_id: str = "testapi123",
        connection_id: str | None = None,
        client_ip: str = "203.0.113.7",
        host: str = "testserver",
        origin: str | None = "https://testserver",
        user_agent: str = BROWSER_USER_AGENT,
        gateway_secret: str | None = None,
    ) -> None:
        if client is None:
            from django.test import Client

            client = Client()
        self.client = client
        self.path = path if path.endswith("/") else path + "/"
        self.api_id = api_id
        self.connection_id = connection_id or new_connection_id()
        self.client_ip = client_ip
        self.host = host
        self.origin = origin
        self.user_agent = user_agent
        self.gateway_secret = gateway_secret

    # -- headers -------------------------------------------------------------------

    def _secret(self) -> str:
        if self.gateway_secret is not None:
            return self.gateway_secret
        from .conf import get_gateway_secrets

        configured = get_gateway_secrets()
        return configured[0] if configured else ""

    def integration_headers(self, user_agent: str | None = None) -> dict[str, str]:
        """The headers API Gateway's HTTP_PROXY integration sends on every route."""
        headers = {
            "Host": self.host,
            "X-Forwarded-For": self.client_ip,
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Port": "443",
            "X-Amzn-Trace-Id": f"Root=1-{secrets.token_hex(4)}-{secrets.token_hex(12)}",
            "X-Amzn-Apigateway-Api-Id": self.api_id,
            "Connectionid": self.connection_id,
            "User-Agent": user_agent or f"AmazonAPIGateway_{self.api_id}",
        }
        secret = self._secret()
        if secret:
            from .conf import GATEWAY_SECRET_HEADER

            headers[GATEWAY_SECRET_HEADER] = secret
        return headers

    def handshake_headers(self) -> dict[str, str]:
        """The browser's upgrade headers that API Gateway forwards on ``$connect``."""
        headers = {
            "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits",
        }
        if self.origin:
            headers["Origin"] = self.origin
        return headers

    # -- the three events ----------------------------------------------------------

    def _post(
        self,
        route: str,
        body: bytes,
        headers: dict[str, str],
        changes: dict[str, str | None] | None,
        query: str = "",
    ) -> HttpResponse:
        # Content-Length is one of the headers API Gateway always sends; Django's test
        # client omits it for an empty body.
        headers = _apply({**headers, "Content-Length": str(len(body))}, changes)
        url = f"{self.path}{route}" + (f"?{query}" if query else "")
        response = self.client.generic(
            "POST", url, body, content_type="application/json", headers=headers
        )
        return cast("HttpResponse", response)

    def connect(
        self,
        *,
        token: str | None = None,
        channel: str | None = None,
        query: dict[str, str] | None = None,
        headers: dict[str, str | None] | None = None,
    ) -> HttpResponse:
        """``$connect`` with the browser's handshake; the client's cookies go along.

        ``headers`` adds or replaces headers; a ``None`` value removes one.
        """
        params = dict(query or {})
        if token is not None:
            params["ws_token"] = token
        if channel is not None:
            params["channel"] = channel
        merged = {
            **self.integration_headers(user_agent=self.user_agent),
            **self.handshake_headers(),
        }
        return self._post("connect", b"", merged, headers, urlencode(params))

    def message(
        self,
        body: Any,
        *,
        route: str = "default",
        headers: dict[str, str | None] | None = None,
    ) -> HttpResponse:
        """A message: ``body`` is JSON-encoded unless it is already ``str`` or ``bytes``."""
        if isinstance(body, str):
            raw = body.encode()
        elif isinstance(body, bytes):
            raw = body
        else:
            raw = json.dumps(body).encode()
        return self._post(route, raw, self.integration_headers(), headers)

    def disconnect(self, *, headers: dict[str, str | None] | None = None) -> HttpResponse:
        return self._post("disconnect", b"", self.integration_headers(), headers)

    # -- tokens --------------------------------------------------------------------

    def login(self, user: Any) -> None:
        """Log ``user`` in on the test client (the session cookie goes with connect)."""
        self.client.force_login(user)

    def issue_token(self, user: Any) -> str:
        """Log ``user`` in if needed and return a fresh token bound to the session."""
        from django.conf import settings

        if settings.SESSION_COOKIE_NAME not in self.client.cookies:
            self.login(user)
        from .tokens import issue_token

        session_key = self.client.cookies[settings.SESSION_COOKIE_NAME].value
        return issue_token(user, session_key).token


@contextmanager
def recording_management_api(
    api: RecordingManagementApi | None = None,
) -> Iterator[RecordingManagementApi]:
    """Send every message to a recording Management API while the block runs.

    Starts one (or empties ``api``) and points ``WEBSOCKETS["management_endpoint_url"]``
    at it, keeping the project's other ``WEBSOCKETS`` keys, so that nothing in the block
    reaches a real or configured Management API. Works in ``unittest`` test cases too.
    """
    from django.test import override_settings

    from .conf import get_websockets_config

    with RecordingManagementApi() if api is None else _emptied(api) as running:
        endpoint = running.endpoint_template
        with override_settings(
            WEBSOCKETS={**get_websockets_config(), "management_endpoint_url": endpoint}
        ):
            yield running


@contextmanager
def _emptied(api: RecordingManagementApi) -> Iterator[RecordingManagementApi]:
    api.reset()
    yield api


def _apply(base: dict[str, str], changes: dict[str, str | None] | None) -> dict[str, str]:
    result = dict(base)
    for name, value in (changes or {}).items():
        for existing in [key for key in result if key.lower() == name.lower()]:
            del result[existing]
        if value is not None:
            result[name] = value
    return result


if pytest is not None:

    @pytest.fixture(autouse=True)
    def _websockets_fresh_caches() -> Iterator[None]:
        """Start every test with empty gateway and channel-permission caches.

        The views keep those rows in the process for a few seconds; a test's rolled-back
        database would otherwise leave the previous test's rows visible to the next.
        """
        from django.apps import apps

        if apps.ready:
            from . import channels, gateways

            channels.clear_cache()
            gateways.clear_cache()
        yield

    @pytest.fixture(scope="session")
    def management_api_server() -> Iterator[RecordingManagementApi]:
        """One recording Management API for the whole test session."""
        with RecordingManagementApi() as api:
            yield api

    @pytest.fixture
    def management_api(
        management_api_server: RecordingManagementApi,
    ) -> Iterator[RecordingManagementApi]:
        """The recording Management API, emptied, with all sending pointed at it.

        Open the connections your sessions use with ``management_api.connect(id)``;
        posts to any other id get 410 Gone, as in AWS.
        """
        with recording_management_api(management_api_server) as api:
            yield api
