"""The leak audit: what a run created, cleaned and left behind on which target, and every
SetOptions it sent (``reports/leak-audit.json``, and one line at the end of the run)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from conformance.profile import describe_options
from conformance.safemode.cleanup import CANCELLED_AFTER_TEST
from conformance.safemode.ledger import Ledger

if TYPE_CHECKING:
    pass


# -- the audit ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Audit:
    """What the run created and what it left behind (and why), over all its processes, and
    every SetOptions it sent (no cleanup can take one back, so each is listed)."""

    created: tuple[int, ...]
    cleaned: tuple[int, ...]
    left_behind: dict[int, str]
    cancelled_at_end: tuple[int, ...]
    """Cancelled by the end-of-run cleanup, the safety net: a request a test's end missed."""
    cancelled_after_test: tuple[int, ...] = ()
    """Cancelled as soon as the test (or broader fixture) that created it ended."""
    options: tuple[dict[str, str], ...] = ()
    """Every SetOptions sent, as its members' wire texts."""
    target: str | None = None
    """The URL the requests live on (what ``openmedia-conformance cleanup`` cancels them on)."""

    @classmethod
    def of(cls, ledgers: list[Ledger]) -> Audit:
        created = sorted({i for ledger in ledgers for i in ledger.created})
        outcome: dict[int, str] = {}
        for ledger in ledgers:
            outcome.update(ledger.outcome)
        done = {i for ledger in ledgers for i in ledger.terminated}
        done |= {i for i, how in outcome.items() if not how.startswith("left")}
        never = "left: never cleaned (its process was stopped first)"
        return cls(
            created=tuple(created),
            cleaned=tuple(i for i in created if i in done),
            left_behind={i: outcome.get(i, never) for i in created if i not in done},
            cancelled_at_end=tuple(i for i in created if outcome.get(i) == "cancelled"),
            cancelled_after_test=tuple(
                i for i in created if outcome.get(i) == CANCELLED_AFTER_TEST
            ),
            options=tuple(o for ledger in ledgers for o in ledger.options),
            target=next((ledger.url for ledger in ledgers if ledger.url), None),
        )

    def line(self) -> str:
        distinct = dict.fromkeys(describe_options(o) for o in self.options)
        sent = f"{len(self.options)} ({'; '.join(distinct)})" if self.options else "none"
        return (
            f"openmedia leak audit: created {len(self.created)}, cleaned {len(self.cleaned)}, "
            f"left behind: {sorted(self.left_behind)}; SetOptions sent: {sent}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.line(),
            "created": len(self.created),
            "cleaned": len(self.cleaned),
            "left_behind": sorted(self.left_behind),
            "why_left": {str(i): why for i, why in sorted(self.left_behind.items())},
            "cancelled_at_end": list(self.cancelled_at_end),
            "cancelled_after_test": list(self.cancelled_after_test),
            "created_ids": list(self.created),
            "set_options_sent": [dict(o) for o in self.options],
            "target": self.target,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Audit:
        """The audit ``as_dict`` wrote; ``ValueError``/``TypeError``/``KeyError`` if it is not
        one."""
        created = tuple(int(i) for i in data["created_ids"])
        why = {str(k): str(v) for k, v in dict(data["why_left"]).items()}
        left = {int(i): why.get(str(i), "left") for i in data["left_behind"]}
        target = data.get("target")
        if target is not None and not isinstance(target, str):
            raise TypeError(f"target is {type(target).__name__}, not a URL")
        return cls(
            created=created,
            cleaned=tuple(i for i in created if i not in left),
            left_behind=left,
            cancelled_at_end=tuple(int(i) for i in data.get("cancelled_at_end", ())),
            cancelled_after_test=tuple(int(i) for i in data.get("cancelled_after_test", ())),
            options=tuple(
                {str(k): str(v) for k, v in dict(o).items()}
                for o in data.get("set_options_sent", ())
            ),
            target=target,
        )

    def after(self, ledger: Ledger) -> Audit:
        """This audit once ``ledger``, a cleanup of what it left behind, has run."""
        outcome = {i: ledger.outcome.get(i, why) for i, why in self.left_behind.items()}
        left = {i: how for i, how in outcome.items() if how.startswith("left")}
        cleaned = tuple(i for i in self.created if i not in left)
        return replace(self, cleaned=cleaned, left_behind=left)
