"""Pure alarm lifecycle rules: states, the transition table, severities, notification cooldown and
digest, escalation, and one-time binding codes. No I/O: time is always an argument."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from domain.errors import Conflict, ValidationFailed


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    MAJOR = "major"
    CRITICAL = "critical"


SEVERITY_RANK: dict[Severity, int] = {
    Severity.INFO: 0,
    Severity.WARNING: 1,
    Severity.MAJOR: 2,
    Severity.CRITICAL: 3,
}


class AlarmState(StrEnum):
    RAISED = "raised"
    ACKNOWLEDGED = "acknowledged"
    CLEARED = "cleared"
    RESOLVED = "resolved"


class AlarmAction(StrEnum):
    UPDATE = "update"
    ACKNOWLEDGE = "acknowledge"
    CLEAR = "clear"
    RESOLVE = "resolve"


# The lifecycle: raised -> (updated) -> acknowledged -> cleared or resolved.
TRANSITIONS: dict[tuple[AlarmState, AlarmAction], AlarmState] = {
    (AlarmState.RAISED, AlarmAction.UPDATE): AlarmState.RAISED,
    (AlarmState.RAISED, AlarmAction.ACKNOWLEDGE): AlarmState.ACKNOWLEDGED,
    (AlarmState.RAISED, AlarmAction.CLEAR): AlarmState.CLEARED,
    (AlarmState.RAISED, AlarmAction.RESOLVE): AlarmState.RESOLVED,
    (AlarmState.ACKNOWLEDGED, AlarmAction.UPDATE): AlarmState.ACKNOWLEDGED,
    (AlarmState.ACKNOWLEDGED, AlarmAction.CLEAR): AlarmState.CLEARED,
    (AlarmState.ACKNOWLEDGED, AlarmAction.RESOLVE): AlarmState.RESOLVED,
}
OPEN_STATES = frozenset({AlarmState.RAISED, AlarmState.ACKNOWLEDGED})


def next_state(state: AlarmState, action: AlarmAction) -> AlarmState:
    try:
        return TRANSITIONS[(state, action)]
    except KeyError:
        raise Conflict(
            f"cannot {action.value} an alarm that is {state.value}", code="invalid_alarm_transition"
        ) from None


def parse_severity(value: str) -> Severity:
    try:
        return Severity(value.strip().lower())
    except ValueError:
        raise ValidationFailed(f"unknown severity {value!r}", code="invalid_severity") from None


def higher(a: Severity, b: Severity) -> Severity:
    return a if SEVERITY_RANK[a] >= SEVERITY_RANK[b] else b


def active_key(source: str, alarm_type: str) -> str:
    return f"{source}|{alarm_type}"


@dataclass(frozen=True, slots=True)
class NotifyDecision:
    """Whether to tell the bound managers now, and whether it is a digest of updates."""

    send: bool
    digest: bool = False


def notification_due(
    *,
    created: bool,
    severity_rose: bool,
    notified_at: dt.datetime | None,
    pending_updates: int,
    now: dt.datetime,
    cooldown: dt.timedelta,
) -> NotifyDecision:
    """A new alarm or a higher severity is told at once; plain repeats are folded into one digest per
    cooldown period, so a value hovering at the limit cannot flood a manager's phone."""
    if created or severity_rose or notified_at is None:
        return NotifyDecision(send=True)
    if pending_updates > 0 and now - notified_at >= cooldown:
        return NotifyDecision(send=True, digest=True)
    return NotifyDecision(send=False)


def escalation_due(
    *,
    severity: Severity,
    state: AlarmState,
    raised_at: dt.datetime,
    escalated_at: dt.datetime | None,
    now: dt.datetime,
    after: dt.timedelta,
) -> bool:
    """Major and critical alarms nobody acknowledged within ``after`` go to the bureau's duty staff."""
    return (
        SEVERITY_RANK[severity] >= SEVERITY_RANK[Severity.MAJOR]
        and state is AlarmState.RAISED
        and escalated_at is None
        and now - raised_at >= after
    )


BINDING_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O/1/I: read aloud over the phone
BINDING_CODE_LENGTH = 8
BINDING_CODE_TTL = dt.timedelta(days=7)


def new_binding_code() -> str:
    return "".join(secrets.choice(BINDING_CODE_ALPHABET) for _ in range(BINDING_CODE_LENGTH))


def normalise_binding_code(code: str) -> str:
    cleaned = "".join(code.split()).upper().replace("-", "")
    if len(cleaned) != BINDING_CODE_LENGTH or any(ch not in BINDING_CODE_ALPHABET for ch in cleaned):
        raise ValidationFailed("the binding code is 8 letters and digits", code="invalid_binding_code")
    return cleaned


def hash_binding_code(code: str) -> str:
    return hashlib.sha256(normalise_binding_code(code).encode()).hexdigest()


def repeated_violation(count_in_window: int, *, threshold: int) -> bool:
    """The same rule on the same device (or camera) ``threshold`` times within the window is itself an
    alarm. The caller counts per (source, alarm_type): three different devices are not a repeat."""
    return count_in_window >= threshold


# Not violations: a device going silent is a maintenance matter, and a repeat of a repeat is noise.
NOT_REPEATABLE = frozenset({"device_offline", "repeated_violation"})


def counts_as_repeatable(alarm_type: str) -> bool:
    return alarm_type not in NOT_REPEATABLE


class DeviceStatus(StrEnum):
    """A device's life cycle as staff see it. Only a commissioned device (one that has reported at
    least once) can be offline; one that never reported is waiting to be installed, not broken."""

    NOT_COMMISSIONED = "not_commissioned"
    ONLINE = "online"
    OFFLINE = "offline"


def device_status(*, last_report: float | None, interval_s: float, factor: float, now: float) -> DeviceStatus:
    """``last_report`` and ``now`` are epoch seconds. Offline: silent for ``factor`` x its own
    reporting interval (DOMAIN.md: 3 x by default)."""
    if last_report is None:
        return DeviceStatus.NOT_COMMISSIONED
    if now - last_report >= factor * max(1.0, interval_s):
        return DeviceStatus.OFFLINE
    return DeviceStatus.ONLINE


def closing_time(*, at: dt.datetime, raised_at: dt.datetime) -> dt.datetime:
    """An alarm never closes before it was raised, whatever clock the closing report carries."""
    return max(at, raised_at)


@dataclass(frozen=True, slots=True)
class CameraClearPolicy:
    """A camera alarm clears by itself after ``clean_inferences`` inferences in a row that no longer
    see the violation, or when no camera has reported it for ``quiet`` (configurable, ``camera:``
    in alert_rules.yml)."""

    clean_inferences: int = 5
    quiet: dt.timedelta = dt.timedelta(minutes=10)

    @classmethod
    def from_config(cls, raw: Mapping[str, Any]) -> CameraClearPolicy:
        return cls(
            clean_inferences=max(1, int(raw.get("clear_after_clean_inferences", 5))),
            quiet=dt.timedelta(minutes=float(raw.get("clear_after_quiet_min", 10))),
        )


def camera_clear_due(
    *, clean_count: int, last_seen_at: dt.datetime, now: dt.datetime, policy: CameraClearPolicy
) -> bool:
    return clean_count >= policy.clean_inferences or now - last_seen_at >= policy.quiet
