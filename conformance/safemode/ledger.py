"""What the suite created on a target: every request each answer told of, journalled per process
so that the main process can clean up after an xdist worker and count for the whole run."""

from __future__ import annotations

import contextlib
import functools
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from conformance.contract.operations import Operation
    from conformance.wire import Exchange

TERMINAL = frozenset({"Complete", "Failed", "Cancelled"})
"""Statuses a request never leaves (R14)."""


# -- what the suite created --------------------------------------------------------------------
@dataclass
class Ledger:
    """The requests one process created and what became of them, journalled as it goes."""

    journal: Path | None = None
    url: str | None = None
    embedded: bool = False
    created: dict[int, None] = field(default_factory=dict)
    terminated: set[int] = field(default_factory=set)
    outcome: dict[int, str] = field(default_factory=dict)
    """The cleanup's result per ID: ``cancelled``, ``gone``, or ``left: <why>``."""
    options: list[dict[str, str]] = field(default_factory=list)
    """Every SetOptions sent, as its members' wire texts, in order (nothing can undo one)."""
    scopes: list[str] = field(default_factory=list)
    """The broader-scoped fixtures being set up now, innermost last (their requests are theirs)."""
    owner: dict[int, str] = field(default_factory=dict)
    """Who created each request: a broader-scoped fixture's key, or ``TEST`` (the running test)."""
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    TEST: ClassVar[str] = ""

    def set_target(self, url: str, embedded: bool) -> None:
        """The target the requests live on, journalled (the audit names it for ``cleanup``);
        a password in the URL's userinfo is masked: the SOAP header carries the credentials."""
        from conformance.wire.transport import _public_url

        with self.lock:
            if self.url is None:
                self.url, self.embedded = _public_url(url), embedded
                self._journal({"target": self.url, "embedded": embedded})

    def note(self, event: str, oid: int, detail: str = "") -> None:
        """``created``, ``terminated`` (seen so), ``cleaned`` or ``left`` (with the why), or
        ``retry``: a request left by a test's cleanup is pending again, for the end of the run."""
        with self.lock:
            if event == "created":
                if oid in self.created:
                    return
                self.created[oid] = None
                self.owner[oid] = self.scopes[-1] if self.scopes else self.TEST
            elif event == "terminated":
                if oid not in self.created or oid in self.terminated:
                    return  # another client's request, or known: nothing to journal
                self.terminated.add(oid)
            elif event == "retry":
                if self.outcome.pop(oid, None) is None:
                    return
            else:
                self.outcome[oid] = detail
            self._journal({event: oid, **({"detail": detail} if detail else {})})

    def note_options(self, members: dict[str, str]) -> None:
        """A SetOptions about to be sent (journalled first: an interrupt cannot hide it)."""
        with self.lock:
            self.options.append(dict(members))
            self._journal({"options": members})

    def _journal(self, entry: dict[str, Any]) -> None:
        if self.journal is None:
            return
        with contextlib.suppress(OSError):
            self.journal.parent.mkdir(parents=True, exist_ok=True)
            with self.journal.open("a", encoding="utf-8") as out:
                out.write(json.dumps(entry) + "\n")

    def pending(self) -> list[int]:
        """Created, not seen terminated, not yet cleaned: what a cleanup must cancel."""
        with self.lock:
            return [i for i in self.created if i not in self.terminated and i not in self.outcome]

    def pending_of(self, owner: str) -> list[int]:
        """What ``owner`` (a fixture's key, or ``TEST``) created and is still to be cancelled."""
        return [i for i in self.pending() if self.owner.get(i, self.TEST) == owner]

    def observe(self, exchange: Exchange) -> None:
        """Learn from one answer: an ID created, a request seen terminated. Never raises."""
        with contextlib.suppress(Exception):
            _observe(self, exchange)

    @classmethod
    def replay(cls, path: Path) -> Ledger:
        """Another process's ledger, read back from its journal (not journalled again)."""
        ledger = cls()
        with contextlib.suppress(OSError):
            for line in path.read_text(encoding="utf-8").splitlines():
                with contextlib.suppress(ValueError, TypeError, KeyError, StopIteration):
                    entry = json.loads(line)
                    if "target" in entry:
                        ledger.set_target(str(entry["target"]), bool(entry.get("embedded")))
                        continue
                    if "options" in entry:
                        ledger.note_options({str(k): str(v) for k, v in entry["options"].items()})
                        continue
                    event = next(k for k in entry if k != "detail")
                    ledger.note(event, int(entry[event]), str(entry.get("detail", "")))
        return ledger


def _observe(ledger: Ledger, exchange: Exchange) -> None:
    from conformance.wire import (
        AddOpenMediaResponse,
        DivertOpenMediaResponse,
        GetOpenMediaResponse,
        decode_reply,
    )
    from conformance.wire.decode import body_child

    if exchange.status != 200 or not exchange.response_body:
        return
    op = _by_output().get(body_child(exchange.response_tree).tag)
    if op is None:
        return
    value = decode_reply(exchange, op).value
    if isinstance(value, AddOpenMediaResponse) and (value.open_media_id or 0) > 0:
        ledger.note("created", int(value.open_media_id or 0))
    elif isinstance(value, DivertOpenMediaResponse) and (value.open_media_id or 0) > 0:
        if value.request_status == "Success":  # a target might issue a new ID on divert
            ledger.note("created", int(value.open_media_id or 0))
    elif isinstance(value, GetOpenMediaResponse):
        for record in value.requests:
            if record.status in TERMINAL and record.id:
                ledger.note("terminated", record.id)
    elif op.name == "CancelRequest" and value is True:
        oid = _cancelled_id(exchange.request_body)
        if oid is not None:
            ledger.note("terminated", oid)


@functools.cache
def _by_output() -> dict[str, Operation]:
    from conformance.contract.operations import OPERATIONS

    return {op.output_qname: op for op in OPERATIONS}


def _cancelled_id(body: bytes) -> int | None:
    from conformance.contract.xmlsafe import parse

    for element in parse(body).iter():
        if isinstance(element.tag, str) and element.tag.endswith("}OpenMediaID"):
            return int((element.text or "").strip())
    return None
