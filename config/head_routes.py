"""HEAD for every GET route, added while the app is built.

sanic-ext adds these itself (``HTTP_AUTO_HEAD``) in a ``before_server_start`` listener, when the app
already counts as started: each of the ~250 additions then re-finalizes the whole router and signal
router, about 5 s of CPU per process start (and per test app). Added here, before the router is first
finalized, they cost nothing. The HEAD handler is the GET handler itself (role checks included);
Sanic sends its headers without the body.
"""

from __future__ import annotations

from inspect import isawaitable
from typing import Any

from sanic import Sanic
from sanic.response import HTTPResponse
from sanic_ext import openapi


def _head_of(get_handler: Any) -> Any:
    async def head(request: Any, *args: Any, **kwargs: Any) -> HTTPResponse:
        response = get_handler(request, *args, **kwargs)
        return await response if isawaitable(response) else response  # type: ignore[no-any-return]

    head.__name__ = getattr(get_handler, "__name__", "handler") + "_head"
    return openapi.exclude()(head)  # documented once, as its GET


def add_head_routes(app: Sanic[Any, Any]) -> None:
    for route in list(app.router.routes):
        if "GET" not in route.methods or "HEAD" in route.methods:
            continue
        app.add_route(
            _head_of(route.handler),
            route.path if route.path.startswith("/") else f"/{route.path}",
            methods=["HEAD"],
            name=f"{route.name}_head",
            strict_slashes=route.strict,
            unquote=route.unquote,
        )
