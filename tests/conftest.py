"""Shared test configuration. Each area keeps its own fixtures in its folder's conftest."""

from __future__ import annotations

import os
import shutil
import socket

import pytest
from django.db import connection

# The package's test toolkit, opted into as a project would (it is no global plugin).
pytest_plugins = ["django_aws_api_gateway_websockets.testing"]


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def redis_available() -> bool:
    return _reachable("127.0.0.1", 6379)


def chromium_path() -> str | None:
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reasons = {
        "postgres": None
        if is_postgres()
        else "needs PostgreSQL: run with DATABASE_URL=postgres://postgres@127.0.0.1:5432/test",
        "redis": None if redis_available() else "needs Redis on 127.0.0.1:6379",
        "browser": None
        if chromium_path()
        else "needs Chromium (apt-get install chromium) and Playwright for Python",
    }
    for item in items:
        for marker, reason in reasons.items():
            if reason and item.get_closest_marker(marker):
                item.add_marker(pytest.mark.skip(reason=reason))
