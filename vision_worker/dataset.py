"""``python -m vision_worker dataset export``: the labelled samples (staff verdicts on camera alarms)
as a YOLO dataset that ultralytics and ``evaluate`` read as they are.

```
OUT/data.yaml                 path: ., train: images/train, val: images/val, names: the detector's classes
OUT/images/{train,val}/*.jpg  the raw frames (never the evidence JPEG with our boxes drawn on it)
OUT/labels/{train,val}/*.txt  one line per positive box: ``class cx cy w h``, normalised 0..1
```

A rejected box has no line: the frame teaches that nothing is there (a hard negative); a frame with
no positive box gets an empty label file, which YOLO trainers read as background. Each frame's name
is ``<camera>_<YYYYMMDD>_<HHMMSS>_a<alarm id>`` (Asia/Shanghai), so a per-camera-day figure can be
computed from any exported folder; whole camera-days go to train or val (``split_of``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from tortoise import Tortoise

from adapters.media_store import LocalMediaStore
from adapters.s3_media import S3Options, open_s3_media
from config.settings import Settings
from domain.ports import MediaStore
from domain.vision import samples
from domain.vision.rules import Box
from domain.vision.sample_rules import BoxRole, LabelBox, Split, split_of
from domain.vision.samples import SampleRecord

SHANGHAI = ZoneInfo("Asia/Shanghai")
STEM_RE = re.compile(r"^(?P<camera>[A-Za-z0-9_-]+)_(?P<day>\d{8})_(?P<time>\d{6})_a(?P<alarm>\d+)$")


class NothingToExport(ValueError):
    """No sample in the period: an empty dataset must fail loudly, not train on nothing."""


def sample_stem(camera_code: str, captured_at: dt.datetime, alarm_id: int) -> str:
    local = captured_at.astimezone(SHANGHAI)
    return f"{camera_code}_{local:%Y%m%d}_{local:%H%M%S}_a{alarm_id}"


def camera_day(stem: str) -> tuple[str, dt.date] | None:
    """(camera, local day) of an exported frame's name; None for a name this export did not write."""
    found = STEM_RE.match(stem)
    if found is None:
        return None
    return found["camera"], dt.datetime.strptime(found["day"], "%Y%m%d").date()  # noqa: DTZ007 - a local date


def yolo_line(class_id: int, box: Box, *, width: int, height: int) -> str | None:
    """``class cx cy w h`` normalised to the frame; the box is clipped to the frame first, and a box
    with nothing left on the frame has no line."""
    x1, y1 = min(max(box[0], 0.0), width), min(max(box[1], 0.0), height)
    x2, y2 = min(max(box[2], 0.0), width), min(max(box[3], 0.0), height)
    if x2 - x1 < 1.0 or y2 - y1 < 1.0:
        return None
    cx, cy = (x1 + x2) / 2 / width, (y1 + y2) / 2 / height
    return f"{class_id} {cx:.6f} {cy:.6f} {(x2 - x1) / width:.6f} {(y2 - y1) / height:.6f}"


def label_lines(
    boxes: Sequence[LabelBox], *, class_names: Sequence[str], width: int, height: int
) -> list[str]:
    """The label file of one sample: its positive boxes of a class the detector has."""
    lines = []
    for box in boxes:
        if box.role is not BoxRole.POSITIVE or box.label not in class_names:
            continue
        line = yolo_line(class_names.index(box.label), box.box, width=width, height=height)
        if line is not None:
            lines.append(line)
    return lines


def data_yaml(class_names: Sequence[str]) -> str:
    # JSON strings are valid YAML scalars: class names are quoted without a YAML library.
    names = "".join(f"  {index}: {json.dumps(name)}\n" for index, name in enumerate(class_names))
    return f"path: .\ntrain: images/train\nval: images/val\nnames:\n{names}"


@dataclass(frozen=True, slots=True)
class Planned:
    record: SampleRecord
    split: Split
    stem: str


def plan(records: Sequence[SampleRecord], *, val_fraction: float) -> list[Planned]:
    """Each sample's split (by its camera and local day) and file name."""
    return [
        Planned(
            record,
            split_of(
                record.camera_code, record.captured_at.astimezone(SHANGHAI).date(), val_fraction=val_fraction
            ),
            sample_stem(record.camera_code, record.captured_at, record.alarm_id),
        )
        for record in records
    ]


@dataclass(slots=True)
class ExportSummary:
    images: dict[Split, int] = field(default_factory=lambda: dict.fromkeys(Split, 0))
    camera_days: dict[Split, set[tuple[str, dt.date]]] = field(
        default_factory=lambda: {s: set() for s in Split}
    )
    positives: int = 0
    negatives: int = 0


def _prepare(out: Path) -> None:
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty: export into a new folder (old frames would mix in)")
    for kind in ("images", "labels"):
        for split in Split:
            (out / kind / split.value).mkdir(parents=True, exist_ok=True)


def _write(out: Path, item: Planned, image: bytes, lines: list[str]) -> None:
    (out / "images" / item.split.value / f"{item.stem}.jpg").write_bytes(image)
    (out / "labels" / item.split.value / f"{item.stem}.txt").write_text(
        "".join(f"{line}\n" for line in lines)
    )


async def export_dataset(
    records: Sequence[SampleRecord],
    *,
    media: MediaStore,
    out: Path,
    class_names: Sequence[str],
    val_fraction: float,
) -> ExportSummary:
    if not records:
        raise NothingToExport("no labelled samples in the period")
    await asyncio.to_thread(_prepare, out)
    summary = ExportSummary()
    for item in plan(records, val_fraction=val_fraction):
        sample = item.record
        lines = label_lines(sample.boxes, class_names=class_names, width=sample.width, height=sample.height)
        await asyncio.to_thread(_write, out, item, await media.get(sample.frame_ref), lines)
        summary.images[item.split] += 1
        summary.camera_days[item.split].add(
            (sample.camera_code, sample.captured_at.astimezone(SHANGHAI).date())
        )
        summary.positives += len(lines)
        summary.negatives += sum(box.role is BoxRole.NEGATIVE for box in sample.boxes)
    await asyncio.to_thread((out / "data.yaml").write_text, data_yaml(class_names))
    return summary


def _tortoise_url(url: str) -> str:
    if url.startswith(("postgresql://", "postgres://")):
        return "asyncpg://" + url.split("://", 1)[1]
    return url


async def run_export(
    settings: Settings, *, since: dt.date, out: Path, class_names: Sequence[str], val_fraction: float
) -> ExportSummary:
    """Reads the samples (the database and media store the server uses) and writes the dataset.

    An entry point may not import the composition root, so the vision context's tables and the media
    store are opened here, from the same settings."""
    start = dt.datetime.combine(since, dt.time(), tzinfo=SHANGHAI)
    await Tortoise.init(
        db_url=_tortoise_url(settings.effective_database_url),
        modules={"vision": ["domain.vision.models"]},
        use_tz=True,
        timezone="UTC",
    )
    try:
        records = await samples.samples_since(start)
    finally:
        await Tortoise.close_connections()
    async with contextlib.AsyncExitStack() as stack:
        media: MediaStore = LocalMediaStore(settings.data_dir / "media")
        if settings.media_s3_endpoint:
            options = S3Options(
                endpoint=settings.media_s3_endpoint,
                bucket=settings.media_s3_bucket,
                access_key=settings.media_s3_access_key.get_secret_value(),
                secret_key=settings.media_s3_secret_key.get_secret_value(),
                region=settings.media_s3_region,
                prefix=settings.media_s3_prefix,
            )
            media = await open_s3_media(options, stack)
        return await export_dataset(
            records, media=media, out=out, class_names=class_names, val_fraction=val_fraction
        )


def print_summary(out: Path, summary: ExportSummary) -> None:
    for split in Split:
        days = len(summary.camera_days[split])
        print(f"{split.value:<6}{summary.images[split]:>6} image(s) from {days} camera-day(s)")
    print(f"{summary.positives} positive box(es), {summary.negatives} hard negative(s); {out / 'data.yaml'}")
    for split in Split:
        if not summary.images[split]:
            print(f"warning: no camera-day fell in {split.value}; export a longer period", file=sys.stderr)


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``dataset export --since YYYY-MM-DD --out DIR [--val-fraction F]`` on ``python -m vision_worker``."""
    dataset = commands.add_parser("dataset", help="the labelled samples of staff verdicts as a YOLO dataset")
    actions = dataset.add_subparsers(dest="dataset_command", required=True)
    export = actions.add_parser("export", help="write images/, labels/ and data.yaml, split by camera-day")
    export.add_argument(
        "--since", required=True, type=dt.date.fromisoformat, help="first local day, YYYY-MM-DD"
    )
    export.add_argument("--out", required=True, type=Path, help="a new or empty folder")
    export.add_argument("--val-fraction", type=float, default=0.2, help="share of camera-days in val (0..1)")


def cmd_dataset(args: argparse.Namespace, settings: Settings, *, class_names: Sequence[str]) -> int:
    if not 0.0 <= args.val_fraction <= 1.0:
        print("dataset export: --val-fraction is between 0 and 1", file=sys.stderr)
        return 2
    try:
        summary = asyncio.run(
            run_export(
                settings,
                since=args.since,
                out=args.out,
                class_names=class_names,
                val_fraction=args.val_fraction,
            )
        )
    except (NothingToExport, FileExistsError) as error:
        print(f"dataset export: {error} (since {args.since})", file=sys.stderr)
        return 2
    print_summary(args.out, summary)
    return 0
