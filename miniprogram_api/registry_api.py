"""Registry administration for staff: download the template, export the city, import a city file
(dry run first), and create, change or retire one record. Reading is for all staff; writing is for
admins and the housing bureau (``Principal.may_edit_registry``)."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json, raw
from sanic_ext import openapi

from adapters.uploads import check_size, sniff_type
from domain.accounts.rules import Principal, Role
from domain.audit import services as audit
from domain.errors import Forbidden, ValidationFailed
from domain.projects import device_credentials, registry
from domain.projects.registry_files import csv_city_file, read_city_file, xlsx_city_file
from domain.projects.registry_rules import SheetKind
from miniprogram_api.auth import current, json_body, require
from miniprogram_api.openapi_errors import error_responses
from miniprogram_api.params import enum_arg, int_arg, text_arg

registry_api = Blueprint("registry", url_prefix="/api/v1/admin/registry")

MAX_CITY_FILE_BYTES = 20 * 1024 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REPORT = {
    "application/json": {"dry_run": bool, "ok": bool, "problems": list, "created": dict, "updated": dict}
}


def _editor(request: Request) -> Principal:
    principal = current(request)
    if not principal.may_edit_registry():
        raise Forbidden("only admins and the housing bureau change the registry", code="forbidden_department")
    return principal


def _actor(principal: Principal) -> str:
    return f"{principal.role.value}:{principal.subject}"


def _sheet(value: str) -> SheetKind:
    try:
        return SheetKind(value)
    except ValueError as error:
        options = "|".join(kind.value for kind in SheetKind)
        raise ValidationFailed(f"sheet must be one of {options}", code="invalid_parameter") from error


def _download(data: bytes, *, filename: str, content_type: str) -> HTTPResponse:
    return raw(
        data, content_type=content_type, headers={"content-disposition": f'attachment; filename="{filename}"'}
    )


@registry_api.get("/template")
@openapi.summary("The city-file template: an XLSX with one sheet per kind and a 说明 sheet")
@error_responses(401, 403)
@require(Role.STAFF)
async def template(request: Request) -> HTTPResponse:
    data = await asyncio.to_thread(xlsx_city_file, registry.template_sheets(), with_notes=True)
    return _download(data, filename="city-registry-template.xlsx", content_type=XLSX)


@registry_api.get("/export")
@openapi.summary("Export the registry: XLSX (every sheet) or CSV (sheet=projects|sites|...)")
@openapi.parameter("format", str, "query", description="xlsx (default) or csv")
@openapi.parameter("sheet", str, "query", description="enterprises|projects|sites|devices|cameras (CSV only)")
@error_responses(400, 401, 403)
@require(Role.STAFF)
async def export(request: Request) -> HTTPResponse:
    file_format = text_arg(request, "format", max_length=8) or "xlsx"
    if file_format == "csv":
        kind = _sheet(text_arg(request, "sheet", max_length=16))
        sheets = await registry.export_registry([kind])
        return _download(csv_city_file(sheets[kind]), filename=f"{kind.value}.csv", content_type="text/csv")
    if file_format != "xlsx":
        raise ValidationFailed("format must be xlsx or csv", code="invalid_parameter")
    data = await asyncio.to_thread(xlsx_city_file, await registry.export_registry())
    return _download(data, filename="city-registry.xlsx", content_type=XLSX)


@registry_api.post("/import")
@openapi.summary("Import a city file (XLSX, or CSV with sheet=); dry_run=true lists every problem first")
@openapi.body({"multipart/form-data": {"file": bytes}})
@openapi.parameter("dry_run", str, "query", description="true (default) or false")
@openapi.parameter("sheet", str, "query", description="for CSV: which sheet the file holds")
@openapi.response(200, REPORT)
@error_responses(400, 401, 403)
@require(Role.STAFF)
async def import_file(request: Request) -> HTTPResponse:
    principal = _editor(request)
    dry_run = (text_arg(request, "dry_run", max_length=5) or "true").lower() != "false"
    sheet_name = text_arg(request, "sheet", max_length=16)
    upload = request.files.get("file") if request.files else None
    if upload is None:
        raise ValidationFailed("attach the file as the multipart field 'file'", code="missing_file")
    check_size(upload.body, max_bytes=MAX_CITY_FILE_BYTES)
    kind_of_file = sniff_type(upload.body) or "csv"
    sheet = _sheet(sheet_name) if sheet_name else None
    sheets = await asyncio.to_thread(read_city_file, upload.body, kind_of_file=kind_of_file, sheet=sheet)
    report = await registry.import_registry(
        sheets,
        actor=_actor(principal),
        source=f"import:{(upload.name or 'file')[:40]}",
        dry_run=dry_run,
        now=dt.datetime.now(dt.UTC),
    )
    return json(report.as_json())


def _changes(request: Request) -> dict[str, str]:
    body = json_body(request)
    if not all(isinstance(v, str | int | float | bool) for v in body.values()):
        raise ValidationFailed("each field takes a plain value", code="invalid_field")
    return {str(k): ("是" if v is True else "否" if v is False else str(v)) for k, v in body.items()}


async def _edit(request: Request, sheet: str, key: str, *, create: bool) -> registry.ImportReport:
    principal = _editor(request)
    return await registry.edit_record(
        _sheet(sheet),
        key,
        _changes(request),
        actor=_actor(principal),
        now=dt.datetime.now(dt.UTC),
        create=create,
    )


@registry_api.post("/<sheet:str>/<key:str>")
@openapi.summary("Create one record (fields by name or by the sheet's Chinese column header)")
@openapi.response(201, REPORT)
@error_responses(400, 401, 403, 409)
@require(Role.STAFF)
async def create_record(request: Request, sheet: str, key: str) -> HTTPResponse:
    report = await _edit(request, sheet, key, create=True)
    return json(report.as_json(), status=201)


@registry_api.patch("/<sheet:str>/<key:str>")
@openapi.summary("Change one record; only the fields given change")
@openapi.response(200, REPORT)
@error_responses(400, 401, 403, 404)
@require(Role.STAFF)
async def update_record(request: Request, sheet: str, key: str) -> HTTPResponse:
    report = await _edit(request, sheet, key, create=False)
    return json(report.as_json())


@registry_api.delete("/<sheet:str>/<key:str>")
@openapi.summary(
    "Retire one record: a project ends, a site, device or camera is switched off (kept for history)"
)
@openapi.response(200, REPORT)
@error_responses(400, 401, 403, 404, 409)
@require(Role.STAFF)
async def retire(request: Request, sheet: str, key: str) -> HTTPResponse:
    principal = _editor(request)
    report = await registry.retire_record(
        _sheet(sheet), key, actor=_actor(principal), now=dt.datetime.now(dt.UTC)
    )
    return json(report.as_json())


@registry_api.get("/audit")
@openapi.summary("Who changed what in the registry, newest first")
@openapi.parameter("sheet", str, "query")
@openapi.parameter("key", str, "query")
@openapi.parameter("limit", int, "query", description="1..500")
@error_responses(400, 401, 403)
@require(Role.STAFF)
async def audit_trail(request: Request) -> HTTPResponse:
    kind = enum_arg(request, "sheet", SheetKind)
    key = text_arg(request, "key", max_length=40)
    limit = int_arg(request, "limit", default=100, low=1, high=500)
    entries: list[dict[str, Any]] = await audit.entries(
        entity=kind.value if kind else "", key=key, limit=limit
    )
    return json({"items": entries})


@registry_api.post("/devices/<code:str>/mqtt-login")
@openapi.summary("Issue (or rotate) a device's MQTT login: the installer's sheet, password shown once")
@openapi.response(
    201, {"application/json": {"device_code": str, "username": str, "password": str, "topic": str}}
)
@error_responses(401, 403, 404)
@require(Role.STAFF)
async def issue_mqtt_login(request: Request, code: str) -> HTTPResponse:
    principal = _editor(request)
    issued = await device_credentials.issue_mqtt_login(
        code, actor=_actor(principal), now=dt.datetime.now(dt.UTC)
    )
    sheet = {
        "device_code": issued.device_code,
        "site_code": issued.site_code,
        "username": issued.username,
        "password": issued.password,
        "topic": f"{issued.topic}telemetry",
        "note": "密码只显示这一次，请抄录到设备配置中；重新签发会使旧密码失效。",
    }
    return json(sheet, status=201, headers={"cache-control": "no-store"})


@registry_api.post("/devices/<code:str>/hj212-password")
@openapi.summary("Issue (or rotate) a device's HJ 212 password (PW): shown once, stored sealed")
@openapi.response(201, {"application/json": {"device_code": str, "password": str}})
@error_responses(401, 403, 404)
@require(Role.STAFF)
async def issue_hj212_password(request: Request, code: str) -> HTTPResponse:
    principal = _editor(request)
    password = await device_credentials.issue_hj212_password(
        code, actor=_actor(principal), now=dt.datetime.now(dt.UTC)
    )
    sheet = {
        "device_code": code,
        "mn": code,
        "password": password,
        "note": "HJ 212 报文中的 PW 须与此一致，密码只显示这一次；重新签发会使旧密码失效。",
    }
    return json(sheet, status=201, headers={"cache-control": "no-store"})
