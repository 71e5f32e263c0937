"""NLU latency and memory: the embedded engine's parse p50/p99 and resident memory, and, when RASA_URL
is set, Rasa's ``/model/parse`` measured in the same run with the speed ratio between them.

``python -m tests.bench.bench_nlu`` prints one JSON line.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path

import httpx

from nlu.embedded.engine import EmbeddedEngine
from nlu.training_data import load_training_data

SPLIT = Path(__file__).resolve().parent.parent / "nlu" / "test_split.yml"
EMBEDDED_PARSES = 3000
RASA_PARSES = 300
GAZETTEER_PROJECTS = 10_000  # Wenling's scale ten times over


def _rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _percentiles(samples_s: list[float]) -> tuple[float, float]:
    ordered = sorted(samples_s)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered) * 1000, p99 * 1000


def _rasa_rss_mb() -> float | None:
    pid_file = Path(os.environ.get("RASA_PID_FILE", "var/rasa/rasa.pid"))
    try:
        return round(_rss_mb(pid_file.read_text().strip()), 1)
    except (OSError, ValueError):
        return None


def main() -> None:
    rss_before = _rss_mb()
    started = time.perf_counter()
    engine = EmbeddedEngine.load_or_train(cache_dir=None, fallback_threshold=0.45)
    train_s = time.perf_counter() - started
    engine.refresh_gazetteer(
        projects=[(f"WL-2026-{i:05d}", f"测试{i}号地块住宅小区新建工程") for i in range(GAZETTEER_PROJECTS)],
        companies=[f"浙江测试{i}建设有限公司" for i in range(GAZETTEER_PROJECTS // 10)],
    )
    texts = [example.text for example in load_training_data(SPLIT).examples]
    for text in texts:
        engine.parse_sync(text)
    samples, cpu_samples = [], []
    for index in range(EMBEDDED_PARSES):
        text = texts[index % len(texts)]
        begin, cpu_begin = time.perf_counter(), time.thread_time()
        engine.parse_sync(text)
        samples.append(time.perf_counter() - begin)
        cpu_samples.append(time.thread_time() - cpu_begin)
    embedded_p50, embedded_p99 = _percentiles(samples)
    # CPU time of the parsing thread: the parse's own cost, without time spent preempted on a busy host.
    cpu_p50, cpu_p99 = _percentiles(cpu_samples)
    result: dict[str, object] = {
        "bench": "nlu_parse",
        "embedded_parses": EMBEDDED_PARSES,
        "gazetteer_projects": GAZETTEER_PROJECTS,
        "embedded_train_s": round(train_s, 2),
        "embedded_p50_ms": round(embedded_p50, 3),
        "embedded_p99_ms": round(embedded_p99, 3),
        "embedded_cpu_p50_ms": round(cpu_p50, 3),
        "embedded_cpu_p99_ms": round(cpu_p99, 3),
        "load_average_1m": os.getloadavg()[0],
        "rss_mb": round(_rss_mb(), 1),
        "rss_engine_mb": round(_rss_mb() - rss_before, 1),
    }
    rasa_url = os.environ.get("RASA_URL")
    if rasa_url:
        params = {"token": os.environ.get("RASA_TOKEN", "")}
        rasa_samples = []
        with httpx.Client(timeout=30) as client:
            for text in texts[:10]:
                client.post(f"{rasa_url}/model/parse", params=params, json={"text": text}).raise_for_status()
            for index in range(RASA_PARSES):
                begin = time.perf_counter()
                client.post(
                    f"{rasa_url}/model/parse", params=params, json={"text": texts[index % len(texts)]}
                ).raise_for_status()
                rasa_samples.append(time.perf_counter() - begin)
        rasa_p50, rasa_p99 = _percentiles(rasa_samples)
        result |= {
            "rasa_parses": RASA_PARSES,
            "rasa_p50_ms": round(rasa_p50, 3),
            "rasa_p99_ms": round(rasa_p99, 3),
            "rasa_rss_mb": _rasa_rss_mb(),
            "speedup_p50": round(rasa_p50 / embedded_p50, 1),
            "speedup_p99": round(rasa_p99 / embedded_p99, 1),
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
