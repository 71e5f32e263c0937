"""Public project queries: keyword, nearby, filters, details."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sanic_ext import openapi

from domain.projects import services
from domain.projects.rules import parse_kind, parse_stage
from miniprogram_api.context import project_read_model_of
from miniprogram_api.openapi_errors import error_responses
from miniprogram_api.params import datum_point, float_arg, int_arg, text_arg

projects = Blueprint("projects", url_prefix="/api/v1/projects")


@projects.get("/")
@openapi.summary("Search projects by keyword, place, town, stage and kind")
@openapi.parameter("q", str, "query", description="Chinese keyword over name, address and road")
@openapi.parameter("near", str, "query", description="'<lat>,<lng>': sort by distance (datum: coord_type)")
@openapi.parameter(
    "coord_type",
    str,
    "query",
    description="wgs84 (default: wx.getLocation without a type) or gcj02 (Tencent maps, type: 'gcj02')",
)
@openapi.parameter("radius_m", float, "query", description="search radius in metres, up to 50000")
@openapi.parameter("town", str, "query")
@openapi.parameter("stage", str, "query", description="planning|approval|construction|acceptance|completed")
@openapi.parameter(
    "kind", str, "query", description="residential|municipal|transport|water|public_building|industrial"
)
@openapi.parameter("page", int, "query")
@openapi.parameter("page_size", int, "query", description="1..100")
@openapi.response(200, {"application/json": {"items": list, "total": int, "page": int, "page_size": int}})
@error_responses(400)
async def list_projects(request: Request) -> HTTPResponse:
    stage = text_arg(request, "stage")
    kind = text_arg(request, "kind")
    query = services.ProjectQuery(
        q=text_arg(request, "q"),
        near=datum_point(request, "near"),
        radius_m=float_arg(request, "radius_m", default=5_000, low=1, high=services.MAX_RADIUS_M),
        town=text_arg(request, "town", max_length=16),
        stage=parse_stage(stage) if stage else None,
        kind=parse_kind(kind) if kind else None,
        page=int_arg(request, "page", default=1, low=1, high=100_000),
        page_size=int_arg(request, "page_size", default=20, low=1, high=services.MAX_PAGE_SIZE),
    )
    cache = project_read_model_of(request)
    page = await services.search_projects(query, read_model=await cache.current() if cache else None)
    return json({"items": page.items, "total": page.total, "page": page.page, "page_size": page.page_size})


@projects.get("/<code:str>")
@openapi.summary("Public details of one project")
@openapi.response(200, {"application/json": dict})
@error_responses(400, 404)
async def project_detail(request: Request, code: str) -> HTTPResponse:
    return json(await services.project_details(code))
