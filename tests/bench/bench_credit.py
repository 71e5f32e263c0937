"""Benchmark: score and grade 10,000 enterprises with 50 records each as of one date.

Measured in the same run:
- ``score_s``: the pure scoring path (``queries.grade_rows``: score, grade, sanctions, bidding
  eligibility) over records already in memory; the target is <= 2 s;
- ``load_and_score_s``: fetching the rows that can matter on the date (the export's pre-filter) from
  the database, plus the same scoring;
- ``sql_s``: the baseline, a plain SQL ``SUM ... GROUP BY`` of the same scores in the database
  (PostgreSQL when ``DATABASE_URL`` is set, else SQLite). Python and SQL scores are checked to be equal.

The rows go into a scratch table ``bench_credit_record`` that is dropped afterwards; no other table is
touched. Prints one JSON line. Run: ``.venv/bin/python -m tests.bench.bench_credit``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import random
import sqlite3
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

from domain.credit.catalogue import Catalogue, add_months, parse_catalogue
from domain.credit.queries import grade_rows
from domain.credit.rules import ScoredRecord

ENTERPRISES = int(os.environ.get("BENCH_ENTERPRISES", "10000"))
RECORDS_EACH = int(os.environ.get("BENCH_RECORDS_EACH", "50"))
AS_OF = dt.date(2026, 6, 30)
TARGET_S = 2.0
RULES = Path(__file__).resolve().parents[2] / "config" / "credit_rules.yml"
TABLE = "bench_credit_record"
COLUMNS = (
    "subject_id",
    "id",
    "record_type",
    "category",
    "points",
    "effective_on",
    "expires_on",
    "approved_on",
    "revoked_on",
    "project_code",
    "source_ref",
)
Row = tuple[Any, ...]


def generate(catalogue: Catalogue, rng: random.Random) -> list[Row]:
    types = list(catalogue.record_types.values())
    weights = [2 if t.key == "dust_penalty" else 2 if t.points < 0 else 3 for t in types]
    rows: list[Row] = []
    record_id = 0
    start = dt.date(2023, 1, 1).toordinal()
    for number in range(ENTERPRISES):
        uscc = f"91331081BENCH{number:05d}"
        projects = [f"WL-2026-{rng.randrange(10_000):04d}" for _ in range(4)]
        for kind in rng.choices(types, weights=weights, k=RECORDS_EACH):
            record_id += 1
            effective_on = dt.date.fromordinal(start + rng.randrange(1_300))
            fate = rng.random()
            approved_on = None if fate < 0.03 else effective_on + dt.timedelta(days=rng.randrange(10))
            revoked_on = effective_on + dt.timedelta(days=rng.randrange(200)) if 0.03 <= fate < 0.05 else None
            rows.append(
                (
                    uscc,
                    record_id,
                    kind.key,
                    kind.category.value,
                    kind.points,
                    effective_on,
                    add_months(effective_on, catalogue.validity_months(kind)),
                    approved_on,
                    revoked_on,
                    rng.choice(projects),
                    f"doc-{record_id}",
                )
            )
    return rows


def to_records(rows: list[Row]) -> dict[str, list[ScoredRecord]]:
    grouped: dict[str, list[ScoredRecord]] = defaultdict(list)
    for row in rows:
        grouped[row[0]].append(ScoredRecord(*row[1:]))
    return grouped


def sql_text(placeholder: str) -> str:
    day = placeholder
    return (
        f"SELECT subject_id, {{base}} + COALESCE(SUM(CASE WHEN approved_on IS NOT NULL "
        f"AND approved_on <= {day} AND effective_on <= {day} AND expires_on > {day} "
        f"AND (revoked_on IS NULL OR revoked_on > {day}) "
        f"THEN points ELSE 0 END), 0) FROM {TABLE} GROUP BY subject_id"
    )


async def run_postgres(
    url: str, rows: list[Row], base: int, watched: list[str]
) -> tuple[float, dict[str, int], list[Row], float]:
    import asyncpg  # noqa: PLC0415 - only this backend needs it

    connection = await asyncpg.connect(url.replace("asyncpg://", "postgres://", 1))
    try:
        await connection.execute(f"DROP TABLE IF EXISTS {TABLE}")
        await connection.execute(
            f"CREATE TABLE {TABLE} (subject_id text, id int, record_type text, category text, points int, "
            "effective_on date, expires_on date, approved_on date, revoked_on date, project_code text, "
            "source_ref text)"
        )
        await connection.copy_records_to_table(TABLE, records=rows, columns=list(COLUMNS))
        await connection.execute(f"CREATE INDEX ON {TABLE} (subject_id)")
        await connection.execute(f"ANALYZE {TABLE}")
        query = sql_text("$1::date").format(base=base)
        await connection.fetch(query, AS_OF)  # warm the cache, as the Python side has its rows in memory
        started = time.perf_counter()
        result = await connection.fetch(query, AS_OF)
        sql_s = time.perf_counter() - started
        started = time.perf_counter()
        fetched = await connection.fetch(
            f"SELECT {', '.join(COLUMNS)} FROM {TABLE} "
            "WHERE (expires_on > $1 OR record_type = ANY($2::text[])) "
            "AND approved_on <= $1 AND effective_on <= $1",
            AS_OF,
            watched,
        )
        loaded = [tuple(row) for row in fetched]
        fetch_s = time.perf_counter() - started
    finally:
        await connection.execute(f"DROP TABLE IF EXISTS {TABLE}")
        await connection.close()
    return sql_s, {row[0]: int(row[1]) for row in result}, loaded, fetch_s


def run_sqlite(
    rows: list[Row], base: int, watched: list[str]
) -> tuple[float, dict[str, int], list[Row], float]:
    with tempfile.TemporaryDirectory() as folder:
        connection = sqlite3.connect(Path(folder) / "bench.sqlite3")
        try:
            connection.execute(f"CREATE TABLE {TABLE} ({', '.join(COLUMNS)})")
            as_text = [
                (*row[:5], *(d.isoformat() if d else None for d in row[5:9]), *row[9:]) for row in rows
            ]
            connection.executemany(f"INSERT INTO {TABLE} VALUES ({', '.join('?' * len(COLUMNS))})", as_text)
            connection.execute(f"CREATE INDEX bench_subject ON {TABLE} (subject_id)")
            connection.commit()
            query = sql_text("?").format(base=base)
            day = AS_OF.isoformat()
            connection.execute(query, (day,) * 4).fetchall()
            started = time.perf_counter()
            result = connection.execute(query, (day,) * 4).fetchall()
            sql_s = time.perf_counter() - started
            started = time.perf_counter()
            in_list = "(" + ", ".join("?" * len(watched)) + ")"
            fetched = connection.execute(
                f"SELECT * FROM {TABLE} WHERE (expires_on > ? OR record_type IN {in_list}) "
                "AND approved_on <= ? AND effective_on <= ?",
                (day, *watched, day, day),
            ).fetchall()
            parse = dt.date.fromisoformat
            loaded = [(*row[:5], *(parse(d) if d else None for d in row[5:9]), *row[9:]) for row in fetched]
            fetch_s = time.perf_counter() - started
        finally:
            connection.close()
    return sql_s, {subject: int(score) for subject, score in result}, loaded, fetch_s


def main() -> None:
    catalogue = parse_catalogue(yaml.safe_load(RULES.read_text(encoding="utf-8")))
    rows = generate(catalogue, random.Random(20261124))
    subjects = sorted({(row[0], row[0]) for row in rows})

    grouped = to_records(rows)
    started = time.perf_counter()
    graded = grade_rows(subjects, grouped, as_of=AS_OF, catalogue=catalogue)
    score_s = time.perf_counter() - started

    # The same pre-filter as ``queries._scored_by_subject``: only rows that can matter on AS_OF.
    watched = sorted({rule.record_type for rule in catalogue.sanctions})
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://", "asyncpg://")):
        backend = "postgres"
        sql_s, sql_scores, loaded, fetch_s = asyncio.run(
            run_postgres(url, rows, catalogue.base_score, watched)
        )
    else:
        backend = "sqlite"
        sql_s, sql_scores, loaded, fetch_s = run_sqlite(rows, catalogue.base_score, watched)
    started = time.perf_counter()
    reloaded = to_records(loaded)
    grade_rows(subjects, reloaded, as_of=AS_OF, catalogue=catalogue)
    load_and_score_s = fetch_s + time.perf_counter() - started

    python_scores = {row[0]: row[2] for row in graded}
    assert python_scores == sql_scores, "Python and SQL scores differ"
    grades: dict[str, int] = defaultdict(int)
    for row in graded:
        grades[row[3]] += 1
    print(
        json.dumps(
            {
                "bench": "credit_scoring",
                "backend": backend,
                "enterprises": len(subjects),
                "records": len(rows),
                "as_of": AS_OF.isoformat(),
                "score_s": round(score_s, 3),
                "load_and_score_s": round(load_and_score_s, 3),
                "sql_s": round(sql_s, 3),
                "ratio_score_vs_sql": round(score_s / sql_s, 2),
                "ratio_load_and_score_vs_sql": round(load_and_score_s / sql_s, 2),
                "target_s": TARGET_S,
                "meets_target": score_s <= TARGET_S,
                "grades": dict(sorted(grades.items())),
                "scores_match_sql": True,
            }
        )
    )


if __name__ == "__main__":
    main()
