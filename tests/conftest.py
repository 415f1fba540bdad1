"""Fixtures several self-test modules share: a reference emulator in this process.

Why here: the wire, safe-mode and emulator HTTP tests each need the same real server on a free
loopback port, started once per module, and the demo scenario the control plane resets it to.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest

from conformance.contract.paths import fixtures_dir
from conformance.emulator import RunningEmulator, serve_in_thread

XDIST_VARIABLES = ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID")


def pytest_configure(config: pytest.Config) -> None:
    """Under ``-n``, xdist gives each worker ``PYTEST_XDIST_*`` variables; every run a self-test
    starts (a subprocess, or pytester's in-process run) would inherit them and take itself for
    an xdist worker: safe mode would share its pace with workers that do not exist, and
    pytest-benchmark, where installed, warns (an error under ``-W error``). A self-test's own
    run is never a worker of this one; a worker is told by ``config.workerinput`` instead."""
    for name in XDIST_VARIABLES:
        os.environ.pop(name, None)


@pytest.fixture
def demo_scenario() -> dict[str, Any]:
    """A fresh copy of ``fixtures/scenarios/demo.json`` (a test may change it)."""
    return json.loads((fixtures_dir() / "scenarios" / "demo.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    """The reference emulator serving on 127.0.0.1 and a free port, for one test module."""
    with serve_in_thread() as running:
        yield running
