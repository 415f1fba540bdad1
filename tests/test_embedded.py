"""The embedded emulator: started as a real process, announced, stopped; failures explained.

The happy path runs the real reference emulator; the failure paths run real (tiny) processes
that misbehave the ways an emulator could: exit at once with a message, or never announce.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from urllib.parse import urlsplit

import pytest

from conformance.plugin.embedded import EmbeddedEmulator, EmulatorStartError, ThreadEmulator
from conformance.wire import ControlClient, OpenMediaClient


class _Impostor(EmbeddedEmulator):
    """Runs a given Python snippet instead of the emulator (to plant start-up failures)."""

    def __init__(self, code: str, **kwargs: float) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.code = code

    @property
    def command(self) -> list[str]:
        return [sys.executable, "-c", self.code]


def test_the_real_emulator_starts_answers_and_stops() -> None:
    emulator = EmbeddedEmulator()
    urls = emulator.start()
    try:
        assert emulator.running
        service, control = urlsplit(urls.service_url), urlsplit(urls.control_url)
        assert service.hostname == "127.0.0.1" and service.port and service.port > 0
        assert service.path == "/OpenMediaService" and control.path == "/control"
        assert emulator.start() is urls  # once per session: a second start is the same
        with OpenMediaClient(urls.service_url, timeout_s=5) as client:
            assert client.fetch_wsdl().status == 200
        control_client = ControlClient(urls.control_url, 5)
        assert "scenario" in control_client.discover()
        control_client.close()
    finally:
        emulator.stop()
    assert not emulator.running
    emulator.stop()  # idempotent


def test_emulator_that_exits_is_reported_with_its_stderr() -> None:
    emulator = EmbeddedEmulator(faults=("no-such-fault-flag",))
    with pytest.raises(EmulatorStartError) as caught:
        emulator.start()
    message = str(caught.value)
    assert "exited with status" in message
    assert "no-such-fault-flag" in message  # the emulator's own complaint, from its stderr
    assert "--fault no-such-fault-flag" in message  # the command, to repeat by hand
    assert not emulator.running


def test_emulator_that_never_announces_is_stopped_after_the_deadline() -> None:
    impostor = _Impostor(
        "import sys, time; print('starting', flush=True); "
        "sys.stderr.write('still thinking\\n'); sys.stderr.flush(); time.sleep(60)",
        start_timeout_s=1.0,
    )
    with pytest.raises(EmulatorStartError) as caught:
        impostor.start()
    message = str(caught.value)
    assert "did not announce itself within 1 s" in message
    assert "still thinking" in message and "starting" in message
    assert not impostor.running


def test_emulator_that_announces_and_exits_at_once_is_told_apart() -> None:
    impostor = _Impostor(
        "import sys; print('openmedia-emulator listening on http://127.0.0.1:9/OpenMediaService"
        " control http://127.0.0.1:9/control', flush=True); "
        "sys.stderr.write('uvicorn refused to serve\\n'); sys.exit(4)",
        start_timeout_s=10.0,
    )
    # Started by hand and waited for, so that the process is surely done before the first look
    # (through start() that is a race): its announce must not be taken for a live emulator.
    impostor._stdout = tempfile.TemporaryFile()  # noqa: SIM115 (closed by stop())
    impostor._stderr = tempfile.TemporaryFile()  # noqa: SIM115
    impostor._process = subprocess.Popen(
        impostor.command, stdout=impostor._stdout, stderr=impostor._stderr
    )
    impostor._process.wait(10)
    with pytest.raises(EmulatorStartError) as caught:
        impostor._await_announce()
    message = str(caught.value)
    assert "announced itself and then exited with status 4" in message
    assert "uvicorn refused to serve" in message
    impostor.stop()


def test_an_announce_of_a_non_loopback_address_is_refused() -> None:
    impostor = _Impostor(
        "import time; print('openmedia-emulator listening on http://192.0.2.1:80/OpenMediaService"
        " control http://192.0.2.1:80/control', flush=True); time.sleep(60)",
        start_timeout_s=10.0,
    )
    with pytest.raises(EmulatorStartError, match="non-loopback"):
        impostor.start()
    assert not impostor.running


def test_only_loopback_hosts_are_accepted() -> None:
    with pytest.raises(ValueError, match="loopback only"):
        EmbeddedEmulator(host="0.0.0.0")


def test_the_thread_emulator_starts_answers_and_stops() -> None:
    emulator = ThreadEmulator(faults=("status-by-id-unknown-empty",))
    urls = emulator.start()
    try:
        assert emulator.running and emulator.start() is urls
        assert urlsplit(urls.service_url).hostname == "127.0.0.1"
        with OpenMediaClient(urls.service_url, timeout_s=5) as client:
            assert client.fetch_wsdl().status == 200
            # the fault reached the engine: an ID never issued answers an empty list
            assert client.get_status_by_id(2_000_000_000).fault is None
    finally:
        emulator.stop()
    assert not emulator.running
    emulator.stop()  # idempotent
    with pytest.raises(ValueError, match="loopback only"):
        ThreadEmulator(host="0.0.0.0")


def test_thread_mode_is_for_the_embedded_emulator_only() -> None:
    from conformance.plugin.settings import OptionValues, build_settings
    from conformance.verdicts import UsageError

    with pytest.raises(UsageError, match="cannot be combined with a target URL"):
        build_settings(
            OptionValues(target_url="http://127.0.0.1:1/OpenMediaService", embedded_mode="thread"),
            {},
        )
    with pytest.raises(UsageError, match="choose process or thread"):
        build_settings(OptionValues(embedded_mode="fork"), {})
    assert build_settings(OptionValues(embedded_mode="thread"), {}).embedded_mode == "thread"
