"""``make bench``: run every ``tests/bench/bench_*.py`` in its own process and collect the JSON lines.

``python -m tests.bench projects nlu`` runs only those. Results go to ``tests/bench/results/``.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(selected: list[str]) -> int:
    names = sorted(path.stem.removeprefix("bench_") for path in HERE.glob("bench_*.py"))
    chosen = [name for name in names if not selected or name in selected]
    results, failures = [], []
    for name in chosen:
        print(f"== bench {name}", flush=True)
        completed = subprocess.run(
            [sys.executable, "-m", f"tests.bench.bench_{name}"], capture_output=True, text=True, check=False
        )
        sys.stderr.write(completed.stderr[-4000:])
        lines = [line for line in completed.stdout.splitlines() if line.startswith("{")]
        if completed.returncode != 0 or not lines:
            failures.append(name)
            print(completed.stdout[-2000:])
            continue
        print(lines[-1], flush=True)
        results.append(json.loads(lines[-1]))
    out_dir = HERE / "results"
    out_dir.mkdir(exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    (out_dir / f"bench-{stamp}.json").write_text(json.dumps(results, ensure_ascii=False, indent=2))
    if failures:
        print(f"failed benchmarks: {', '.join(failures)}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
