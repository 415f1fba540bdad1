"""Allure results of a suite run: the verdict, the evidence and the reason on each test's result.

By default a suite run writes them to ``reports/allure-results`` (``conformance.plugin.allure``
decides which runs do, and where). What this adds to allure-pytest's result of a suite test,
from the test's record (``FinishedTest``):

* the verdict: a ``verdict`` label, and the Allure status that is the verdict's own
  (``conformance.reporting.categories``: a warning is ``unknown``, never ``passed``);
* the evidence (``conformance.reporting.attachments``): a test that did not pass gets the
  request and response of every exchange it made, a passed one a compact record of them (one
  line each), and ``--om-attach-all-exchanges`` gives every test the full exchanges; passwords
  redacted, in the failure message too;
* a not-applicable test's reason (``NotApplicableReason``) as a ``tag``;
* a *flaky* test (failed, then passed on a re-run): Allure's own flaky mark. Each earlier
  attempt is written as a result of its own with the same ``historyId`` as it ends
  (``conformance.plugin.allure.close_attempt``): Allure shows them as the last one's retries.

Labels from the catalogue (``conformance.reporting.labels``) go on at collection, and
``categories.json`` and ``environment.properties`` are written when the session ends.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import allure_commons
from allure_commons.model2 import Attachment, Label, StatusDetails, TestStepResult

from conformance.reporting.attachments import ExchangeNote, compact_record, exchange_attachments
from conformance.reporting.categories import (
    MESSAGE_PREFIX,
    STATUS_BY_VERDICT,
    VERDICT_LABEL,
    status_message,
)
from conformance.verdicts import Verdict

if TYPE_CHECKING:
    from conformance.wire import Exchange

DEFAULT_RESULTS_DIR = Path("reports") / "allure-results"


def fresh_results_dir(results_dir: Path) -> None:
    """An empty ``results_dir`` for this run, as a *new* directory; subfolders (an Allure
    ``history``) are kept.

    Emptying the old directory file by file is not enough: a directory keeps the size its most
    crowded day gave it (ext4 never shrinks one), and creating some 20,000 result files in a
    directory that held them before cost about twice the time of a new one (and ~20 s of system
    CPU under ``-n 2``, measured on this project's CI machine kind).
    """
    results_dir.parent.mkdir(parents=True, exist_ok=True)
    if not results_dir.exists():
        results_dir.mkdir()
        return
    old = results_dir.with_name(f".{results_dir.name}-old-{os.getpid()}")
    results_dir.rename(old)
    results_dir.mkdir()
    for entry in old.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            entry.rename(results_dir / entry.name)
    shutil.rmtree(old, ignore_errors=True)


@dataclass(frozen=True)
class FinishedTest:
    """A suite test as it ended: its verdict, the message for it, why it was not applicable (the
    reason's wording), and its evidence: how many exchanges it made, those kept whole (numbered
    from ``first_kept``) and a note of each (as far as the notes go; the rest counted)."""

    verdict: Verdict
    message: str | None = None
    reason: str | None = None
    count: int = 0
    first_kept: int = 1
    exchanges: tuple[Exchange, ...] = ()
    notes: tuple[ExchangeNote, ...] = ()
    unlisted: Counter[str] = field(default_factory=Counter)
    """Exchanges with no note, by operation."""
    older_unlisted: Counter[str] = field(default_factory=Counter)
    """Of those, the ones not kept whole."""


def apply_verdict(
    result: Any,
    finished: FinishedTest,
    redact: Callable[[str], str],
    *,
    attach_all: bool = False,
) -> None:
    """Put the verdict, its status and message, the reason and the evidence on allure-pytest's
    result of the test (before it is written). ``redact`` masks the run's secrets."""
    result.labels.append(Label(name=VERDICT_LABEL, value=finished.verdict.value))
    if finished.reason is not None:
        result.labels.append(Label(name="tag", value=finished.reason))
    status = STATUS_BY_VERDICT.get(finished.verdict)
    if status is not None:
        result.status = status
    details = result.statusDetails or StatusDetails()
    message = finished.message if finished.message is not None else details.message
    if message is not None and finished.verdict in MESSAGE_PREFIX:
        details.message = status_message(finished.verdict, message)
    if finished.verdict is Verdict.NOT_APPLICABLE:
        details.trace = None
    details.message = _redact(details.message, finished.exchanges, redact)
    details.trace = _redact(details.trace, finished.exchanges, redact)
    if finished.verdict is Verdict.FLAKY:
        details.flaky = True  # Allure's own flaky mark (and filter)
    has_details = details.message or details.trace or details.flaky
    result.statusDetails = details if has_details else None
    if finished.verdict is Verdict.WARNING and details.message:
        # Allure 3 shows no status message for "unknown": say it as a step of the test too
        result.steps.append(
            TestStepResult(
                name=details.message.splitlines()[0],
                status=status,
                statusDetails=StatusDetails(message=details.message),
                start=result.stop,
                stop=result.stop,
            )
        )
    _attach(result, finished, redact, attach_all)


def _redact(
    text: str | None, exchanges: tuple[Exchange, ...], redact: Callable[[str], str]
) -> str | None:
    if not text:
        return text
    for exchange in exchanges:
        text = exchange.redact_text(text)
    return redact(text)


def _attach(
    result: Any, finished: FinishedTest, redact: Callable[[str], str], attach_all: bool
) -> None:
    """Full exchanges for a test that did not pass (or all, for an audit); else the compact
    record. Either way a note of the older exchanges not kept whole."""
    if not finished.count:
        return
    notes, unlisted = list(finished.notes), finished.unlisted
    if finished.verdict is Verdict.PASS and not attach_all:
        attached = [compact_record(notes, unlisted, redact)]
    else:
        first = finished.first_kept
        attached = exchange_attachments(list(finished.exchanges), redact, first=first)
        if first > 1:  # the older exchanges left only their notes (bounded memory)
            older = [n for n in notes if n.number < first]
            name = f"exchanges 1-{first - 1} (not kept whole: compact record)"
            record = compact_record(older, finished.older_unlisted, redact, name=name)
            attached.insert(0, record)
    for data in attached:
        file_name = f"{uuid.uuid4()}-attachment.{data.extension}"
        allure_commons.plugin_manager.hook.report_attached_data(body=data.body, file_name=file_name)
        result.attachments.append(Attachment(name=data.name, source=file_name, type=data.mime))
