"""Liveness and readiness probes."""

from __future__ import annotations

import os

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sanic_ext import openapi

from miniprogram_api.context import readiness_of

health = Blueprint("health")


@health.get("/healthz")
@openapi.summary("Liveness: 200 while the process is up")
@openapi.response(200, {"application/json": {"status": str, "pid": int}})
async def healthz(request: Request) -> HTTPResponse:
    # The pid tells which API worker answered (WORKERS>1 behind one port).
    return json({"status": "ok", "pid": os.getpid()})


@health.get("/readyz")
@openapi.summary("Readiness: 200 only when the database and configured Redis/MQTT answer")
@openapi.response(200, {"application/json": {"status": str, "checks": dict}})
@openapi.response(503, {"application/json": {"status": str, "checks": dict}})
async def readyz(request: Request) -> HTTPResponse:
    checks = await readiness_of(request)()
    ready = all(result == "ok" for result in checks.values())
    return json({"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)
