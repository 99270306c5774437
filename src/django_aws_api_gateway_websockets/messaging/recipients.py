"""The database side of a send, run in the caller's thread: recipients read page by
page (keyset pagination, so memory stays flat however many there are), and gateway
endpoints looked up once per gateway (gone sessions are marked by ``departures``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from django.db.models import QuerySet

from ..models import ApiGateway, WebSocketSession
from .endpoint import connection_url, is_aws_endpoint, management_endpoint, signing_region

if TYPE_CHECKING:  # botocore is imported by the first send, not when the app loads
    from .signing import ManagementApiSigner

Row = tuple[int, str, "int | None"]
#: ``(pk, connection_id, url, host)``: where one session's ``@connections`` calls go.
Address = tuple[int, str, str, str]


def recipient_pages(queryset: QuerySet[WebSocketSession], size: int) -> Iterator[list[Row]]:
    """``(pk, connection_id, api_gateway_id)`` of the queryset's connected sessions,
    ``size`` at a time, in primary-key order, each session once."""
    if queryset.query.is_sliced:  # a slice cannot be filtered further; it is small anyway
        queryset = queryset.model.objects.filter(pk__in=list(queryset.values_list("pk", flat=True)))
    rows = (
        queryset.filter(connected=True)
        .order_by("pk")
        .values_list("pk", "connection_id", "api_gateway_id")
    )
    last = None
    while True:
        page = list((rows if last is None else rows.filter(pk__gt=last))[:size])
        if not page:
            return
        # A join over a multi-valued relation repeats a row; repeats are adjacent here.
        yield [row for i, row in enumerate(page) if i == 0 or row[0] != page[i - 1][0]]
        if len(page) < size:
            return
        last = page[-1][0]


class Endpoints:
    """Management API endpoints (and their hosts) by gateway id, each gateway read once
    per send."""

    def __init__(self) -> None:
        self._by_gateway: dict[int, tuple[str, str]] = {}

    def resolve(self, gateway_ids: Iterable[int | None]) -> dict[int, tuple[str, str]]:
        missing = {pk for pk in gateway_ids if pk is not None and pk not in self._by_gateway}
        if missing:
            for gateway in ApiGateway.objects.filter(pk__in=missing).only("api_id", "stage_name"):
                endpoint = management_endpoint(gateway)
                self._by_gateway[gateway.pk] = (endpoint, urlsplit(endpoint).netloc)
        return self._by_gateway

    def address(self, rows: Iterable[Row]) -> list[Address]:
        """The address of each row whose gateway is known, in order; rows without one
        (no gateway, or a deleted one) are left out."""
        rows = list(rows)
        by_gateway = self.resolve(row[2] for row in rows)
        found = []
        for pk, connection_id, gateway_id in rows:
            endpoint = by_gateway.get(gateway_id) if gateway_id is not None else None
            if endpoint is not None:
                found.append(
                    (pk, connection_id, connection_url(endpoint[0], connection_id), endpoint[1])
                )
        return found


def new_signer(endpoint: str) -> ManagementApiSigner:
    """A signer with fresh credentials (dummy ones for a local endpoint without any)."""
    from .signing import ManagementApiSigner, current_credentials

    return ManagementApiSigner(current_credentials(is_aws_endpoint(endpoint)), signing_region())
