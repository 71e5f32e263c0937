"""Render a report as XLSX (openpyxl), PNG charts (matplotlib + a CJK font) and HTML (pyecharts).

Everything here is synchronous and CPU-bound: callers run it through ``asyncio.to_thread``.
Government networks are isolated, so the HTML loads ECharts from our own static route and the PNGs
use a locally installed CJK font (``fonts-noto-cjk``); nothing is fetched at run time.
"""

from __future__ import annotations

import html
import io
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # headless: no display on servers

from matplotlib import font_manager
from matplotlib.figure import Figure
from openpyxl import Workbook
from openpyxl.styles import Font
from pyecharts import options as opts
from pyecharts.charts import Bar, Page, Pie

from domain.reports.tables import Chart, charts, tables

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
ECHARTS_FILE = STATIC_DIR / "echarts.min.js"
# Preferred CJK families, in order; fonts-noto-cjk provides the first.
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans CJK JP", "WenQuanYi Zen Hei", "Source Han Sans SC")
PNG_SIZE_IN = (8.0, 4.5)
PNG_DPI = 100  # 800 x 450 pixels


class CjkFontMissing(RuntimeError):
    """No CJK font is installed: PNG labels would be tofu boxes. Install fonts-noto-cjk."""


def _find_cjk() -> tuple[str, str] | None:
    for family in CJK_FAMILIES:
        try:
            path = font_manager.findfont(
                font_manager.FontProperties(family=family), fallback_to_default=False
            )
        except ValueError:
            continue
        return family, str(path)
    return None


def cjk_font() -> tuple[str, str]:
    """(family, file) matplotlib will use for our Chinese labels; never a Latin-only fallback.

    A font installed after matplotlib built its cache is unknown to it: register system CJK files once.
    """
    found = _find_cjk()
    if found is None:
        for path in font_manager.findSystemFonts():
            if "CJK" in Path(path).name or "wqy" in Path(path).name.lower():
                font_manager.fontManager.addfont(path)
        found = _find_cjk()
    if found is None:
        raise CjkFontMissing("no CJK font found: apt-get install fonts-noto-cjk")
    return found


def _cjk_font() -> font_manager.FontProperties:
    return font_manager.FontProperties(family=cjk_font()[0])


def png_chart(chart: Chart) -> bytes:
    font = _cjk_font()
    figure = Figure(figsize=PNG_SIZE_IN, dpi=PNG_DPI)
    axes = figure.subplots()
    if chart.kind == "pie" and any(chart.values):
        _, label_texts = axes.pie(chart.values, labels=chart.categories)[:2]
        for text in label_texts:
            text.set_fontproperties(font)
        axes.axis("equal")
    else:
        positions = list(range(len(chart.categories)))
        axes.bar(positions, chart.values, color="#3b7dd8")
        axes.set_xticks(
            positions, chart.categories, fontproperties=font, rotation=30 if len(positions) > 6 else 0
        )
    axes.set_title(chart.title, fontproperties=font)
    figure.tight_layout()
    buffer = io.BytesIO()
    # No bbox="tight": the size must stay exactly figsize x dpi.
    figure.savefig(buffer, format="png", dpi=PNG_DPI)
    return buffer.getvalue()


def png_charts(report: Mapping[str, Any]) -> dict[str, bytes]:
    return {chart.name: png_chart(chart) for chart in charts(report)}


def xlsx_bytes(report: Mapping[str, Any]) -> bytes:
    """One sheet per section with its underlying table, plus a cover sheet."""
    workbook = Workbook()
    cover = workbook.active
    assert cover is not None  # a new workbook always has one sheet
    cover.title = "封面"
    cover.append([report["period"]["title"]])
    cover.append(["统计期间", report["period"]["first_day"], report["period"]["last_day"]])
    cover.append(["生成时间", report["generated_at"]])
    cover["A1"].font = Font(bold=True, size=14)
    for table in tables(report):
        sheet = workbook.create_sheet(table.sheet[:31])
        sheet.append([table.title])
        sheet["A1"].font = Font(bold=True)
        sheet.append(list(table.headers))
        for row in table.rows:
            sheet.append(["" if cell is None else cell for cell in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _safe(text: str) -> str:
    # Chart options are inlined in a <script> block: no markup may close it early.
    return text.replace("<", "＜").replace(">", "＞")


def _echart(chart: Chart, js_host: str) -> Bar | Pie:
    init = opts.InitOpts(width="900px", height="420px", js_host=js_host, chart_id=chart.name)
    title = opts.TitleOpts(title=_safe(chart.title))
    categories = [_safe(c) for c in chart.categories]
    if chart.kind == "pie" and categories:  # pyecharts cannot draw an empty pie
        pie = Pie(init_opts=init).add("", list(zip(categories, chart.values, strict=True)))
        return pie.set_global_opts(title_opts=title)
    bar = Bar(init_opts=init).add_xaxis(categories).add_yaxis("", list(chart.values))
    return bar.set_global_opts(title_opts=title, toolbox_opts=opts.ToolboxOpts())


def _table_html(report: Mapping[str, Any]) -> str:
    parts = []
    for table in tables(report):
        head = "".join(f"<th>{html.escape(h)}</th>" for h in table.headers)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape('' if c is None else str(c))}</td>" for c in row) + "</tr>"
            for row in table.rows
        )
        parts.append(f"<h2>{html.escape(table.title)}</h2><table><tr>{head}</tr>{body}</table>")
    return "\n".join(parts)


def html_report(report: Mapping[str, Any], *, js_host: str) -> str:
    """A self-standing page: interactive ECharts charts then the tables. ``js_host`` ends with '/'."""
    page = Page(page_title=report["period"]["title"], js_host=js_host)
    for chart in charts(report):
        page.add(_echart(chart, js_host))
    rendered: str = page.render_embed()
    style = (
        "<style>table{border-collapse:collapse;margin:8px 0}"
        "td,th{border:1px solid #ccc;padding:2px 8px}</style>"
    )
    title = f"<h1>{html.escape(report['period']['title'])}</h1>"
    return rendered.replace("</body>", f"{style}{title}{_table_html(report)}</body>", 1)
