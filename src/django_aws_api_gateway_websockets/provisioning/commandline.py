"""What the provisioning management commands share: finding the gateway and turning
failures into ``CommandError``s that say what to do next."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.management.base import CommandError

from .errors import describe_error

if TYPE_CHECKING:
    from ..models import ApiGateway


def gateway_or_error(pk: int, model: type[ApiGateway] | None = None) -> ApiGateway:
    """The row, looked up through ``model`` when given: the create commands pass the
    ``ApiGateway`` they import, as 4.1.0's commands looked rows up through theirs."""
    from ..models import ApiGateway

    model = model or ApiGateway
    try:
        return model.objects.get(pk=pk)
    except model.DoesNotExist:
        raise CommandError(f"There is no API Gateway with pk {pk}.") from None


def failed(gateway: ApiGateway, exc: BaseException) -> CommandError:
    """A failure part way: the record keeps its progress, so running again resumes."""
    return CommandError(
        f"{gateway.api_name}: {describe_error(exc)}. Progress is recorded "
        f"({gateway.provisioning_status}); run the command again to continue."
    )
