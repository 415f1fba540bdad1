"""The session runtime: a target that cannot be started or discovered is tried once per run.

Before, every test tried again: a silent control plane cost one timeout per test, and an
emulator that could not start was started (and failed) once per test.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest

from conformance.plugin.runtime import SessionRuntime
from conformance.plugin.settings import OptionValues, build_settings
from conformance.verdicts import SuiteError


class _NotAControlPlane(http.server.BaseHTTPRequestHandler):
    hits = 0

    def do_GET(self) -> None:
        type(self).hits += 1
        body = b"<html>not a control plane</html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def impostor_control() -> Iterator[str]:
    _NotAControlPlane.hits = 0
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotAControlPlane)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/control"
    finally:
        server.shutdown()
        server.server_close()


def test_a_failed_discovery_is_reported_to_every_test_but_tried_once(
    impostor_control: str,
) -> None:
    settings = build_settings(
        OptionValues(
            target_url="http://127.0.0.1:1/OpenMediaService",
            control_url=impostor_control,
            timeout_s=2.0,
        ),
        {},
    )
    runtime = SessionRuntime(settings)
    messages = []
    for _ in range(3):
        with pytest.raises(SuiteError) as caught:
            runtime.target_session()
        messages.append(str(caught.value))
    assert _NotAControlPlane.hits == 1
    assert len(set(messages)) == 1
    assert "did not answer its discovery" in messages[0] and "--om-control-url" in messages[0]
    runtime.close()
