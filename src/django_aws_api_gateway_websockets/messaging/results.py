"""What a send reports: every recipient as sent, gone or failed.

``BroadcastResult`` also behaves like the list the original returned (one response per
delivered message), so ``len(result)``, ``for response in result`` and ``result[0]``
keep working. Recipients are listed in the order their posts finished, not in queryset
order.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

from .. import metrics
from .policy import Verdict


@dataclass(frozen=True, slots=True)
class Delivery:
    """The end of one recipient's posts."""

    pk: int
    connection_id: str
    verdict: Verdict
    attempts: int
    #: The last HTTP status, or ``None`` when the last attempt got no answer.
    status: int | None = None
    #: An attempt got no answer in time (or its connection broke): API Gateway may have
    #: delivered that attempt, so a ``SENT`` recipient may have the message twice and a
    #: ``FAILED`` one may have it once.
    uncertain: bool = False
    #: API Gateway's id of the last request (``x-amzn-RequestId``), if it gave one.
    request_id: str = ""
    #: The client's own answer, when the post went through a boto3 client (a test
    #: double's answer as it gave it, as 4.1.0 returned it).
    response: dict[str, Any] | None = None


@dataclass(eq=False)
class BroadcastResult(Sequence[dict[str, Any]]):
    """Connection ids per outcome of a fan-out, and counts.

    ``sent``: delivered. ``gone``: API Gateway answered 410; those sessions are now
    marked disconnected. ``failed``: not delivered after every attempt. ``timed_out``:
    the subset of ``failed`` whose last attempt got no answer, so the message may have
    arrived. ``maybe_duplicated``: the subset of ``sent`` that an earlier unanswered
    attempt may also have delivered. ``skipped``: connected sessions without a gateway,
    which cannot be reached (left as they are).
    """

    sent: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    timed_out: list[str] = field(default_factory=list)
    maybe_duplicated: list[str] = field(default_factory=list)
    skipped: int = 0
    #: The client's own answers by connection id, when the posts went through a boto3
    #: client: iterating yields them, as 4.1.0's list did.
    responses: dict[str, Any] = field(default_factory=dict, repr=False)

    def record(self, delivery: Delivery) -> None:
        metrics.delivered(delivery.verdict.value, delivery.status)
        cid = delivery.connection_id
        if delivery.verdict is Verdict.SENT:
            self.sent.append(cid)
            if delivery.response is not None:
                self.responses[cid] = delivery.response
            if delivery.uncertain:
                self.maybe_duplicated.append(cid)
        elif delivery.verdict is Verdict.GONE:
            self.gone.append(cid)
        else:
            self.failed.append(cid)
            if delivery.uncertain and delivery.status is None:
                self.timed_out.append(cid)

    @property
    def recipients(self) -> int:
        """Sessions posted to (sent, gone or failed)."""
        return len(self.sent) + len(self.gone) + len(self.failed)

    @property
    def ok(self) -> bool:
        """Whether every reachable recipient got the message or is gone."""
        return not self.failed

    def summary(self) -> dict[str, Any]:
        """Counts and the ids needing attention, as JSON-ready values."""
        return {
            "sent": len(self.sent),
            "gone": len(self.gone),
            "failed": len(self.failed),
            "timed_out": len(self.timed_out),
            "skipped": self.skipped,
            "gone_ids": list(self.gone),
            "failed_ids": list(self.failed),
            "timed_out_ids": list(self.timed_out),
        }

    def merge(self, other: BroadcastResult) -> None:
        self.sent += other.sent
        self.gone += other.gone
        self.failed += other.failed
        self.timed_out += other.timed_out
        self.maybe_duplicated += other.maybe_duplicated
        self.skipped += other.skipped
        self.responses.update(other.responses)

    # The original's return value: the list of successful responses.
    def __len__(self) -> int:
        return len(self.sent)

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...
    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            return [self._response(cid) for cid in self.sent[index]]
        return self._response(self.sent[index])

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (self._response(cid) for cid in self.sent)

    def _response(self, connection_id: str) -> dict[str, Any]:
        if connection_id in self.responses:
            return self.responses[connection_id]  # type: ignore[no-any-return]
        return {"ResponseMetadata": {"HTTPStatusCode": 200}, "ConnectionId": connection_id}

    def __bool__(self) -> bool:
        return bool(self.sent)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, list):
            return list(self) == other
        if isinstance(other, BroadcastResult):
            return self.summary() == other.summary() and self.sent == other.sent
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]
