"""Schemathesis fuzzes every operation in /docs/openapi.json against the real server: no 5xx."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.live_server import live_server
from tests.wechat_stub.plugin import stub_settings
from tests.wechat_stub.server import WeChatStub

pytestmark = pytest.mark.slow


def _admin_token(base_url: str, data_dir: Path) -> str:
    password = json.loads((data_dir / "demo-accounts.json").read_text())["admin"]
    response = httpx.post(
        f"{base_url}/api/v1/auth/staff-login", json={"username": "admin", "password": password}
    )
    response.raise_for_status()
    return str(response.json()["token"])


def _wechat_env(stub: WeChatStub) -> dict[str, str]:
    """A deployment has its WeChat credentials; without them the mini-program login answers 503
    (not configured), which is right for the demo but not what the fuzzing is about."""
    return {name.upper(): str(value) for name, value in stub_settings(stub).items()}


@pytest.mark.parametrize("as_admin", [False, True], ids=["anonymous", "admin"])
def test_no_generated_request_causes_a_server_error(
    tmp_path: Path, as_admin: bool, wechat_stub: WeChatStub
) -> None:
    with live_server(tmp_path, env=_wechat_env(wechat_stub)) as base_url:
        # As admin, every role check passes, so the generated inputs reach the handlers themselves.
        auth = ["--header", f"Authorization: Bearer {_admin_token(base_url, tmp_path)}"] if as_admin else []
        result = subprocess.run(
            [
                str(Path(sys.executable).with_name("schemathesis")),
                "run",
                f"{base_url}/docs/openapi.json",
                *auth,
                # A probe's 503 is its answer (no vision worker runs here), not a server error.
                "--exclude-path",
                "/api/v1/cameras/readiness",
                "--checks",
                "not_a_server_error",
                "--max-examples",
                "25",
                "--phases",
                "examples,coverage,fuzzing",
                "--no-color",
                "--request-timeout",
                "10",
                # FUZZ_SEED=<the seed a failed run printed> replays that run's generated requests.
                *(["--seed", os.environ["FUZZ_SEED"]] if os.environ.get("FUZZ_SEED") else []),
            ],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    output = result.stdout + result.stderr
    # The failures section names each operation and its curl reproduction; the tail is the summary.
    failures = output[output.find("FAILURES") :] if "FAILURES" in output else output
    assert result.returncode == 0, failures[:8000] + "\n…\n" + output[-1500:]
