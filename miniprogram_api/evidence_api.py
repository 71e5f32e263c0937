"""The evidence log's doors: the public, read-only log API (``/evidence/v1``: checkpoint, key,
entries, proofs, lookup and C2SP tlog-tiles) and the staff door to a record's evidence status and
its downloadable evidence package."""

from __future__ import annotations

import base64
from typing import cast

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json, raw, text
from sanic_ext import openapi

from config.evidence import EvidenceConfig
from domain.accounts.rules import Role
from domain.errors import ValidationFailed
from domain.evidence import records, services
from domain.evidence.rules import TILE_WIDTH, check_record, package_filename, parse_tile_path
from miniprogram_api.auth import require
from miniprogram_api.context import media_of
from miniprogram_api.openapi_errors import error_responses
from miniprogram_api.params import text_arg

evidence_log = Blueprint("evidence_log", url_prefix="/evidence/v1")
evidence_staff = Blueprint("evidence_staff", url_prefix="/api/v1/evidence")
MAX_INDEX = 2**56 - 1
IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=5"


def _config(request: Request) -> EvidenceConfig:
    return cast(EvidenceConfig, request.app.ctx.evidence)


def _required_int(request: Request, name: str) -> int:
    raw_value = request.args.get(name)
    if raw_value is None or not raw_value.isdigit() or int(raw_value) > MAX_INDEX:
        raise ValidationFailed(f"{name} must be an integer from 0 to {MAX_INDEX}", code="invalid_parameter")
    return int(raw_value)


def _b64(hashes: list[bytes]) -> list[str]:
    return [base64.b64encode(h).decode() for h in hashes]


@evidence_log.get("/checkpoint")
@openapi.summary("The latest signed checkpoint (C2SP tlog-checkpoint in a signed note)")
@openapi.response(200, {"text/plain": str})
@error_responses(404)
async def checkpoint(request: Request) -> HTTPResponse:
    latest = await services.latest_checkpoint()
    return text(latest.note, headers={"cache-control": SHORT})


@evidence_log.get("/key")
@openapi.summary("The log's verifier key (C2SP vkey)")
@openapi.response(200, {"text/plain": str})
async def key(request: Request) -> HTTPResponse:
    return text(_config(request).signer.verifier.vkey + "\n")


@evidence_log.get("/entries/<leaf_index:int>")
@openapi.summary("One leaf: its index and its bytes (base64)")
@openapi.response(200, {"application/json": {"leaf_index": int, "data": str}})
@error_responses(404)
async def entry(request: Request, leaf_index: int) -> HTTPResponse:
    found = await services.entry_at(leaf_index if 0 <= leaf_index <= MAX_INDEX else -1)
    return json({"leaf_index": found.leaf_index, "data": base64.b64encode(bytes(found.data)).decode()})


@evidence_log.get("/proof/inclusion")
@openapi.summary("RFC 9162 inclusion proof of a leaf in the tree of a given size")
@openapi.parameter("leaf_index", int, "query", required=True)
@openapi.parameter("tree_size", int, "query", required=True)
@openapi.response(200, {"application/json": {"leaf_index": int, "tree_size": int, "hashes": [str]}})
@error_responses(400)
async def inclusion(request: Request) -> HTTPResponse:
    index, size = _required_int(request, "leaf_index"), _required_int(request, "tree_size")
    hashes = await services.inclusion_proof(leaf_index=index, tree_size=size)
    return json({"leaf_index": index, "tree_size": size, "hashes": _b64(hashes)})


@evidence_log.get("/proof/consistency")
@openapi.summary("RFC 9162 consistency proof between two tree sizes")
@openapi.parameter("first", int, "query", required=True)
@openapi.parameter("second", int, "query", required=True)
@openapi.response(200, {"application/json": {"first": int, "second": int, "hashes": [str]}})
@error_responses(400)
async def consistency(request: Request) -> HTTPResponse:
    first, second = _required_int(request, "first"), _required_int(request, "second")
    hashes = await services.consistency_proof(first=first, second=second)
    return json({"first": first, "second": second, "hashes": _b64(hashes)})


@evidence_log.get("/lookup")
@openapi.summary("The leaf indices logged for a business record (e.g. kind=alarm&ref=201)")
@openapi.parameter("kind", str, "query", required=True)
@openapi.parameter("ref", str, "query", required=True)
@openapi.response(200, {"application/json": {"kind": str, "ref": str, "leaf_indices": [int]}})
@error_responses(400)
async def lookup(request: Request) -> HTTPResponse:
    kind, ref = check_record(text_arg(request, "kind"), text_arg(request, "ref"))
    return json({"kind": kind, "ref": ref, "leaf_indices": await services.lookup(kind, ref)})


@evidence_log.get("/tile/<path:path>")
@openapi.summary("C2SP tlog-tiles: tile/<L>/<N>[.p/<W>] hash tiles and tile/entries/<N>[.p/<W>] bundles")
@openapi.response(200, {"application/octet-stream": bytes})
@error_responses(400, 404)
async def tile(request: Request, path: str) -> HTTPResponse:
    wanted = parse_tile_path(path)
    if wanted.level is None:
        body = await services.entries_tile(index=wanted.index, width=wanted.width)
    else:
        body = await services.tile(level=wanted.level, index=wanted.index, width=wanted.width)
    # A full tile never changes; a partial one is replaced by a wider one as the log grows.
    cache = IMMUTABLE if wanted.width == TILE_WIDTH else SHORT
    return raw(body, content_type="application/octet-stream", headers={"cache-control": cache})


@evidence_staff.get("/<kind:str>/<ref:str>")
@openapi.summary("A record's evidence status (none, pending, sequenced, checkpointed) and its leaves")
@openapi.response(200, {"application/json": dict})
@error_responses(400, 401, 403)
@require(Role.STAFF)
async def status(request: Request, kind: str, ref: str) -> HTTPResponse:
    return json(await services.record_status(*check_record(kind, ref)))


@evidence_staff.get("/<kind:str>/<ref:str>/package")
@openapi.summary("Download a record's evidence package (ZIP: leaf, proof, checkpoint, files, 说明)")
@openapi.parameter("leaf_index", int, "query", description="default: the record's latest leaf")
@openapi.response(200, {"application/zip": bytes})
@error_responses(400, 401, 403, 404, 409)
@require(Role.STAFF)
async def package(request: Request, kind: str, ref: str) -> HTTPResponse:
    kind, ref = check_record(kind, ref)
    leaf_index = _required_int(request, "leaf_index") if request.args.get("leaf_index") else None
    index, body = await records.package_for(
        kind, ref, media=media_of(request), verifier=_config(request).signer.verifier, leaf_index=leaf_index
    )
    filename = package_filename(kind, ref, index)
    return raw(
        body,
        content_type="application/zip",
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )
