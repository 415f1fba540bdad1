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

import re
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.error import HTTPError
from urllib.parse import urlsplit
from urllib.request import Request, urlopen

import pytest
import tomllib
from hostile.run import run_suite
from hostile.servers import HostileServer, answer

from conformance.checks import check_exchange
from conformance.checks.wire_rules import expect_content_type
from conformance.contract.paths import fixtures_dir
from conformance.emulator import RunningEmulator
from conformance.verdicts import ConformanceFailure
from conformance.wire.decode import decode_reply
from conformance.wire.exchange import Exchange
from conformance.wire.transport import Transport

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


# -- schemas where the WSDL says: a Metro-style server ---------------------------------------------
class _MetroNaming(ThreadingHTTPServer):
    """The reference emulator behind a proxy that publishes its schemas the way Metro does.

    ``?xsd=1`` … ``?xsd=7`` serve the emulator's ``?xsd=xsd0`` … ``xsd6``, every
    ``schemaLocation`` (in the WSDL and inside the schemas) names them, and WCF's names answer
    404; POSTs go to the emulator unchanged. The same contract at other URLs: a suite that
    followed its own naming instead of the WSDL's would fail it.
    """

    daemon_threads = True

    def __init__(self, upstream: str) -> None:
        super().__init__(("127.0.0.1", 0), _MetroHandler)
        self.upstream = upstream
        self.asked: list[str] = []
        self.url = f"http://127.0.0.1:{self.server_address[1]}{urlsplit(upstream).path}"

    def rewrite(self, body: bytes) -> bytes:
        text = body.decode("utf-8").replace(self.upstream, self.url)
        return re.sub(r"\?xsd=xsd(\d)", lambda m: f"?xsd={int(m[1]) + 1}", text).encode("utf-8")


class _MetroHandler(BaseHTTPRequestHandler):
    server: _MetroNaming

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        query = urlsplit(self.path).query
        self.server.asked.append(query)
        if query.startswith("xsd=") and not query[4:].isdigit():
            self._answer(404, "text/plain", b"no such schema")
            return
        if query.startswith("xsd="):
            query = f"xsd=xsd{int(query[4:]) - 1}"
        with urlopen(f"{self.server.upstream}?{query}", timeout=10) as got:
            self._answer(got.status, got.headers["Content-Type"], self.server.rewrite(got.read()))

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        headers = {
            k: v for k, v in self.headers.items() if k.lower() in ("content-type", "soapaction")
        }
        try:
            with urlopen(Request(self.server.upstream, body, headers), timeout=10) as got:
                self._answer(got.status, got.headers["Content-Type"], got.read())
        except HTTPError as err:
            self._answer(err.code, err.headers["Content-Type"], err.read())

    def _answer(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_schemas_are_fetched_where_the_wsdl_says(emulator: RunningEmulator, tmp_path: Path) -> None:
    """The service module and the served-XSD comparison pass against Metro's naming, and the
    proxy saw the suite ask for ``?xsd=1`` … ``7`` (never WCF's names)."""
    metro = _MetroNaming(emulator.url)
    thread = threading.Thread(target=metro.serve_forever, daemon=True)
    thread.start()
    try:
        with urlopen(f"{metro.url}?wsdl", timeout=10) as got:
            wsdl = got.read().decode()
        assert "?xsd=1" in wsdl and "?xsd=xsd" not in wsdl
        profile = fixtures_dir() / "profiles" / "emulator.toml"
        run = run_suite(
            [
                "--om-target-url", metro.url, "--om-profile", str(profile),
                "-p", "no:cacheprovider", "--om-no-preflight", "conformance.suite.test_service",
                "conformance.suite.test_wire_contract", "-k",
                "test_service or test_served_xsd_is_the_contract",
            ],
            tmp_path, 300, {},
        )  # fmt: skip
    finally:
        metro.shutdown()
        metro.server_close()
    output = run.stdout + run.stderr
    assert run.exit_code == 0, output[-4000:]
    assert re.search(r"\b19 passed", output), output[-2000:]
    assert {f"xsd={n}" for n in range(1, 8)} <= set(metro.asked), metro.asked
    assert not [query for query in metro.asked if query.startswith("xsd=xsd")], metro.asked


# -- the server's own body limit -------------------------------------------------------------------
def test_the_oversized_probe_sends_one_byte_past_the_limit_the_profile_states(
    emulator: RunningEmulator, tmp_path: Path
) -> None:
    """A profile stating ``max_request_bytes = 65536``: the probe sends 65537 bytes, which the
    emulator (whose own cap is max_body_bytes, 1 MiB) answers, so ROB-OVERSIZED-BODY (SHOULD)
    reports a warning naming that size; without the key the probe's 1 MiB + 1 is refused."""
    text = (fixtures_dir() / "profiles" / "emulator.toml").read_text()
    profile = tmp_path / "limited.toml"
    profile.write_text(text.replace("[target]\n", "[target]\nmax_request_bytes = 65536\n", 1))
    run = run_suite(
        [
            "--om-target-url", emulator.url, "--om-profile", str(profile), "-p", "no:cacheprovider",
            "--om-no-preflight", "conformance.suite.test_robustness", "-k", "oversized",
        ],
        tmp_path, 300, {},
    )  # fmt: skip
    output = run.stdout + run.stderr
    assert run.exit_code == 0, output[-4000:]
    assert "[ROB-OVERSIZED-BODY] the target did not refuse a body of 65537 bytes" in output, output
