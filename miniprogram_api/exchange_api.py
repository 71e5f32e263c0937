"""Data-exchange doors: signed inbound feeds for partner departments, CSV/XLSX uploads by their staff,
the batch audit, keys and webhook subscriptions (admin), and GeoJSON layers for the city's GIS."""

from __future__ import annotations

import asyncio
import datetime as dt
import json as jsonlib
from urllib.parse import urlsplit

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sanic_ext import openapi

from adapters.uploads import check_size, sniff_type
from domain.accounts.rules import Department, Role
from domain.credit.tabular import rows_from_xlsx
from domain.errors import ValidationFailed
from domain.exchange import geo, outbound, services
from domain.exchange.rules import rows_as_records
from domain.tabular import rows_from_csv
from miniprogram_api.auth import current, json_body, require
from miniprogram_api.context import settings_of
from miniprogram_api.openapi_errors import error_responses
from miniprogram_api.params import text_arg

exchange = Blueprint("exchange", url_prefix="/api/v1/exchange")

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
REPORT = {"application/json": {"batch_id": int, "accepted": int, "rejected": int, "rejections": list}}


def _master_key(request: Request) -> bytes:
    """SECRET_KEY seals the partner and webhook secrets (``domain.exchange.rules.unseal``)."""
    return settings_of(request).secret_key.get_secret_value().encode()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _header(request: Request, name: str) -> str:
    return (request.headers.get(name) or "").strip()


@exchange.post("/feeds/<feed:str>")
@openapi.summary("Partner feed: a signed batch of records (see docs/city-feed.md)")
@openapi.parameter("feed", str, "path", required=True)
@openapi.parameter("X-Wl-Key", str, "header", required=True)
@openapi.parameter("X-Wl-Timestamp", str, "header", required=True, description="unix seconds, ±300 s")
@openapi.parameter("X-Wl-Signature", str, "header", required=True, description="hex HMAC-SHA256")
@openapi.parameter("X-Wl-Batch-Id", str, "header", required=True)
@openapi.body({"application/json": {"records": list}})
@openapi.response(201, REPORT)
@openapi.response(200, REPORT, description="a repeated batch: the first result")
@error_responses(400, 401, 403, 404, 409)
async def receive_feed(request: Request, feed: str) -> HTTPResponse:
    config = services.exchange_config()
    body = request.body or b""
    # Authenticate before looking at the body: an unsigned request learns nothing about our feeds.
    partner = await services.authenticate(
        key_id=_header(request, "X-Wl-Key"),
        timestamp=_header(request, "X-Wl-Timestamp"),
        signature=_header(request, "X-Wl-Signature"),
        body=body,
        now=_now(),
        tolerance_s=config.timestamp_tolerance_s,
        master_key=_master_key(request),
    )
    spec = services.feed_of(config, feed)
    try:
        document = jsonlib.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise ValidationFailed("the body must be JSON", code="invalid_schema") from error
    if not isinstance(document, dict):
        raise ValidationFailed('the body must be {"records": [...]}', code="invalid_schema")
    report = await services.ingest(
        spec,
        document.get("records"),
        config=config,
        department=partner.department,
        actor=partner.key_id,
        batch_ref=_header(request, "X-Wl-Batch-Id"),
        channel="api",
        body_sha256=services.body_digest(body),
        now=_now(),
    )
    return json(report, status=200 if report["duplicate"] else 201)


@exchange.post("/feeds/<feed:str>/upload")
@openapi.summary("A department's staff upload a feed as CSV or XLSX (first row: field names)")
@openapi.parameter("feed", str, "path", required=True)
@openapi.body({"multipart/form-data": {"file": bytes, "batch_id": str}})
@openapi.response(201, REPORT)
@openapi.response(200, REPORT)
@error_responses(400, 401, 403, 404, 409)
@require(Role.STAFF)
async def upload_feed(request: Request, feed: str) -> HTTPResponse:
    config = services.exchange_config()
    spec = services.feed_of(config, feed)
    upload = request.files.get("file") if request.files else None
    if upload is None:
        raise ValidationFailed("attach the sheet as the multipart field 'file'", code="missing_file")
    data = upload.body
    check_size(data, max_bytes=MAX_UPLOAD_BYTES)
    channel = "xlsx" if sniff_type(data) == "zip" else "csv"
    rows = await asyncio.to_thread(rows_from_xlsx if channel == "xlsx" else rows_from_csv, data)
    digest = services.body_digest(data)
    batch_ref = ((request.form.get("batch_id") if request.form else None) or f"upload-{digest[:16]}").strip()
    principal = current(request)
    report = await services.ingest(
        spec,
        rows_as_records(rows),
        config=config,
        department=principal.department,
        actor=f"{principal.role.value}:{principal.subject}",
        batch_ref=batch_ref,
        channel=channel,
        body_sha256=digest,
        now=_now(),
    )
    return json(report, status=200 if report["duplicate"] else 201)


@exchange.get("/feeds")
@openapi.summary("The feed catalogue: schemas, key fields, senders and the context each updates")
@openapi.response(200, {"application/json": {"feeds": list}})
@error_responses(401, 403)
@require(Role.STAFF)
async def feed_catalogue(request: Request) -> HTTPResponse:
    config = services.exchange_config()
    return json(
        {
            "feeds": [
                {
                    "feed": f.key,
                    "label": f.label,
                    "departments": sorted(f.departments),
                    "updates": f.updates,
                    "key": list(f.key_fields),
                    "fields": {
                        n: {
                            "type": s.type.value,
                            "required": s.required,
                            **({"values": list(s.values)} if s.values else {}),
                        }
                        for n, s in f.fields.items()
                    },
                }
                for f in config.feeds.values()
            ]
        }
    )


@exchange.get("/batches")
@openapi.summary("The audit of received batches, newest first")
@openapi.parameter("feed", str, "query")
@openapi.response(200, {"application/json": {"items": list}})
@error_responses(400, 401, 403)
@require(Role.STAFF)
async def batch_audit(request: Request) -> HTTPResponse:
    return json({"items": await services.batches(feed=text_arg(request, "feed", max_length=40))})


@exchange.post("/partners")
@openapi.summary("Issue an API key to a partner department (the secret is shown once)")
@openapi.body({"application/json": {"department": str}})
@openapi.response(201, {"application/json": {"key_id": str, "secret": str, "department": str}})
@error_responses(400, 401, 403)
@require(Role.ADMIN)
async def issue_key(request: Request) -> HTTPResponse:
    department = json_body(request).get("department")
    if not isinstance(department, str) or department not in {d.value for d in Department}:
        raise ValidationFailed("department must be one of the known departments", code="invalid_department")
    principal = current(request)
    key_id, secret = await services.issue_partner(
        str(department), actor=f"admin:{principal.subject}", now=_now(), master_key=_master_key(request)
    )
    return json({"key_id": key_id, "secret": secret, "department": department}, status=201)


@exchange.post("/webhooks")
@openapi.summary("Subscribe a city-brain endpoint to the outbound event feed (the secret is shown once)")
@openapi.body({"application/json": {"name": str, "url": str, "event_types": list}})
@openapi.response(201, {"application/json": {"subscription_id": int, "secret": str}})
@error_responses(400, 401, 403)
@require(Role.ADMIN)
async def subscribe(request: Request) -> HTTPResponse:
    body = json_body(request)
    name, url, types = body.get("name"), body.get("url"), body.get("event_types", [])
    if not isinstance(name, str) or not 1 <= len(name) <= 64:
        raise ValidationFailed("name must be 1-64 characters", code="invalid_subscription")
    if (
        not isinstance(url, str)
        or len(url) > 300
        or urlsplit(url).scheme not in ("http", "https")
        or not urlsplit(url).hostname
    ):
        raise ValidationFailed("url must be an http(s) URL", code="invalid_subscription")
    if not isinstance(types, list) or not all(isinstance(t, str) and len(t) <= 48 for t in types):
        raise ValidationFailed("event_types must be a list of event names", code="invalid_subscription")
    subscription_id, secret = await outbound.subscribe(
        name=name, url=url, event_types=types, now=_now(), master_key=_master_key(request)
    )
    return json({"subscription_id": subscription_id, "secret": secret}, status=201)


@exchange.get("/geo/<layer:str>")
@openapi.summary(
    "GeoJSON layer for GIS: projects, sites, active_alarms, open_complaints, cameras or emergency_resources"
)
@openapi.parameter("layer", str, "path", required=True)
@openapi.response(200, {"application/geo+json": dict})
@error_responses(401, 403, 404)
@require(Role.STAFF)
async def geo_layer(request: Request, layer: str) -> HTTPResponse:
    return json(await geo.layer(layer), content_type="application/geo+json")
