"""What a failure prints so that a user can reproduce it alone, and where the rule is written.

Every *fail* and *error* of a suite test gets a report section (``openmedia reproduce``) with:

* the requirement(s) at stake, with the section of the description (title, chapter, heading)
  and the requirement's own text, so nobody has to open the catalogue to know what broke;
* the command that re-runs just that test with the same target options (and the run's
  Hypothesis seed; the ``@reproduce_failure`` blob when Hypothesis printed one);
* a ``curl`` command that replays the exact SOAP request. The password is never printed: the
  command reads it from ``$OPENMEDIA_PASSWORD`` instead, so it is replayable but not leaked.

Pure text functions: the plugin hooks (``conformance.plugin.summary``) call them.
"""

from __future__ import annotations

import html
import re
import shlex
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conformance.contract.paths import PACKAGE_PARENT, RUN_INI, SUITE_DIR, SUITE_PACKAGE
from conformance.reporting.run_description import RunDescription
from conformance.secrets import ENV_PASSWORD

if TYPE_CHECKING:
    from conformance.wire import Exchange

_SENTINEL = "@@OPENMEDIA-PASSWORD@@"
_BLOB = re.compile(r"@reproduce_failure\([^)\n]*\)")
_SKIPPED_HEADERS = frozenset({"content-length", "host", "connection", "accept-encoding"})
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})
_SOURCES = {
    "description": "interface description 9.7, heading",
    "wire": "wire contract (live WSDL/XSDs)",
    "control-plane": "control plane contract v1",
    "project": "this project",
}


# -- the rule ----------------------------------------------------------------------------------
def requirement_lines(requirement_ids: Iterable[str]) -> list[str]:
    """Each requirement with its level, section (title, chapter, heading) and text."""
    from conformance.contract.catalogue import CATALOGUE

    lines: list[str] = []
    for rid in dict.fromkeys(requirement_ids):
        item = CATALOGUE.get(rid)
        if item is None:
            continue
        section = CATALOGUE.section(item.section)
        where = _SOURCES.get(section.source, section.source)
        anchor = f" “{section.anchor}”" if section.anchor else ""
        readings = f"; readings {', '.join(item.readings)}" if item.readings else ""
        lines.append(
            f"requirement {item.id} ({item.level}{readings}) - section {section.title} "
            f"(chapter {section.chapter}; {where}{anchor})"
        )
        lines.append(f"  {item.text}")
    return lines


# -- re-running one test -----------------------------------------------------------------------
def target_options(settings: RunDescription, seed: object = None) -> list[str]:
    """The command-line options that point a new run at the same target, the same way.

    Built from the resolved settings rather than copied from the command line: that way the
    password given as ``--om-password`` never reappears (the new run reads
    ``$OPENMEDIA_PASSWORD``), and the profile is named by its absolute path, so the command
    works from any folder.
    """
    options = list(settings.command_options)
    if seed is not None:
        options.append(f"--hypothesis-seed={seed}")
    return options


def suite_selector(nodeid: str, path: Path) -> str | None:
    """``conformance.suite.test_x::test_y[...]`` for a suite test (what ``run`` accepts)."""
    try:
        relative = path.resolve().relative_to(SUITE_DIR)
    except ValueError:
        return None
    module = ".".join((*relative.parent.parts, relative.stem))
    rest = nodeid.split("::", 1)[1] if "::" in nodeid else ""
    return f"{SUITE_PACKAGE}.{module}" + (f"::{rest}" if rest else "")


def rerun_command(settings: RunDescription, nodeid: str, path: Path, seed: object = None) -> str:
    """The shell command that runs this one test again against the same target."""
    options = target_options(settings, seed)
    selector = suite_selector(nodeid, path)
    if selector is not None:
        words = ["openmedia-conformance", "run", *options, selector]
    else:
        words = ["python", "-m", "pytest", *options, nodeid]
    command = " ".join(shlex.quote(word) for word in words)
    if needs_password_env(settings):
        command = f"{ENV_PASSWORD}=... {command}"
    return command


def needs_password_env(settings: RunDescription) -> bool:
    """True when the password came from outside the profile (``--om-password`` or the env).

    A repeat must then be given it again, as ``$OPENMEDIA_PASSWORD`` (never on the command line).
    """
    return settings.password_from_outside


_EXAMPLE_NOTES = ("Falsifying", "Failing test case")
"""How Hypothesis opens the note with the failing example (older releases, then newer ones)."""


def hypothesis_lines(notes: Sequence[str]) -> list[str]:
    """The falsifying example and ``@reproduce_failure`` blob Hypothesis attached, if any.

    Hypothesis adds both as notes of the exception it re-raises (``__notes__``).
    """
    lines: list[str] = []
    for note in notes:
        if note.startswith(_EXAMPLE_NOTES) and not lines:
            lines += note.splitlines()
    lines += [
        f"{blob}  (add it as a decorator on the test to replay this exact example)"
        for blob in dict.fromkeys(b for note in notes for b in _BLOB.findall(note))
    ]
    return lines


# -- replaying the request -----------------------------------------------------------------------
def replay_curl(exchange: Exchange, password: str | None = None) -> str:
    """A ``curl`` command sending the exchange's exact request, the password read from the env.

    In every ``Password`` element the run's ``password`` is replaced by ``$OPENMEDIA_PASSWORD``
    (outside the single quotes, so the shell expands it) and the rest is kept: a test that sent
    a wrong password made from the real one (``<real>-wrong``) is replayed with that same wrong
    password. Any other value (another user's password from the profile, say) is shown as
    ``***``, which a replay sends as a wrong password. Without ``password`` the whole element
    text comes from the environment. A password with XML special characters must be given
    escaped, as it travels in the envelope. A control-plane call's JSON passwords (a scenario's
    users) are handled the same way.
    """
    from conformance.wire.exchange import redact  # loaded by then: a test ran

    parts = ["curl", "-sS", "-i", "-X", exchange.method, shlex.quote(exchange.url)]
    for name, value in exchange.request_headers:
        if name.lower() in _SKIPPED_HEADERS:
            continue
        shown = "***" if name.lower() in _SECRET_HEADERS else value
        parts += ["-H", shlex.quote(f"{name}: {shown}")]
    if exchange.request_body:
        marked = redact(exchange.request_body, lambda text: _from_env(text, password))
        body = marked.decode("utf-8", errors="replace")
        quoted = shlex.quote(body).replace(_SENTINEL, f"'\"${ENV_PASSWORD}\"'")
        parts += ["--data-binary", quoted]
    return " ".join(parts)


def _from_env(text: bytes, password: str | None) -> bytes:
    """A Password element's text with the run's password marked for the shell to fill in."""
    sentinel = _SENTINEL.encode()
    if not text.strip():
        return text
    if not password:
        return sentinel
    escaped = html.escape(password, quote=False).encode("utf-8")
    return text.replace(escaped, sentinel) if escaped in text else b"***"


def replayed_exchange(failure: BaseException | None, exchanges: Sequence[Any]) -> Any:
    """The exchange to replay: the failing check's own, else the test's last SOAP request."""
    own = getattr(failure, "exchange", None)
    if own is not None and hasattr(own, "request_body"):
        return own
    posts = [e for e in exchanges if getattr(e, "method", "") == "POST"]
    return (posts or list(exchanges) or [None])[-1]


def reproduction(
    settings: RunDescription,
    nodeid: str,
    path: Path,
    *,
    seed: object,
    notes: Sequence[str],
    exchange: Exchange | None,
) -> str:
    """The ``openmedia reproduce`` section of one failing test."""
    lines = ["re-run this test alone:", f"  {rerun_command(settings, nodeid, path, seed)}"]
    found = hypothesis_lines(notes)
    if found:
        lines += ["Hypothesis:", *(f"  {line}" for line in found)]
    if exchange is not None:
        lines.append("replay the request that failed (password from $" + ENV_PASSWORD + "):")
        lines.append(f"  {replay_curl(exchange, settings.password)}")
        if settings.embedded:
            faults = "".join(f" --fault {f}" for f in settings.emulator_faults)
            lines.append(
                "  (the embedded emulator stopped with the run: start one with "
                f"`openmedia-conformance emulator --port 0{faults}` and use the URL it prints)"
            )
    return "\n".join(lines)


# -- repeating the whole run -----------------------------------------------------------------
def command_line(
    invocation: Sequence[str], seed: object, password: bool, secret_flags: Collection[str]
) -> str:
    """The command that repeats this run (``openmedia-conformance run`` when it was that).

    A password given with one of ``secret_flags`` (``--om-password`` and its alias) is left out:
    the repeat reads ``$OPENMEDIA_PASSWORD``.
    """
    words = [str(a) for a in invocation]
    kept: list[str] = []
    skip = False
    for word in words:
        if skip:
            skip = False
            continue
        if word in secret_flags:
            skip = True
            continue
        if word.split("=", 1)[0] in secret_flags:
            continue
        kept.append(word)
    via_run = "--pyargs" in kept and any(
        w == SUITE_PACKAGE or w.startswith(SUITE_PACKAGE + ".") for w in kept
    )
    if via_run:
        kept = _without_runner_args(kept)
    if seed is not None and not any(w.startswith("--hypothesis-seed") for w in kept):
        kept.append(f"--hypothesis-seed={seed}")
    prefix = ["openmedia-conformance", "run"] if via_run else ["python", "-m", "pytest"]
    command = " ".join(shlex.quote(w) for w in (*prefix, *kept))
    if password:
        command = f"{ENV_PASSWORD}=... {command}"
    return command


def _without_runner_args(words: list[str]) -> list[str]:
    """Drop what ``openmedia-conformance run`` adds (``-p conformance.plugin``, its ``-c`` and
    ``--rootdir``, ``--pyargs``)."""

    added = {("-p", "conformance.plugin"), ("-c", str(RUN_INI)), ("--rootdir", str(PACKAGE_PARENT))}
    out: list[str] = []
    index = 0
    while index < len(words):
        word = words[index]
        if tuple(words[index : index + 2]) in added:
            index += 2
            continue
        if word not in ("--pyargs", SUITE_PACKAGE):
            out.append(word)
        index += 1
    return out
