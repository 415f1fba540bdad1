"""Exchange, Credentials and the client plumbing: the password never shows, the bytes stay exact."""

from __future__ import annotations

import json
import shlex
import socket
from collections.abc import Iterator

import pytest
from test_wire_transport import RawServer, read_request, serve

from conformance.checks import check_exchange, expect_value
from conformance.contract import namespaces as ns
from conformance.verdicts import ConformanceFailure
from conformance.wire import Credentials, DecodeError, Exchange, OpenMediaClient
from conformance.wire.encode import build_envelope

SECRET = "pa<ss>&wörd"


def sent_with(body: bytes, response: bytes = b"", status: int = 200) -> Exchange:
    headers = (("Host", "127.0.0.1:1"), ("Content-Type", ns.SOAP11_CONTENT_TYPE),
               ("SOAPAction", '"x"'), ("Content-Length", str(len(body))))  # fmt: skip
    return Exchange(
        "GetAllOpenMediaRequestStatus", "POST", "http://127.0.0.1:1/OpenMediaService", headers,
        body, status, "OK", (("Content-Type", ns.SOAP11_CONTENT_TYPE),), response, 0.002,
    )  # fmt: skip


def test_credentials_never_show_the_password() -> None:
    creds = Credentials("admin", SECRET)
    for shown in (repr(creds), str(creds), f"{creds}", repr([creds])):
        assert SECRET not in shown
        assert "admin" in shown and "***" in shown
    assert repr(Credentials("admin", None)) == "Credentials(logon_id='admin', password=None)"


def test_exchange_keeps_exact_bytes_but_never_shows_the_password() -> None:
    body = build_envelope("GetAllOpenMediaRequestStatus", credentials=Credentials("a", SECRET))
    exchange = sent_with(body)
    assert b"pa&lt;ss&gt;&amp;w\xc3\xb6rd" in exchange.request_body  # exact, escaped
    assert exchange.secrets.values == {"pa&lt;ss&gt;&amp;wörd", SECRET}
    for shown in (repr(exchange), str(exchange), exchange.curl(),
                  exchange.redacted_request_body().decode()):  # fmt: skip
        assert "wörd" not in shown and "w&#246;rd" not in shown
    assert exchange.redact_text(f"you sent {SECRET}!") == "you sent ***!"
    assert b'<Password xmlns="OpenMediaService">***</Password>' in (
        exchange.redacted_request_body()
    )


def test_password_in_another_namespace_or_prefixed_is_masked_too() -> None:
    moved = build_envelope(
        "GetAllOpenMediaRequestStatus",
        credentials=Credentials("a", "hunter2"),
        header_namespace=ns.TEMPURI,
    )
    prefixed = moved.replace(b"<Password xmlns=", b"<p:Password xmlns:p=").replace(
        b"</Password>", b"</p:Password>"
    )
    for body in (moved, prefixed):
        assert "hunter2" not in sent_with(body).curl()


def test_a_scenarios_json_passwords_are_masked_like_the_soap_header() -> None:
    """A control-plane reset carries its users' passwords: masked in every rendering, and
    known to the exchange (escaped as JSON writes them, and as the text they stand for)."""
    users = [
        {"logon_id": "admin", "password": 'ad"m1n\\pw', "host_administrator": True},
        {"logon_id": "clerk", "password": "clerk-pw", "host_administrator": False},
        {"logon_id": "short", "password": "x"},  # too short for free text: masked in place
    ]
    body = json.dumps({"authentication": {"enabled": True, "users": users}}).encode()
    exchange = Exchange(
        "control POST /reset", "POST", "http://127.0.0.1:1/control/reset",
        (("Content-Type", "application/json"),), body, 400, "Bad Request",
        (("Content-Type", "application/json"),), b'{"error": "clerk-pw is weak"}', 0.001,
    )  # fmt: skip
    assert exchange.secrets.values == {'ad\\"m1n\\\\pw', 'ad"m1n\\pw', "clerk-pw", "x"}
    for shown in (exchange.curl(), exchange.redacted_request_body().decode()):
        assert "m1n" not in shown and "clerk-pw" not in shown and '"x"' not in shown
    assert json.loads(exchange.redacted_request_body())["authentication"]["users"][2] == {
        "logon_id": "short",
        "password": "***",
    }
    assert exchange.redact_text(exchange.response_body.decode()) == '{"error": "*** is weak"}'


def test_curl_is_a_runnable_command() -> None:
    body = build_envelope("GetAllOpenMediaRequestStatus", credentials=Credentials("a", "it's"))
    words = shlex.split(sent_with(body).curl())
    assert words[:6] == ["curl", "-sS", "-i", "-X", "POST", "http://127.0.0.1:1/OpenMediaService"]
    assert "-H" in words and f"Content-Type: {ns.SOAP11_CONTENT_TYPE}" in words
    assert 'SOAPAction: "x"' in words
    assert not any(word.startswith(("Host:", "Content-Length:")) for word in words)
    data = words[words.index("--data-binary") + 1]
    assert data.startswith("<s:Envelope") and "***" in data and "it's" not in data


def test_response_header_is_case_insensitive_and_first_wins() -> None:
    exchange = Exchange("x", "GET", "http://127.0.0.1:1/", (), b"", 200, "OK",
                        (("X-A", "1"), ("x-a", "2")), b"", 0.0)  # fmt: skip
    assert exchange.response_header("x-A") == "1"
    assert exchange.response_header("missing") is None


def test_echoed_password_is_masked_in_failures_and_decode_errors() -> None:
    body = build_envelope("GetAllOpenMediaRequestStatus", credentials=Credentials("a", "hunter2"))
    page = b"<html><body>bad password hunter2</body></html>"
    exchange = sent_with(body, page, 500)
    with pytest.raises(ConformanceFailure) as caught:
        check_exchange(exchange, "GetAllOpenMediaRequestStatus")
    assert "hunter2" not in str(caught.value) and "***" in caught.value.actual
    echoed_fault = (
        f'<s:Envelope xmlns:s="{ns.SOAP_ENV}"><s:Body><s:Fault><faultcode>s:Client</faultcode>'
        f"<faultstring>wrong password hunter2</faultstring><detail><InvalidUserFault "
        f'xmlns="{ns.FAULTS}"/></detail></s:Fault></s:Body></s:Envelope>'
    ).encode()
    from conformance.wire.decode import decode_reply

    reply = decode_reply(sent_with(body, echoed_fault, 500), "GetAllOpenMediaRequestStatus")
    with pytest.raises(ConformanceFailure) as caught:
        expect_value(reply, "AUTH-VALID")
    assert "hunter2" not in caught.value.describe()
    with pytest.raises(DecodeError) as decode_caught:
        decode_reply(sent_with(body, b"<x>hunter2", 200), "GetAllOpenMediaRequestStatus")
    assert "hunter2" not in str(decode_caught.value)


@pytest.fixture
def echo_server() -> Iterator[RawServer]:
    """Answers every request with a canned fault-free GetAllOpenMediaRequestStatus response."""
    answer = (
        f'<s:Envelope xmlns:s="{ns.SOAP_ENV}"><s:Body><GetAllOpenMediaRequestStatusResponse '
        f'xmlns="{ns.TEMPURI}"><GetAllOpenMediaRequestStatusResult xmlns:a="{ns.DATA}">'
        f"<a:OpenMediaRequests/><a:TimeStamp>2026-01-01T00:00:00Z</a:TimeStamp>"
        f"</GetAllOpenMediaRequestStatusResult></GetAllOpenMediaRequestStatusResponse>"
        f"</s:Body></s:Envelope>"
    ).encode()
    response = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: "
        + str(len(answer)).encode() + b"\r\n\r\n" + answer
    )  # fmt: skip
    server: RawServer

    def handler(conn: socket.socket, index: int) -> None:
        while True:
            request = read_request(conn)
            if not request:
                return
            server.requests.append(request)
            conn.sendall(response)

    for server in serve(handler):
        yield server


def test_call_sends_the_wsdl_action_quoted_and_soap_11_content_type(
    echo_server: RawServer,
) -> None:
    seen: list[Exchange] = []
    with OpenMediaClient(echo_server.url, on_exchange=seen.append) as client:
        reply = client.get_all_status()
    assert reply.fault is None and reply.value is not None
    wire = echo_server.requests[0]
    action = ns.soap_action("GetAllOpenMediaRequestStatus")
    assert f'\r\nSOAPAction: "{action}"\r\n'.encode() in wire
    assert f"\r\nContent-Type: {ns.SOAP11_CONTENT_TYPE}\r\n".encode() in wire
    assert seen == [reply.exchange]
    assert wire.endswith(reply.exchange.request_body)


def test_call_overrides_for_negative_tests(echo_server: RawServer) -> None:
    with OpenMediaClient(echo_server.url, credentials=Credentials("a", "b")) as client:
        client.call("GetAllOpenMediaRequestStatus", soap_action="Nonsense",
                    headers={"Content-Type": None, "X-Extra": "1"})  # fmt: skip
        client.call("GetAllOpenMediaRequestStatus", body=b"<raw/>", credentials=None)
        client.get_all_status(credentials=None)
    first, second, third = echo_server.requests
    assert b"\r\nSOAPAction: Nonsense\r\n" in first and b"Content-Type" not in first
    assert b"\r\nX-Extra: 1\r\n" in first and b"<Password" in first
    assert second.endswith(b"\r\n\r\n<raw/>")
    assert b"Password" not in third and b"LogonID" not in third


def test_on_exchange_sees_an_answer_before_it_fails_to_decode() -> None:
    def handler(conn: socket.socket, index: int) -> None:
        read_request(conn)
        page = b"<html>proxy error</html>"
        conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\nContent-Length: "
                     + str(len(page)).encode() + b"\r\n\r\n" + page)  # fmt: skip

    seen: list[Exchange] = []
    for server in serve(handler):
        with (
            OpenMediaClient(server.url, on_exchange=seen.append) as client,
            pytest.raises(DecodeError) as caught,
        ):
            client.get_all_status()
    assert caught.value.exchange is seen[0]
    with pytest.raises(ConformanceFailure) as failure:
        check_exchange(seen[0], "GetAllOpenMediaRequestStatus")
    assert failure.value.actual.startswith("text/html body: <html>proxy error")
