"""A throwaway Django project for scripts/switch_from_original.sh.

The same settings serve the original 4.1.0 and this package, so that both see one
database exactly as a user's project would. The database comes from the environment.
"""

import os

SECRET_KEY = "switch-check-only-not-a-secret-0123456789abcdef"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django_aws_api_gateway_websockets",
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ["SWITCH_DB"],
        "USER": os.environ.get("PGUSER", "postgres"),
        "HOST": os.environ.get("PGHOST", "127.0.0.1"),
        "PORT": os.environ.get("PGPORT", "5432"),
    }
}
AWS_GATEWAY_REGION_NAME = "eu-west-1"
# Nothing here may reach AWS: saving rows must not try to sync them.
WEBSOCKETS = {"push_changes_to_aws": False}
