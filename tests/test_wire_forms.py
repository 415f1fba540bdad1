"""Every legitimate wire form passes the checks; the same answer with its contract broken fails.

The golden responses in fixtures/responses are whole HTTP answers (status line, headers, body,
chunked framing and all), each in a form a conforming SOAP 1.1 server may choose: another
stack's prefixes, UTF-16, no charset, HTTP/1.0, chunked transfer, seven fraction digits, a fault
detail with extra content (docs/wire-forms.md). A loopback server sends each byte for byte, the
suite's own transport reads it, and both the checks (``check_exchange``, the suite's
``expect_content_type``) and the decoder must accept it: a false failure on a correct server is
the worst defect. Each is then mutated at one point of the contract, and the checks must fail it
with the requirement the index names, so the tolerance is not blindness.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

from conformance.checks import check_exchange
from conformance.suite.wire_support import expect_content_type
from conformance.verdicts import ConformanceFailure
from conformance.wire.decode import decode_reply
from conformance.wire.exchange import Exchange
from conformance.wire.transport import Transport
from tests.hostile.servers import HostileServer, answer

RESPONSES = Path(__file__).parent.parent / "fixtures" / "responses"


@dataclass(frozen=True)
class Golden:
    file: str
    operation: str
    forms: str
    mutate: tuple[str, str]
    fails: str

    @property
    def raw(self) -> bytes:
        return (RESPONSES / self.file).read_bytes()

    def mutated(self) -> bytes:
        old, new = self.mutate
        if old.encode() in self.raw:
            assert len(old) == len(new) or b"chunked" not in self.raw.lower()
            return self.raw.replace(old.encode(), new.encode(), 1)
        head, _, body = self.raw.partition(b"\r\n\r\n")  # a UTF-16 body: mutate its text
        assert old.encode("utf-16-le") in body, f"{self.file}: {old!r} is not in it"
        return head + b"\r\n\r\n" + body.replace(old.encode("utf-16-le"), new.encode("utf-16-le"))


GOLDENS = [
    Golden(**{**entry, "mutate": tuple(entry["mutate"])})
    for entry in tomllib.loads((RESPONSES / "index.toml").read_text())["response"]
]


def replayed(raw: bytes, operation: str) -> Exchange:
    """The answer as the suite's transport reads it from a real socket."""
    with HostileServer(answer(raw)) as server, Transport(timeout_s=10) as transport:
        return transport.request(
            "POST", server.url, b"<x/>", (("Content-Type", "text/xml; charset=utf-8"),),
            operation=operation,
        )  # fmt: skip


def test_every_golden_is_listed_once() -> None:
    listed = sorted(golden.file for golden in GOLDENS)
    assert listed == sorted(path.name for path in RESPONSES.glob("*.http"))


@pytest.mark.parametrize("golden", GOLDENS, ids=lambda golden: golden.file)
def test_a_legitimate_form_passes_every_check(golden: Golden) -> None:
    exchange = replayed(golden.raw, golden.operation)
    check_exchange(exchange, golden.operation)
    expect_content_type(exchange)
    reply = decode_reply(exchange, golden.operation)
    assert (reply.fault is not None) == (exchange.status == 500), reply
    assert reply.fault is not None or reply.value is not None, reply


def test_seven_fraction_digits_nil_and_empty_are_read_as_written() -> None:
    golden = next(g for g in GOLDENS if g.file == "chunked-times-nil-no-charset.http")
    value = decode_reply(replayed(golden.raw, golden.operation), golden.operation).value
    assert [record.logon_id for record in value.requests] == [None, "5001", ""]
    assert value.timestamp.lexical == "2026-11-27T10:00:02.1234567Z"


@pytest.mark.parametrize("golden", GOLDENS, ids=lambda golden: golden.file)
def test_the_same_form_with_the_contract_broken_fails(golden: Golden) -> None:
    exchange = replayed(golden.mutated(), golden.operation)
    with pytest.raises(ConformanceFailure) as failure:
        check_exchange(exchange, golden.operation)
    assert failure.value.requirement == golden.fails, failure.value
