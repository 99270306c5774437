"""Promises that must hold under concurrency, on PostgreSQL with real connections.

Each thread has its own database connection and waits at a barrier, so the statements
really race. (The original admitted 28-39 of 60 simultaneous connects at a limit of 20.)
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from django_aws_api_gateway_websockets.models import ApiGateway, WebSocketSession, WebSocketToken
from django_aws_api_gateway_websockets.testing import ApiGatewayRequests
from django_aws_api_gateway_websockets.tokens import consume_token, issue_token

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` in ``count`` threads released at the same moment."""
    barrier = threading.Barrier(count)

    def run(index: int) -> Any:
        try:
            connection.ensure_connection()
            barrier.wait(timeout=30)
            return work(index)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def test_fifty_consumers_of_one_token_exactly_one_wins(django_user_model):
    user = django_user_model.objects.create_user("racer", password="pw")
    raw = issue_token(user, "the-session").token
    results = race(50, lambda _: consume_token(raw, "the-session", 60))
    assert sum(result is not None for result in results) == 1
    assert WebSocketToken.objects.get().used


def test_fifty_connects_with_one_token_exactly_one_wins(client, django_user_model):
    """Through the view, where spending the token is one write of a transaction that
    holds the token's row until it commits (or gives it back by rolling back)."""
    gateway = ApiGateway.objects.create(api_name="race", api_id="raceapi002")
    user = django_user_model.objects.create_user("racer", password="pw")
    token = ApiGatewayRequests(client, api_id=gateway.api_id).issue_token(user)

    def connect(index: int) -> int:
        other = Client()
        other.cookies = client.cookies
        ws = ApiGatewayRequests(other, api_id=gateway.api_id, client_ip=f"198.51.100.{index}")
        return ws.connect(token=token).status_code

    statuses = race(50, connect)
    assert statuses.count(200) == 1
    assert statuses.count(400) == 49
    assert WebSocketSession.objects.count() == 1
    assert WebSocketToken.objects.get().used


def test_sixty_connects_from_one_ip_with_a_limit_of_twenty(settings):
    settings.WEBSOCKETS = {"rate_limit_max_attempts": 20}
    gateway = ApiGateway.objects.create(api_name="race", api_id="raceapi001")

    def connect(index: int) -> int:
        ws = ApiGatewayRequests(
            Client(), path="/ws-open/", api_id=gateway.api_id, client_ip="198.51.100.77"
        )
        return ws.connect().status_code

    statuses = race(60, connect)
    assert statuses.count(200) == 20
    assert statuses.count(400) == 40
    assert WebSocketSession.objects.count() == 20
