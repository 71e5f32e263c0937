"""``python -m nlu evaluate FILE.yml [--backend embedded|rasa] [--out DIR]``.

This is a composition root of its own: the Rasa address and token come from flags or, failing those,
from RASA_URL / RASA_TOKEN.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
from pathlib import Path

from nlu.evaluate import evaluate, format_report, write_outputs
from nlu.factory import build_engine
from nlu.training_data import TrainingDataError, load_training_data


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m nlu")
    commands = parser.add_subparsers(dest="command", required=True)
    evaluate_cmd = commands.add_parser("evaluate", help="score an engine on a Rasa NLU YAML test file")
    evaluate_cmd.add_argument("file", type=Path)
    evaluate_cmd.add_argument("--backend", choices=("embedded", "rasa"), default="embedded")
    evaluate_cmd.add_argument("--out", type=Path, default=Path("var/nlu-eval"))
    evaluate_cmd.add_argument("--rasa-url", default=os.environ.get("RASA_URL", "http://127.0.0.1:5005"))
    evaluate_cmd.add_argument("--rasa-token", default=os.environ.get("RASA_TOKEN", ""))
    evaluate_cmd.add_argument("--rasa-timeout-s", type=float, default=10.0)
    evaluate_cmd.add_argument(
        "--threshold", type=float, default=0.45, help="nlu_fallback below this confidence"
    )
    evaluate_cmd.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "wenling-nlu")
    return parser


async def _evaluate(args: argparse.Namespace) -> int:
    try:
        data = load_training_data(args.file)
    except (OSError, TrainingDataError) as exc:
        print(f"cannot read {args.file}: {exc}", file=sys.stderr)
        return 2
    engine = await asyncio.to_thread(
        build_engine,
        backend=args.backend,
        data_dir=args.cache_dir,
        fallback_threshold=args.threshold,
        rasa_url=args.rasa_url,
        rasa_token=args.rasa_token,
        rasa_timeout_s=args.rasa_timeout_s,
    )
    try:
        report = await evaluate(engine, data.examples)
    finally:
        close = getattr(engine, "aclose", None)
        if close is not None:
            await close()
    fallbacks = getattr(engine, "fallbacks", 0)
    if fallbacks:
        print(f"WARNING: {fallbacks} answers came from the embedded fallback, not Rasa", file=sys.stderr)
    print(format_report(report, backend=args.backend))
    json_path, png_path = write_outputs(report, args.out, backend=args.backend)
    print(f"wrote {json_path} and {png_path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = _parser().parse_args(argv)
    return asyncio.run(_evaluate(args))


if __name__ == "__main__":
    sys.exit(main())
