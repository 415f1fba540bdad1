"""The status modules' shared helpers: TimeStamps kept as written, answers read, lives sound.

The suite's R12 checks feed a target's own TimeStamp back verbatim; if the helper lost the
seventh fraction digit of a .NET target, a conforming target would be failed for repeating an
event. These tests pin that down on the golden WCF-shaped responses, and check the table of
lives the six status modules rely on.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from conformance.checks.status import Stamp, latest_by_id, read_answer
from conformance.contract.operations import operation
from conformance.profile import CONTROL_FEATURES
from conformance.suite_support.lives import LIVES, TERMINAL, life_params
from conformance.suite_support.status_queries import history_reply
from conformance.verdicts import ConformanceFailure
from conformance.wire.decode import decode_reply
from conformance.wire.encode import build_envelope
from conformance.wire.exchange import Exchange
from conformance.wire.values import OpenMediaRequest, Reply

GOLDEN = Path(__file__).parent / "golden"
UTC = timezone.utc
OP = "GetOpenMediaRequestStatusByID"


def golden(name: str, op: str = OP) -> Reply:
    exchange = Exchange(
        op, "POST", "http://127.0.0.1:1/OpenMediaService", (), b"", 200, "OK",
        (("Content-Type", "text/xml; charset=utf-8"),), (GOLDEN / name).read_bytes(), 0.0,
    )  # fmt: skip
    return decode_reply(exchange, op)


def test_stamps_keep_the_text_the_target_wrote() -> None:
    answer = read_answer(golden("status_ok.xml"), "EVT-RESPONSE-TIMESTAMP")
    assert [s.text for s in answer.record_stamps if s] == [
        "2026-11-27T10:00:00.1234567Z",
        "2026-11-27T10:00:01+00:00",
    ]
    assert answer.stamp.text == "2026-11-27T10:00:02.000001Z"
    assert answer.stamp.moment == datetime(2026, 11, 27, 10, 0, 2, 1, tzinfo=UTC)
    assert all(s is not None and s.is_utc for s in answer.record_stamps)
    assert answer.statuses(7) == ["Queued", "AllocatedToAgent"]
    assert answer.of(8) == ()


def test_a_local_offset_is_not_utc() -> None:
    answer = read_answer(golden("status_offset.xml"), "EVT-RESPONSE-TIMESTAMP")
    assert not answer.stamp.is_utc
    assert answer.stamp.moment == datetime(2026, 11, 27, 10, 0, 2, 1, tzinfo=UTC)


def test_a_fault_is_a_conformance_failure() -> None:
    with pytest.raises(ConformanceFailure) as caught:
        read_answer(golden("fault_invalid_user.xml"), "STA-LATEST")
    assert caught.value.requirement == "STA-LATEST"


class _Recorder:
    """Stands in for OpenMediaClient.call: builds the envelope that would go out."""

    def __init__(self) -> None:
        self.sent = b""

    def call(self, op: str, params: Any, *, raw_members: Any = False) -> Any:
        self.sent = build_envelope(operation(op), params, raw_members=raw_members)
        return None


def test_a_stamp_goes_back_verbatim() -> None:
    recorder = _Recorder()
    stamp = Stamp("2026-11-27T10:00:00.1234567Z", datetime(2026, 11, 27, 10, tzinfo=UTC))
    history_reply(recorder, 7, stamp)
    assert b">2026-11-27T10:00:00.1234567Z</" in recorder.sent
    assert b"<openMediaID>7</openMediaID>" in recorder.sent


def _record(oid: int, status: str, second: int) -> OpenMediaRequest:
    moment = datetime(2026, 11, 27, 10, 0, second, tzinfo=UTC)
    return OpenMediaRequest(0, oid, "", 0, 10, status, 0, moment)


def test_latest_by_id_goes_by_timestamp_then_document_order() -> None:
    records = (
        _record(1, "Cancelled", 5),
        _record(1, "Queued", 1),
        _record(2, "Queued", 3),
        _record(2, "AllocatedToAgent", 3),
    )
    reply = golden("status_ok.xml")
    answer = read_answer(reply, "STA-LATEST")
    latest = latest_by_id(type(answer)(records, (None,) * 4, answer.stamp, reply))
    assert latest[1].status == "Cancelled"
    assert latest[2].status == "AllocatedToAgent"


@pytest.mark.parametrize("name", sorted(LIVES))
def test_every_life_starts_queued_and_needs_only_known_features(name: str) -> None:
    life = LIVES[name]
    assert life.statuses[0] == "Queued"
    assert set(life.features) <= set(CONTROL_FEATURES)
    assert all(status not in TERMINAL for status in life.statuses[:-1])
    if "AllocatedToAgent" in life.statuses:
        assert "agents" in life.features


def test_life_params_carry_their_features() -> None:
    (param,) = life_params("failed-router-processing")
    marks = [m for m in param.marks if m.name == "requires_control"]
    assert marks and set(marks[0].args) == {"agents", "router"}
    (plain,) = life_params("queued")
    assert not [m for m in plain.marks if m.name == "requires_control"]
