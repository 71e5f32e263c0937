"""``/docs`` from local assets: sanic-ext's Swagger page template is replaced by ours, which loads the
vendored Swagger UI instead of a CDN (isolated government networks have no internet)."""

from __future__ import annotations

from typing import Any

from console.templating import TEMPLATE_DIR

SWAGGER_HTML = TEMPLATE_DIR / "swagger.html"


def configure_docs(config: Any) -> None:
    """Set before ``Extend(app)``: sanic-ext reads these when it builds the docs blueprint."""
    config.OAS_PATH_TO_SWAGGER_HTML = str(SWAGGER_HTML)
    config.OAS_UI_SWAGGER_HTML_TITLE = "温岭市建设工程管理 API 文档"
    config.OAS_UI_SWAGGER_CDN_URL = ""
