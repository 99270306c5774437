"""Fixtures of the documentation tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from django_aws_api_gateway_websockets import channels, gateways


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    """The examples create gateways and channel rules in a rolled-back database; the
    in-process caches must not carry them into other tests."""
    gateways.clear_cache()
    channels.clear_cache()
    yield
    gateways.clear_cache()
    channels.clear_cache()
