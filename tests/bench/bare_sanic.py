"""The baseline: a bare Sanic JSON endpoint, served like the real app (``bare_sanic.py PORT [WORKERS]``):
with several workers, each on a listening socket of its own, as ``config serve`` does."""

from __future__ import annotations

import sys

from sanic import Request, Sanic
from sanic.response import HTTPResponse, json

from config.listener import reuse_port_listener

app = Sanic("bare_baseline")


@app.get("/")
async def index(request: Request) -> HTTPResponse:
    return json({"ok": True})


@app.get("/healthz")
async def health(request: Request) -> HTTPResponse:
    return json({"ok": True})


@app.post("/json")
async def reply(request: Request) -> HTTPResponse:
    return json({"reply": "ok"})


if __name__ == "__main__":
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    port = int(sys.argv[1])
    listener = reuse_port_listener("127.0.0.1", port) if workers > 1 else None
    app.run(
        host=None if listener else "127.0.0.1",
        port=None if listener else port,
        sock=listener,
        workers=workers,
        single_process=workers == 1,
        access_log=False,
        motd=False,
    )
