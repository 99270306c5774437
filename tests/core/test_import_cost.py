"""Loading the app and its rows imports no AWS code: botocore and boto3 cost every
process (web workers, task workers, management commands) time and memory, and only
sends and provisioning need them."""

from __future__ import annotations

import subprocess
import sys

PROGRAM = """
import sys
from django.conf import settings

settings.configure(
    INSTALLED_APPS=[
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.sessions",
        "django_aws_api_gateway_websockets",
    ],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
)
import django

django.setup()
from django_aws_api_gateway_websockets.models import WebSocketSession  # noqa: F401

print(",".join(name for name in ("boto3", "botocore", "aiohttp") if name in sys.modules))
"""


def test_loading_the_app_and_its_models_imports_no_aws_code() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROGRAM], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "", result.stdout
