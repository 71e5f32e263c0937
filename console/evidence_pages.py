"""A record's evidence on the console: the status panel shown on record pages, and the download of
its evidence package (the same ZIP as ``/api/v1/evidence/<kind>/<ref>/package``, for a session
instead of a bearer token). One authorization model: staff, as in the API."""

from __future__ import annotations

from typing import Any, cast

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, raw
from sanic_ext import openapi

from config.evidence import EvidenceConfig
from console.guard import page
from domain.accounts.rules import Role
from domain.evidence import records, services
from domain.evidence.rules import check_record, package_filename
from domain.ports import MediaStore

console_evidence = Blueprint("console_evidence", url_prefix="/console/evidence")


async def panel(kind: str, ref: str) -> dict[str, Any]:
    """What a record page shows: the status of its latest leaf, each leaf, and the download link."""
    status = await services.record_status(*check_record(kind, ref))
    status["download"] = f"/console/evidence/{kind}/{ref}/package"
    return status


@console_evidence.get("/<kind:str>/<ref:str>/package")
@openapi.exclude()
@page(Role.STAFF)
async def package(request: Request, kind: str, ref: str) -> HTTPResponse:
    kind, ref = check_record(kind, ref)
    config = cast(EvidenceConfig, request.app.ctx.evidence)
    media = cast(MediaStore, request.app.ctx.media)
    index, body = await records.package_for(kind, ref, media=media, verifier=config.signer.verifier)
    filename = package_filename(kind, ref, index)
    return raw(
        body,
        content_type="application/zip",
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )
