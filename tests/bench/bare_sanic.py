"""The baseline: a bare Sanic JSON endpoint, served like the real app (``bare_sanic.py PORT [WORKERS]``)."""

from __future__ import annotations

import sys

from sanic import Request, Sanic
from sanic.response import HTTPResponse, json

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
    app.run(
        host="127.0.0.1",
        port=int(sys.argv[1]),
        workers=workers,
        single_process=workers == 1,
        access_log=False,
        motd=False,
    )
