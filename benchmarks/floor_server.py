"""The floor: the emulator's HTTP stack (uvicorn + httptools, a raw ASGI app) answering a
constant SOAP-sized body to every request. What the emulator costs above it is the emulator's
own work (parse, engine, serialise); the floor is the best any emulator on this stack can do.
"""

from __future__ import annotations

import argparse

import uvicorn

from conformance.contract import namespaces as ns
from conformance.emulator.edge.server import bind


def constant_app(body: bytes):  # type: ignore[no-untyped-def]
    headers = [
        (b"content-type", ns.SOAP11_CONTENT_TYPE.encode()),
        (b"content-length", str(len(body)).encode()),
    ]

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] != "http":
            return
        more = True
        while more:  # read the request body, as the emulator does
            message = await receive()
            more = message["type"] == "http.request" and message.get("more_body", False)
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--body-bytes", type=int, default=600)
    args = parser.parse_args()
    sock = bind("127.0.0.1", 0)
    host, port = sock.getsockname()[:2]
    config = uvicorn.Config(
        constant_app(b"x" * args.body_bytes),
        http="httptools",
        lifespan="off",
        log_level="warning",
        access_log=False,
        server_header=False,
    )
    print(f"floor listening on http://{host}:{port}{ns.SERVICE_PATH}", flush=True)
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
