"""BroadcastResult: per-outcome bookkeeping, and the original's list-like return value."""

from __future__ import annotations

import pytest

from django_aws_api_gateway_websockets.messaging.policy import Verdict
from django_aws_api_gateway_websockets.messaging.results import BroadcastResult, Delivery


def _result() -> BroadcastResult:
    result = BroadcastResult(skipped=2)
    result.record(Delivery(1, "a", Verdict.SENT, 1, 200))
    result.record(Delivery(2, "b", Verdict.SENT, 2, 200, uncertain=True))
    result.record(Delivery(3, "c", Verdict.GONE, 1, 410))
    result.record(Delivery(4, "d", Verdict.FAILED, 4, 429))
    result.record(Delivery(5, "e", Verdict.FAILED, 4, None, uncertain=True))
    result.record(Delivery(6, "f", Verdict.FAILED, 4, 503, uncertain=True))
    return result


def test_every_recipient_lands_in_exactly_one_outcome() -> None:
    result = _result()
    assert result.sent == ["a", "b"]
    assert result.gone == ["c"]
    assert result.failed == ["d", "e", "f"]
    assert result.recipients == 6
    assert not result.ok


def test_unanswered_failures_and_possible_duplicates_are_told_apart() -> None:
    result = _result()
    assert result.timed_out == ["e"]  # "f" got a final answer: 503, not delivered
    assert result.maybe_duplicated == ["b"]


def test_summary_is_json_ready() -> None:
    assert _result().summary() == {
        "sent": 2,
        "gone": 1,
        "failed": 3,
        "timed_out": 1,
        "skipped": 2,
        "gone_ids": ["c"],
        "failed_ids": ["d", "e", "f"],
        "timed_out_ids": ["e"],
    }


def test_behaves_like_the_original_list_of_successful_responses() -> None:
    result = _result()
    assert len(result) == 2
    assert result[0]["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert [r["ConnectionId"] for r in result] == ["a", "b"]
    assert result[-1]["ConnectionId"] == "b"
    assert [r["ConnectionId"] for r in result[0:1]] == ["a"]
    assert result
    assert not BroadcastResult()
    assert BroadcastResult() == []
    with pytest.raises(IndexError):
        result[2]


def test_merge_adds_up() -> None:
    total = BroadcastResult()
    total.merge(_result())
    total.merge(_result())
    assert total.summary()["failed"] == 6
    assert total.skipped == 4
    assert len(total) == 4
