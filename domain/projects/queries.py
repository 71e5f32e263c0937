"""Hot read paths of the public project search, in SQL that both SQLite and PostgreSQL run.

Why raw SQL: the ORM's per-row overhead dominated the nearby search (thousands of candidate rows in a
dense town centre). Here the database filters on the bounding-box index, ranks by an equirectangular
squared distance (plain arithmetic, so no trigonometric functions are needed in SQLite), counts with
``count(*) OVER ()`` and returns only the page. Over a radius of at most 50 km the equirectangular
ranking differs from the great-circle one by under 0.1 %; the returned ``distance_m`` is the exact
haversine distance.
"""

from __future__ import annotations

import math
from typing import Any

from tortoise import connections

from domain.geo import EARTH_RADIUS_M, bounding_box

METRES_PER_DEGREE = math.pi * EARTH_RADIUS_M / 180
SUMMARY_COLUMNS = "code, name, kind, stage, progress_pct, town, street, road, address, lat, lng"


class _Sql:
    """Builds one statement with the right placeholder style for the connection's dialect."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.values: list[Any] = []

    def param(self, value: Any) -> str:
        self.values.append(value)
        # Numbered placeholders in both dialects, so one value may be referenced several times.
        return f"${len(self.values)}" if self.dialect == "postgres" else f"?{len(self.values)}"

    def like(self) -> str:
        # LIKE, not ILIKE: keywords are Chinese, and on PostgreSQL ILIKE costs five times as much per row.
        return "LIKE"


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _filters(sql: _Sql, *, terms: list[str], town: str, stage: str | None, kind: str | None) -> list[str]:
    clauses = []
    for term in terms:
        pattern = sql.param(f"%{_escape_like(term)}%")
        like = sql.like()
        clauses.append(
            f"(name {like} {pattern} ESCAPE '\\' OR address {like} {pattern} ESCAPE '\\'"
            f" OR road {like} {pattern} ESCAPE '\\')"
        )
    if town:
        clauses.append(f"town = {sql.param(town)}")
    if stage:
        clauses.append(f"stage = {sql.param(stage)}")
    if kind:
        clauses.append(f"kind = {sql.param(kind)}")
    return clauses


async def _page_with_total(build: Any, *, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """Run ``build(offset, limit)``; past the last page, ask again for one row to learn the total."""
    connection = connections.get("default")
    statement, values = build(offset, limit)
    rows = await connection.execute_query_dict(statement, values)
    if rows or offset == 0:
        return rows, int(rows[0]["total"]) if rows else 0
    statement, values = build(0, 1)
    first = await connection.execute_query_dict(statement, values)
    return rows, int(first[0]["total"]) if first else 0


async def text_page(
    *, terms: list[str], town: str, stage: str | None, kind: str | None, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """Two cheap queries instead of one window: the page walks the unique index on ``code`` and stops
    after ``limit`` matches, while the count scans without sorting."""
    connection = connections.get("default")
    sql = _Sql(connection.capabilities.dialect)
    condition = " AND ".join(_filters(sql, terms=terms, town=town, stage=stage, kind=kind)) or "1 = 1"
    count_rows = await connection.execute_query_dict(
        f"SELECT count(*) AS total FROM project WHERE {condition}", list(sql.values)
    )
    total = int(count_rows[0]["total"])
    if total <= offset:
        return [], total
    page = (
        f"SELECT {SUMMARY_COLUMNS} FROM project WHERE {condition}"
        f" ORDER BY code LIMIT {sql.param(limit)} OFFSET {sql.param(offset)}"
    )
    return await connection.execute_query_dict(page, sql.values), total


async def nearby_page(
    *,
    lat: float,
    lng: float,
    radius_m: float,
    terms: list[str],
    town: str,
    stage: str | None,
    kind: str | None,
    offset: int,
    limit: int,
) -> tuple[list[dict[str, Any]], int]:
    dialect = connections.get("default").capabilities.dialect
    min_lat, max_lat, min_lng, max_lng = bounding_box(lat, lng, radius_m)
    metres_per_lng_degree = METRES_PER_DEGREE * math.cos(math.radians(lat))

    def build(page_offset: int, page_limit: int) -> tuple[str, list[Any]]:
        sql = _Sql(dialect)
        d_lat = f"((lat - {sql.param(lat)}) * {METRES_PER_DEGREE!r})"
        d_lng = f"((lng - {sql.param(lng)}) * {metres_per_lng_degree!r})"
        squared = f"({d_lat} * {d_lat} + {d_lng} * {d_lng})"
        where = [
            f"lat BETWEEN {sql.param(min_lat)} AND {sql.param(max_lat)}",
            f"lng BETWEEN {sql.param(min_lng)} AND {sql.param(max_lng)}",
            *_filters(sql, terms=terms, town=town, stage=stage, kind=kind),
            f"{squared} <= {sql.param(radius_m * radius_m)}",
        ]
        columns = ", ".join("p." + column.strip() for column in SUMMARY_COLUMNS.split(","))
        statement = (
            f"WITH inside AS (SELECT id, {squared} AS d2 FROM project WHERE {' AND '.join(where)})"
            f" SELECT {columns}, (SELECT count(*) FROM inside) AS total FROM"
            f" (SELECT id, d2 FROM inside ORDER BY d2, id LIMIT {sql.param(page_limit)}"
            f" OFFSET {sql.param(page_offset)}) top"
            " JOIN project p ON p.id = top.id ORDER BY top.d2, top.id"
        )
        return statement, sql.values

    return await _page_with_total(build, offset=offset, limit=limit)
