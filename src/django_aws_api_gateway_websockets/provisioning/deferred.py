"""Run AWS changes after the database transaction that caused them has committed.

A save inside ``transaction.atomic()`` must not change AWS if the transaction rolls
back. Failures of deferred calls are logged, and collected by
:func:`collect_deferred_sync_errors` (the admin shows them) or else raised when the
transaction commits, as in 4.1.0.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import connection, transaction

from .errors import ApiGatewaySyncError

logger = logging.getLogger(__name__)
_collectors = threading.local()


def _stack() -> list[list[ApiGatewaySyncError]]:
    if not hasattr(_collectors, "stack"):
        _collectors.stack = []
    return _collectors.stack


@contextmanager
def collect_deferred_sync_errors() -> Iterator[list[ApiGatewaySyncError]]:
    """Collect the sync errors of AWS calls deferred while this block is active."""
    errors: list[ApiGatewaySyncError] = []
    _stack().append(errors)
    try:
        yield errors
    finally:
        _stack().remove(errors)


def run_aws_after_commit(operation: Callable[[], object]) -> None:
    """Run ``operation`` now outside a transaction, else once the transaction commits."""
    if not connection.in_atomic_block:
        operation()
        return
    stack = list(_stack())

    def deferred() -> None:
        try:
            operation()
        except ApiGatewaySyncError as exc:
            logger.error("Deferred AWS change failed: %s", exc)
            if not stack:
                raise  # as 4.1.0 documents: raised when the transaction commits
            for errors in stack:
                errors.append(exc)

    transaction.on_commit(deferred)
