from django.apps import AppConfig

from . import metrics


class DjangoAwsApiGatewayWebsocketsConfig(AppConfig):
    name = "django_aws_api_gateway_websockets"
    verbose_name = "Django AWS ApiGateway Websockets"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the system checks and the signal receivers.
        from . import checks, presence, signals  # noqa: F401
        from .provisioning import receivers  # noqa: F401

        metrics.install()
