"""Every ``sh`` block of README.md runs as written against a live ``python -m config run``.

The only substitutions are what differs between a person's machine and a test: the server's address
(a free port instead of :8000), the data folder (a temporary one instead of ``var/``) and the embedded
MQTT port. ``curl`` runs with ``--fail-with-body``, so an example that answers 4xx or 5xx fails.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.live_server import REPO_ROOT, free_port, live_server

README = REPO_ROOT / "README.md"
SH_BLOCK = re.compile(r"^```sh\n(.*?)^```", re.S | re.M)


def readme_sh_blocks() -> list[str]:
    blocks = SH_BLOCK.findall(README.read_text(encoding="utf-8"))
    assert blocks, "README.md has no sh examples"
    return blocks


def test_the_readme_shows_both_commands() -> None:
    text = README.read_text(encoding="utf-8")
    assert "make run" in text and "make test" in text


@pytest.mark.slow
def test_every_readme_example_works_as_written(tmp_path: Path) -> None:
    mqtt_port = free_port()
    env = {
        "RUN_EMBEDDED_WORKERS": "true",
        "EMBEDDED_MQTT_PORT": str(mqtt_port),
        "IOT_HJ212_PORT": "0",
        "SEED_DEMO_DATA": "true",
    }
    with live_server(tmp_path, command="run", env=env, startup_timeout_s=180) as base_url:
        for block in readme_sh_blocks():
            script = (
                block.replace("http://127.0.0.1:8000", base_url)
                .replace("var/", f"{tmp_path}/")
                .replace("11883", str(mqtt_port))
            )
            result = subprocess.run(
                [
                    "bash",
                    "-euo",
                    "pipefail",
                    "-c",
                    'curl() { command curl --fail-with-body "$@"; }\n' + script,
                ],
                cwd=REPO_ROOT,
                env={**os.environ, "DATA_DIR": str(tmp_path), "DATABASE_URL": "", **env},
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert result.returncode == 0, (
                f"README example failed:\n{block}\n{result.stdout}\n{result.stderr}"
            )
            assert "万昌" not in script or "万昌" in result.stdout
