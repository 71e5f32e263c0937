"""Open311 GeoReport v2 (JSON) so 12345 platforms and FixMyStreet-style clients can file and read tickets.

- ``GET /open311/v2/services.json``: the nuisance types;
- ``GET /open311/v2/requests.json``: tickets, filtered by id list, service code, status and dates;
- ``POST /open311/v2/requests.json``: file one (``api_key`` required, compared in constant time);
- ``GET /open311/v2/requests/{id}.json``: one ticket, as a one-element list.

Errors follow the GeoReport format: a list of ``{"code": <http status>, "description"}``. The reporter's
identity never leaves through this door; every state before closed is ``open``.
"""

from __future__ import annotations

import datetime as dt
import hmac
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sanic_ext import openapi

from domain.complaints import intake, services
from domain.complaints.models import Complaint
from domain.complaints.rules import AGENCY_NAMES, TERMINAL_STATES, State, parse_ticket_no
from domain.errors import DomainError, Unauthorized, ValidationFailed
from miniprogram_api.auth import json_body
from miniprogram_api.complaints_params import parse_time
from miniprogram_api.context import settings_of

open311 = Blueprint("open311", url_prefix="/open311/v2")

ERRORS = {"application/json": [{"code": int, "description": str}]}
MAX_RESULTS = 1000
DEFAULT_WINDOW = dt.timedelta(days=90)  # GeoReport: without dates, the last 90 days
CLOSED_STATES = TERMINAL_STATES


def _errors(status: int, description: str) -> HTTPResponse:
    return json([{"code": status, "description": description}], status=status)


def _status_notes(complaint: Complaint) -> str:
    if complaint.state is State.MERGED:
        return "merged into another request"
    return complaint.last_reply


def request_view(complaint: Complaint, *, policy: Any) -> dict[str, Any]:
    nuisance = policy.nuisance_types.get(complaint.nuisance_type)
    media = complaint.evidence.get("external_media_url", "") if complaint.evidence else ""
    return {
        "service_request_id": complaint.ticket_no,
        "status": "closed" if complaint.state in CLOSED_STATES else "open",
        "status_notes": _status_notes(complaint),
        "service_name": nuisance.label if nuisance else complaint.nuisance_type,
        "service_code": complaint.nuisance_type,
        "description": complaint.description,
        "agency_responsible": AGENCY_NAMES.get(complaint.department, complaint.department),
        "service_notice": "",
        "requested_datetime": complaint.created_at.astimezone(dt.UTC).isoformat(),
        "updated_datetime": complaint.updated_at.astimezone(dt.UTC).isoformat(),
        "expected_datetime": complaint.due_at.astimezone(dt.UTC).isoformat(),
        "address": complaint.address,
        "address_id": "",
        "zipcode": "",
        "lat": complaint.lat,
        "long": complaint.lng,
        "media_url": media,
    }


def _params(request: Request) -> dict[str, Any]:
    """GeoReport clients POST form-encoded; JSON bodies are accepted too."""
    if (request.content_type or "").startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form: Any = request.form or {}
        return {key: form.get(key) for key in form}
    if not request.body:
        return {}
    if not (request.content_type or "").startswith("application/json"):
        raise ValidationFailed("send form fields or a JSON object", code="invalid_body")
    return json_body(request)


def _check_api_key(request: Request, supplied: object) -> None:
    keys = settings_of(request).open311_api_keys
    if not isinstance(supplied, str) or not supplied:
        raise Unauthorized("api_key is required", code="missing_api_key")
    # Compare against every key without stopping early, in constant time per key.
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(supplied.encode(), key.encode())
    if not matched:
        raise Unauthorized("invalid api_key", code="invalid_api_key")


def _string(params: dict[str, Any], name: str, *, max_length: int) -> str:
    value = params.get(name) or ""
    if not isinstance(value, str | int | float) or len(str(value)) > max_length:
        raise ValidationFailed(f"{name} is limited to {max_length} characters", code="invalid_parameter")
    return str(value).strip()


@open311.get("/services.json")
@openapi.summary("GeoReport v2: the service list (nuisance types)")
@openapi.response(200, {"application/json": list})
async def services_list(request: Request) -> HTTPResponse:
    policy = services.default_policy()
    return json(
        [
            {
                "service_code": t.code,
                "service_name": t.label,
                "description": t.description,
                "metadata": False,
                "type": "realtime",
                "keywords": t.category,
                "group": "construction",
            }
            for t in policy.nuisance_types.values()
        ]
    )


@open311.post("/requests.json")
@openapi.summary("GeoReport v2: file a service request (api_key required)")
@openapi.body(
    {
        "application/x-www-form-urlencoded": {
            "api_key": str,
            "service_code": str,
            "lat": float,
            "long": float,
            "address_string": str,
            "description": str,
            "media_url": str,
            "phone": str,
            "first_name": str,
            "last_name": str,
        }
    }
)
@openapi.response(201, {"application/json": list})
@openapi.response(400, ERRORS)
@openapi.response(401, ERRORS)
async def create_request(request: Request) -> HTTPResponse:
    try:
        params = _params(request)
        _check_api_key(request, params.get("api_key"))
        new = _new_complaint(params)
        complaint = await intake.submit(new, now=dt.datetime.now(dt.UTC))
    except DomainError as error:
        return _errors(int(error.status), error.message)
    notice = f"已受理，工单号 {complaint.ticket_no}"
    return json(
        [{"service_request_id": complaint.ticket_no, "service_notice": notice, "account_id": None}],
        status=201,
    )


def _new_complaint(params: dict[str, Any]) -> intake.NewComplaint:
    lat_text, lng_text = _string(params, "lat", max_length=20), _string(params, "long", max_length=20)
    try:
        lat = float(lat_text) if lat_text else None
        lng = float(lng_text) if lng_text else None
    except ValueError as error:
        raise ValidationFailed("lat and long must be numbers (WGS-84)", code="invalid_coordinates") from error
    if (lat is not None and not -90 <= lat <= 90) or (lng is not None and not -180 <= lng <= 180):
        raise ValidationFailed("lat/long out of range", code="invalid_coordinates")
    media_url = _string(params, "media_url", max_length=500)
    if media_url and not media_url.startswith(("https://", "http://")):
        raise ValidationFailed("media_url must be an http(s) URL", code="invalid_media_url")
    name = f"{_string(params, 'last_name', max_length=16)}{_string(params, 'first_name', max_length=16)}"
    return intake.NewComplaint(
        nuisance_type=_string(params, "service_code", max_length=32),
        description=_string(params, "description", max_length=intake.MAX_DESCRIPTION),
        channel="open311",
        reporter_phone=_string(params, "phone", max_length=20),
        reporter_name=name,
        address=_string(params, "address_string", max_length=200),
        lat=lat,
        lng=lng,
        external_media_url=media_url,
    )


@open311.get("/requests.json")
@openapi.summary("GeoReport v2: service requests, newest first")
@openapi.parameter("service_request_id", str, "query", description="comma-separated ids")
@openapi.parameter("service_code", str, "query")
@openapi.parameter("status", str, "query", description="open|closed")
@openapi.parameter("start_date", str, "query", description="ISO 8601 (w3c) date-time")
@openapi.parameter("end_date", str, "query", description="ISO 8601 (w3c) date-time")
@openapi.response(200, {"application/json": list})
@openapi.response(400, ERRORS)
async def list_requests(request: Request) -> HTTPResponse:
    try:
        queryset = _filtered(request)
    except DomainError as error:
        return _errors(int(error.status), error.message)
    policy = services.default_policy()
    rows = await queryset.order_by("-created_at", "-id").limit(MAX_RESULTS)
    return json([request_view(row, policy=policy) for row in rows])


def _filtered(request: Request) -> Any:
    args = {
        name: (request.args.get(name) or "").strip()
        for name in ("service_request_id", "service_code", "status", "start_date", "end_date")
    }
    if any(len(value) > 2000 for value in args.values()):
        raise ValidationFailed("parameter too long", code="invalid_parameter")
    queryset = Complaint.all()
    if args["service_request_id"]:
        ids = [parse_ticket_no(part) for part in args["service_request_id"].split(",") if part.strip()][:100]
        return queryset.filter(ticket_no__in=ids)
    if args["service_code"]:
        queryset = queryset.filter(nuisance_type__in=args["service_code"].split(",")[:20])
    if args["status"]:
        statuses = set(args["status"].split(","))
        if not statuses <= {"open", "closed"}:
            raise ValidationFailed("status is open or closed", code="invalid_parameter")
        if statuses == {"open"}:
            queryset = queryset.exclude(state__in=list(CLOSED_STATES))
        elif statuses == {"closed"}:
            queryset = queryset.filter(state__in=list(CLOSED_STATES))
    start = parse_time(args["start_date"], "start_date")
    end = parse_time(args["end_date"], "end_date")
    if start is None and end is None:
        start = dt.datetime.now(dt.UTC) - DEFAULT_WINDOW
    if start is not None:
        queryset = queryset.filter(created_at__gte=start)
    if end is not None:
        queryset = queryset.filter(created_at__lte=end)
    return queryset


@open311.get("/requests/<request_file:str>")
@openapi.summary("GeoReport v2: one service request (a one-element list)")
@openapi.response(200, {"application/json": list})
@openapi.response(400, ERRORS)
@openapi.response(404, ERRORS)
async def get_request(request: Request, request_file: str) -> HTTPResponse:
    # The id and the format share one path segment ("TS20260315001.json"); only JSON is served.
    request_id, dot, extension = request_file.rpartition(".")
    if not dot or extension != "json":
        return _errors(404, "only the .json format is available")
    try:
        complaint = await services.load(request_id)
    except DomainError as error:
        return _errors(int(error.status), error.message)
    return json([request_view(complaint, policy=services.default_policy())])
