"""Turning the caller's data into the bytes API Gateway delivers, once per send."""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from ..models import MAX_MESSAGE_SIZE


def encode_message(data: Any) -> bytes:
    """``data`` as UTF-8 JSON; ``ValueError`` when API Gateway would refuse it (over 128 KB)."""
    body = json.dumps(data, cls=DjangoJSONEncoder).encode()
    if len(body) > MAX_MESSAGE_SIZE:
        raise ValueError(
            f"Message exceeds AWS limit: {len(body)} bytes of UTF-8 JSON, API Gateway "
            f"accepts at most {MAX_MESSAGE_SIZE}."
        )
    return body


def serialise_message(data: Any) -> str:
    """The original's helper: the JSON text of ``data``, size-checked."""
    return encode_message(data).decode()
