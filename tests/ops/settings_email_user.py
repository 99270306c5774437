"""The test settings with a custom user model that has no ``username``."""

from tests.settings import *  # noqa: F403
from tests.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.ops.emailuser"]
AUTH_USER_MODEL = "emailuser.EmailUser"
ROOT_URLCONF = "tests.ops.urls"
