"""Settings of the demo chat: SQLite and the local gateway, nothing to install.

``demo.py`` starts Django and the local gateway together and passes the addresses it
bound through the ``DEMO_*`` environment variables. Run by hand, the defaults match
``manage.py runserver`` (port 8000) plus ``manage.py runLocalGateway`` (port 8001).
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("DEMO_SECRET_KEY", "demo-only-secret-key-do-not-use-in-production")
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_aws_api_gateway_websockets",
    "chat",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A password change keeps the connections of the session that made it.
    "django_aws_api_gateway_websockets.middleware.LoginRevocationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "demo.urls"
WSGI_APPLICATION = "demo.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DEMO_DATABASE", str(BASE_DIR / "db.sqlite3")),
        # Django's threaded server writes from several threads: wait for the lock rather
        # than fail, and take it at the start of each transaction.
        "OPTIONS": {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL;",
        },
    }
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
STATIC_URL = "/static/"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "rooms"
LOGOUT_REDIRECT_URL = "login"

# The region only names the SigV4 scope: the local gateway accepts any credentials.
AWS_GATEWAY_REGION_NAME = "us-east-1"

#: The channels of the rooms: their slugs.
ROOM_CHANNELS = r"[-a-z0-9]+"

WEBSOCKETS = {
    # Where the browser connects: the local gateway.
    "websocket_url": os.environ.get("DEMO_WEBSOCKET_URL", "ws://127.0.0.1:8001/local"),
    # Where send_message posts: the local gateway's @connections API.
    "management_endpoint_url": os.environ.get(
        "DEMO_MANAGEMENT_ENDPOINT", "http://127.0.0.1:8001/{stage}"
    ),
    # Proves that calls come from the gateway; the local gateway sends the same value.
    "gateway_secret": os.environ.get(
        "DEMO_GATEWAY_SECRET", "demo-only-gateway-secret-0123456789abcdef"
    ),
    # Every room (a channel named by the room's slug) keeps its last messages, so a page
    # shows them after a reload and gets back what it missed while it was closed...
    "history_channels": ROOM_CHANNELS,
    "history_max_messages": 500,
    # ...and knows who is in it: the Online list.
    "presence_channels": ROOM_CHANNELS,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"short": {"format": "%(asctime)s %(name)s %(message)s", "datefmt": "%H:%M:%S"}},
    "filters": {
        "redact_tokens": {"()": "django_aws_api_gateway_websockets.logfilters.RedactTokens"}
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "short"}},
    "loggers": {
        # Django's request log (the demo serves with Django's own server).
        "django.server": {
            "handlers": ["console"],
            "filters": ["redact_tokens"],
            "level": "INFO",
            "propagate": False,
        },
        "django_aws_api_gateway_websockets": {"handlers": ["console"], "level": "INFO"},
        "chat": {"handlers": ["console"], "level": "INFO"},
    },
}
