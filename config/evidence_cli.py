"""``python -m config evidence <keygen|verify|audit>``: the evidence log's command line.

``keygen NAME`` prints a new Ed25519 signing key for ``EVIDENCE_SIGNING_KEY`` (first line, secret)
and its public vkey (second line, to publish beside the log's checkpoints).

``verify PACKAGE.zip [--key VKEY] [--checkpoint FILE]`` checks a package offline: no server, no
database, no settings. ``audit`` recomputes every leaf from the business rows and the media store
and lists the mismatches (exit status 1 when there are any).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import sys
from pathlib import Path

from domain.errors import ValidationFailed
from domain.evidence.notes import Signer, check_key_name, parse_vkey
from domain.evidence.package import verify_package


def new_signing_key(name: str) -> Signer:
    """A fresh key from the OS's random source; ``name`` (the log's origin host) is validated."""
    check_key_name(name)  # a name a verifier cannot read is refused here, not at the first checkpoint
    return Signer(name, os.urandom(32))


def verify(package: Path, *, vkey: str | None, checkpoint: Path | None) -> int:
    try:
        verifier = parse_vkey(vkey) if vkey else None
        note = checkpoint.read_text(encoding="utf-8") if checkpoint else None
        report = verify_package(package.read_bytes(), verifier=verifier, checkpoint_note=note)
    except (OSError, ValidationFailed) as error:
        print(f"FAIL  {error}")
        return 2
    for passed, message in report.checks:
        print(f"{'ok  ' if passed else 'FAIL'}  {message}")
    print("VERIFIED: the record is in the log and its files are unchanged" if report.ok else "NOT VERIFIED")
    return 0 if report.ok else 1


async def _audit() -> int:
    from config.container import open_runtime  # noqa: PLC0415 - only the audit needs the database
    from config.settings import load_settings  # noqa: PLC0415
    from domain.evidence.records import audit  # noqa: PLC0415

    settings = load_settings()
    runtime = await open_runtime(settings)
    # Older sealed hours' raw frames are dropped by retention: they cannot be compared any more.
    kept_since = dt.datetime.now(dt.UTC) - dt.timedelta(days=settings.iot_raw_frame_retention_days - 1)
    try:
        mismatches = await audit(media=runtime.media, raw_frames_kept_since=kept_since)
    finally:
        await runtime.close()
    for item in mismatches:
        print(f"leaf {item.leaf_index}  {item.kind} {item.ref}: {item.problem}")
    print(f"{len(mismatches)} mismatch(es)")
    return 1 if mismatches else 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m config evidence")
    commands = parser.add_subparsers(dest="command", required=True)
    keygen = commands.add_parser("keygen", help="print a new signing key and its public vkey")
    keygen.add_argument("name", help="the log's name, e.g. evidence.wenling.gov.cn")
    check = commands.add_parser("verify", help="verify an evidence package offline")
    check.add_argument("package", type=Path)
    check.add_argument("--key", help="the log's published vkey (default: the package's own key.txt)")
    check.add_argument("--checkpoint", type=Path, help="a checkpoint note obtained from another source")
    commands.add_parser("audit", help="recompute every leaf from rows and files; list mismatches")
    args = parser.parse_args(argv)
    if args.command == "keygen":
        try:
            signer = new_signing_key(args.name)
        except ValidationFailed as problem:
            print(f"keygen: {problem}", file=sys.stderr)
            return 2
        print(signer.private_key_text)
        print(signer.verifier.vkey)
        return 0
    if args.command == "verify":
        return verify(args.package, vkey=args.key, checkpoint=args.checkpoint)
    return asyncio.run(_audit())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
