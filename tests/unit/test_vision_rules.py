"""Tracker, debounce, the no_hardhat rule and its cooldowns, on scripted detections."""

from __future__ import annotations

from domain.vision.rules import (
    Detection,
    IouTracker,
    NoHardhatRule,
    TrackerConfig,
    ViolationConfig,
    camera_device_key,
    cut_by_edge,
    device_key_matches,
    in_work_zone,
    iou,
)

W, H = 640, 480


def head(x: float, y: float = 200, score: float = 0.8, label: str = "head") -> Detection:
    return Detection(label, score, (x, y, x + 40, y + 40))


def run(
    rule: NoHardhatRule, tracker: IouTracker, frames: list[list[Detection]], *, start: float = 0.0
) -> list[int]:
    """Frame index of each violation, one frame per second."""
    raised = []
    for index, detections in enumerate(frames):
        violation = rule.observe(tracker.update(detections), width=W, height=H, now=start + index)
        if violation is not None:
            raised.append(index)
    return raised


def test_iou_basics() -> None:
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (20, 20, 30, 30)) == 0.0
    assert abs(iou((0, 0, 10, 10), (5, 0, 15, 10)) - 1 / 3) < 1e-9


def test_tracker_keeps_identity_of_a_moving_head_and_separates_two() -> None:
    tracker = IouTracker()
    first = tracker.update([head(100), head(400)])
    second = tracker.update([head(405), head(104)])
    ids_first = {d.box[0]: t.track_id for t, d in first}
    ids_second = {d.box[0]: t.track_id for t, d in second}
    assert ids_second[104] == ids_first[100]
    assert ids_second[405] == ids_first[400]
    assert ids_first[100] != ids_first[400]


def test_tracker_forgets_a_track_after_max_misses() -> None:
    tracker = IouTracker(TrackerConfig(max_misses=2))
    ((track, _),) = tracker.update([head(100)])
    for _ in range(3):
        tracker.update([])
    ((again, _),) = tracker.update([head(100)])
    assert again.track_id != track.track_id


def test_a_bare_head_is_confirmed_after_min_frames_once() -> None:
    rule = NoHardhatRule(ViolationConfig(min_frames=3, camera_cooldown_s=0))
    frames = [[head(100 + i)] for i in range(10)]
    assert run(rule, IouTracker(), frames) == [2]  # third frame, then the track cooldown holds


def test_flicker_is_debounced_by_the_median() -> None:
    rule = NoHardhatRule(ViolationConfig(min_frames=3, window=5))
    # Mostly a helmet, one frame misread as a bare head: the median stays at 0.
    labels = ["helmet", "helmet", "head", "helmet", "helmet", "head", "helmet"]
    frames = [[head(100, label=label)] for label in labels]
    assert run(rule, IouTracker(), frames) == []


def test_low_scores_never_confirm() -> None:
    rule = NoHardhatRule(ViolationConfig(min_frames=3, min_median_score=0.5))
    assert run(rule, IouTracker(), [[head(100, score=0.4)] for _ in range(8)]) == []


def test_a_head_cut_by_the_frame_edge_is_ignored() -> None:
    assert cut_by_edge((0, 100, 40, 140), width=W, height=H)
    assert cut_by_edge((600, 100, 640, 140), width=W, height=H)
    assert not cut_by_edge((100, 100, 140, 140), width=W, height=H)
    rule = NoHardhatRule(ViolationConfig(min_frames=3))
    assert run(rule, IouTracker(), [[head(0)] for _ in range(6)]) == []


def test_work_zone_limits_where_violations_count() -> None:
    left_half = ((0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0))
    assert in_work_zone((100, 100, 140, 140), left_half, width=W, height=H)
    assert not in_work_zone((500, 100, 540, 140), left_half, width=W, height=H)
    assert in_work_zone((500, 100, 540, 140), None, width=W, height=H)
    rule = NoHardhatRule(ViolationConfig(min_frames=3), zone=left_half)
    assert run(rule, IouTracker(), [[head(500)] for _ in range(6)]) == []
    rule = NoHardhatRule(ViolationConfig(min_frames=3), zone=left_half)
    assert run(rule, IouTracker(), [[head(100)] for _ in range(6)]) == [2]


def test_track_cooldown_allows_the_same_track_again_only_after_it_expires() -> None:
    rule = NoHardhatRule(ViolationConfig(min_frames=3, track_cooldown_s=5, camera_cooldown_s=0))
    frames = [[head(100)] for _ in range(12)]
    assert run(rule, IouTracker(), frames) == [2, 7]


def test_camera_cooldown_silences_a_second_person_meanwhile() -> None:
    rule = NoHardhatRule(ViolationConfig(min_frames=3, camera_cooldown_s=60))
    tracker = IouTracker()
    first = [[head(100)] for _ in range(4)]
    # A second bare head appears later: within the camera cooldown, no second alarm.
    both = [[head(100), head(400)] for _ in range(6)]
    assert run(rule, tracker, first + both) == [2]
    # After the camera cooldown the other person (never alarmed) may raise.
    assert run(rule, tracker, [[head(100), head(400)] for _ in range(3)], start=100.0) == [0]


def test_two_bare_heads_in_one_frame_make_one_alarm_that_counts_and_marks_both() -> None:
    """Issue 16: the message counts the people and the evidence marks every offending box; neither
    person raises a second alarm of their own right after the camera cooldown."""
    rule = NoHardhatRule(ViolationConfig(min_frames=3, camera_cooldown_s=10, track_cooldown_s=600))
    tracker = IouTracker()
    violations = []
    for second in range(30):
        found = rule.observe(
            tracker.update([head(100), head(400), head(250, label="helmet")]), width=W, height=H, now=second
        )
        if found is not None:
            violations.append(found)
    assert len(violations) == 1
    (violation,) = violations
    assert violation.people == 2
    assert sorted(d.box[0] for d in violation.offenders) == [100, 400]  # not the helmet


def test_device_keys_are_per_camera_and_checked_in_constant_time() -> None:
    key = camera_device_key(b"secret", "CAM-0031-1")
    assert key != camera_device_key(b"secret", "CAM-0031-2")
    assert key != camera_device_key(b"other", "CAM-0031-1")
    assert device_key_matches(b"secret", "CAM-0031-1", key)
    assert not device_key_matches(b"secret", "CAM-0031-2", key)
