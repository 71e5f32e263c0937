"""The labelling loop's pure parts: which box a verdict makes a positive or a hard negative, the
verdict body's validation, the YOLO label lines, the frame names and the camera-day split."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.errors import ValidationFailed
from domain.vision.sample_rules import (
    BoxRole,
    LabelBox,
    SeenBox,
    Split,
    Verdict,
    check_inside,
    label_boxes,
    parse_verdict,
    split_of,
)
from vision_worker.dataset import camera_day, data_yaml, label_lines, sample_stem, yolo_line

BARE = SeenBox("head", 0.91, (100.0, 50.0, 140.0, 100.0), offender=True)
OTHER_BARE = SeenBox("head", 0.42, (300.0, 60.0, 330.0, 100.0), offender=False)
HELMET = SeenBox("helmet", 0.88, (200.0, 40.0, 250.0, 90.0), offender=False)
SEEN = (BARE, OTHER_BARE, HELMET)
NAMES = ("head", "helmet", "person")


def roles(boxes: tuple[LabelBox, ...]) -> list[tuple[str, BoxRole]]:
    return [(box.label, box.role) for box in boxes]


def test_confirmed_keeps_every_box_as_a_positive_of_its_class() -> None:
    boxes = label_boxes(Verdict.CONFIRMED, SEEN)
    assert roles(boxes) == [
        ("head", BoxRole.POSITIVE),
        ("head", BoxRole.POSITIVE),
        ("helmet", BoxRole.POSITIVE),
    ]
    assert [box.box for box in boxes] == [s.box for s in SEEN]


def test_rejected_makes_only_the_triggering_boxes_hard_negatives() -> None:
    boxes = label_boxes(Verdict.REJECTED, SEEN)
    assert roles(boxes) == [
        ("head", BoxRole.NEGATIVE),
        ("head", BoxRole.POSITIVE),
        ("helmet", BoxRole.POSITIVE),
    ]


def test_corrected_boxes_replace_the_models_and_an_uncovered_offender_stays_a_negative() -> None:
    # Staff say the "bare head" is a helmet, drawn a little wider, and add a head the model missed.
    corrected = [("helmet", (98.0, 48.0, 142.0, 102.0)), ("head", (400.0, 60.0, 430.0, 95.0))]
    boxes = label_boxes(Verdict.CONFIRMED, SEEN, corrected)
    assert roles(boxes) == [
        ("helmet", BoxRole.POSITIVE),
        ("head", BoxRole.POSITIVE),
        ("head", BoxRole.NEGATIVE),
    ]
    assert boxes[2].box == BARE.box
    # A corrected head over the offender covers it: no negative.
    covered = label_boxes(Verdict.REJECTED, SEEN, [("head", (101.0, 51.0, 141.0, 101.0))])
    assert roles(covered) == [("head", BoxRole.POSITIVE)]


def test_seen_and_label_boxes_survive_json() -> None:
    assert SeenBox.from_json(BARE.to_json()) == BARE
    box = LabelBox("head", (1.5, 2.0, 30.0, 40.0), BoxRole.NEGATIVE)
    assert LabelBox.from_json(box.to_json()) == box


def test_a_verdict_body_is_parsed() -> None:
    given = parse_verdict(
        {"verdict": "rejected", "boxes": [{"class": "helmet", "box": [1, 2, 30, 40.5]}], "note": " 安全帽 "}
    )
    assert given.verdict is Verdict.REJECTED
    assert given.boxes == (("helmet", (1.0, 2.0, 30.0, 40.5)),)
    assert given.note == "安全帽"
    assert parse_verdict({"verdict": "confirmed"}).boxes is None


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "invalid_verdict"),
        ({"verdict": "maybe"}, "invalid_verdict"),
        ({"verdict": "confirmed", "extra": 1}, "invalid_verdict"),
        ({"verdict": "confirmed", "note": 5}, "invalid_verdict"),
        ({"verdict": "confirmed", "note": "x" * 501}, "invalid_verdict"),
        ({"verdict": "confirmed", "boxes": "head"}, "invalid_box"),
        ({"verdict": "confirmed", "boxes": [{"class": "person", "box": [0, 0, 5, 5]}]}, "invalid_box"),
        ({"verdict": "confirmed", "boxes": [{"class": "head", "box": [10, 0, 5, 5]}]}, "invalid_box"),
        ({"verdict": "confirmed", "boxes": [{"class": "head", "box": [0, 0, 5]}]}, "invalid_box"),
        ({"verdict": "confirmed", "boxes": [{"class": "head", "box": [0, 0, True, 5]}]}, "invalid_box"),
        (
            {"verdict": "confirmed", "boxes": [{"class": "head", "box": [0, 0, float("nan"), 5]}]},
            "invalid_box",
        ),
        ({"verdict": "confirmed", "boxes": [{"class": "head"}]}, "invalid_box"),
    ],
)
def test_bad_verdict_bodies_are_refused_with_a_code(body: dict[str, object], code: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse_verdict(body)
    assert refused.value.code == code


def test_corrected_boxes_must_lie_on_the_frame() -> None:
    check_inside([("head", (0.0, 0.0, 416.0, 416.0))], width=416, height=416)
    with pytest.raises(ValidationFailed):
        check_inside([("head", (0.0, 0.0, 420.0, 100.0))], width=416, height=416)


def test_yolo_lines_are_normalised_centre_and_size_clipped_to_the_frame() -> None:
    assert (
        yolo_line(0, (100.0, 50.0, 140.0, 100.0), width=400, height=200)
        == "0 0.300000 0.375000 0.100000 0.250000"
    )
    # Half off the left edge: clipped to x 0..20.
    assert (
        yolo_line(1, (-20.0, 0.0, 20.0, 100.0), width=400, height=200)
        == "1 0.025000 0.250000 0.050000 0.500000"
    )
    assert yolo_line(0, (500.0, 0.0, 600.0, 10.0), width=400, height=200) is None


def test_label_lines_hold_positives_only_with_the_detectors_class_ids() -> None:
    boxes = label_boxes(Verdict.REJECTED, SEEN)
    lines = label_lines(boxes, class_names=NAMES, width=416, height=416)
    assert [line.split()[0] for line in lines] == ["0", "1"]  # the other head, the helmet; not the offender
    assert lines[0].startswith("0 0.757212 ")  # the non-rejected head's centre x: 315 / 416
    unknown = label_lines(
        [LabelBox("dog", (0, 0, 9, 9), BoxRole.POSITIVE)], class_names=NAMES, width=9, height=9
    )
    assert unknown == []


def test_data_yaml_names_the_detector_classes_in_order() -> None:
    assert data_yaml(NAMES) == (
        'path: .\ntrain: images/train\nval: images/val\nnames:\n  0: "head"\n  1: "helmet"\n  2: "person"\n'
    )


def test_frame_names_carry_camera_and_local_day() -> None:
    at = dt.datetime(2026, 3, 1, 17, 30, 5, tzinfo=dt.UTC)  # 01:30:05 on 2 March in Wenling
    stem = sample_stem("CAM_0031-1", at, 42)
    assert stem == "CAM_0031-1_20260302_013005_a42"
    assert camera_day(stem) == ("CAM_0031-1", dt.date(2026, 3, 2))
    assert camera_day("hard_hat_workers101") is None


def test_the_split_keeps_a_camera_day_on_one_side_and_is_stable() -> None:
    days = [dt.date(2026, 1, 1) + dt.timedelta(days=n) for n in range(200)]
    groups = [(camera, day) for camera in ("CAM-1", "CAM-2", "CAM-3") for day in days]
    first = {group: split_of(*group, val_fraction=0.2) for group in groups}
    assert first == {group: split_of(*group, val_fraction=0.2) for group in groups}  # deterministic
    share = sum(split is Split.VAL for split in first.values()) / len(groups)
    assert 0.15 < share < 0.25
    # Cameras split independently: the same day is not one side for every camera.
    assert any(first[("CAM-1", day)] != first[("CAM-2", day)] for day in days)
    assert all(split_of(*group, val_fraction=0.0) is Split.TRAIN for group in groups[:50])
    assert all(split_of(*group, val_fraction=1.0) is Split.VAL for group in groups[:50])
    with pytest.raises(ValueError, match="between 0 and 1"):
        split_of("CAM-1", days[0], val_fraction=1.5)
