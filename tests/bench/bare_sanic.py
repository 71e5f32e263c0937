"""The baseline: a bare Sanic JSON endpoint, served exactly like the real app (one worker)."""

from __future__ import annotations

import sys

from sanic import Request, Sanic
from sanic.response import HTTPResponse, json

app = Sanic("bare_baseline")


@app.get("/")
async def index(request: Request) -> HTTPResponse:
    return json({"ok": True})


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]), single_process=True, access_log=False, motd=False)
