"""拉流测试: staff test a camera's stream URL and see one frame; a dead stream is a clear 422."""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from domain.accounts.rules import Role
from tests.integration.test_vision_api import CAMERA, app, bearer  # noqa: F401 - the app fixture
from tests.live_server import free_port

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "models" / "samples"


@contextlib.contextmanager
def camera_serving(frame: Path) -> Iterator[str]:
    """A camera that serves a still JPEG over HTTP, as many IP cameras do at a snapshot URL."""
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(frame.parent))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/{frame.name}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


async def set_stream(client: Any, settings: Any, url: str) -> None:
    headers = bearer(settings, Role.ADMIN)
    _, changed = await client.patch(f"/api/v1/cameras/{CAMERA}", headers=headers, json={"stream_url": url})
    assert changed.status == 200, changed.json


async def test_staff_see_one_frame_from_a_working_stream(app: Any, tmp_path: Path) -> None:  # noqa: F811
    client, settings = app.asgi_client, app.ctx.settings
    frame = tmp_path / "snapshot.jpg"
    frame.write_bytes(next(SAMPLES.glob("*.jpg")).read_bytes())
    with camera_serving(frame) as url:
        await set_stream(client, settings, url)
        _, probed = await client.post(f"/api/v1/cameras/{CAMERA}/probe", headers=bearer(settings, Role.STAFF))
    assert probed.status == 200 and probed.headers["content-type"] == "image/jpeg"
    image = cv2.imdecode(np.frombuffer(probed.body, dtype=np.uint8), cv2.IMREAD_COLOR)
    assert image is not None and image.shape == (416, 416, 3)
    _, citizen = await client.post(f"/api/v1/cameras/{CAMERA}/probe", headers=bearer(settings, Role.CITIZEN))
    assert citizen.status == 403


async def test_a_dead_stream_is_a_clear_422(app: Any) -> None:  # noqa: F811
    client, settings = app.asgi_client, app.ctx.settings
    await set_stream(client, settings, f"rtsp://127.0.0.1:{free_port()}/live")
    _, probed = await client.post(f"/api/v1/cameras/{CAMERA}/probe", headers=bearer(settings, Role.STAFF))
    assert probed.status == 422 and probed.json["code"] == "stream_unreachable"
    _, missing = await client.post("/api/v1/cameras/CAM-NOPE/probe", headers=bearer(settings, Role.STAFF))
    assert missing.status == 404
