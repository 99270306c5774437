"""Work on large tables in short statements, so cleanup never holds long locks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet

#: Rows per DELETE or UPDATE statement.
BATCH_SIZE = 1000


def batches(queryset: QuerySet[Any], batch_size: int = BATCH_SIZE) -> Iterator[QuerySet[Any]]:
    """The rows of ``queryset`` in primary-key order, ``batch_size`` at a time.

    Each batch is ``queryset`` narrowed to a list of keys, so its conditions are
    checked again when the batch is acted on. Keyset paging (``pk > last``) ends
    even if the action leaves rows matching, and never revisits a row.
    """
    ordered = queryset.order_by("pk")
    last = None
    while True:
        page = ordered if last is None else ordered.filter(pk__gt=last)
        keys = list(page.values_list("pk", flat=True)[:batch_size])
        if not keys:
            return
        yield queryset.filter(pk__in=keys)
        last = keys[-1]


def delete_in_batches(queryset: QuerySet[Any], batch_size: int = BATCH_SIZE) -> int:
    """Delete the rows of ``queryset``; the number of them deleted."""
    label = queryset.model._meta.label
    return sum(batch.delete()[1].get(label, 0) for batch in batches(queryset, batch_size))


def update_in_batches(
    queryset: QuerySet[Any], values: dict[str, Any], batch_size: int = BATCH_SIZE
) -> int:
    """Update the rows of ``queryset`` with ``values``; the number of rows updated."""
    return sum(batch.update(**values) for batch in batches(queryset, batch_size))
