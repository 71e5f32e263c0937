"""Pure outbox rules: message states, the channel policy, WeChat error handling, value limits, splitting.

Nothing here touches the database or the network; time comes in as an argument.

Decision on over-long template/subscribe values (WeChat answers 47003 for them): a ``thing`` value is
free text (a site name, a description), so it is truncated to 19 characters plus ``…`` and the message
still goes out. Every other typed value (``phrase``, ``name``, ``character_string``, ``number``, ...)
carries meaning that truncation would corrupt (an application number, a status word, a person's name),
so it fails the message clearly with ``invalid_template_value`` before anything is sent.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from domain.errors import ValidationFailed

CUSTOM_WINDOW = dt.timedelta(hours=48)
CUSTOM_MAX_PER_INTERACTION = 5
BACKOFF_BASE_S = 2.0
BACKOFF_CAP_S = 600.0
RETRY_HORIZON = dt.timedelta(hours=24)  # transient failures are retried this long after the first one
CUSTOM_TEXT_MAX_BYTES = 2048
ELLIPSIS = "…"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    RECORDED = "recorded"  # no credentials: what would have been sent is kept for the demo
    FAILED = "failed"
    WAITING_FOR_INTERACTION = "waiting_for_interaction"
    DROPPED = "dropped"


# Which status may follow which. The dispatcher claims PENDING -> SENDING and ends in one of the others.
TRANSITIONS: Mapping[OutboxStatus, frozenset[OutboxStatus]] = {
    OutboxStatus.PENDING: frozenset({OutboxStatus.SENDING, OutboxStatus.DROPPED}),
    OutboxStatus.SENDING: frozenset(
        {
            OutboxStatus.SENT,
            OutboxStatus.RECORDED,
            OutboxStatus.FAILED,
            OutboxStatus.PENDING,  # a transient failure, retried later
            OutboxStatus.WAITING_FOR_INTERACTION,
            OutboxStatus.DROPPED,
        }
    ),
    OutboxStatus.WAITING_FOR_INTERACTION: frozenset({OutboxStatus.PENDING, OutboxStatus.DROPPED}),
    OutboxStatus.SENT: frozenset(),
    OutboxStatus.RECORDED: frozenset(),
    OutboxStatus.FAILED: frozenset(),
    OutboxStatus.DROPPED: frozenset(),
}


def can_transition(current: OutboxStatus, target: OutboxStatus) -> bool:
    return target in TRANSITIONS[current]


class Channel(StrEnum):
    CUSTOM = "custom"  # customer-service message, inside the 48 h / 5-message window
    TEMPLATE = "template"  # official-account template message
    SUBSCRIBE = "subscribe"  # subscribe message, one per accepted authorisation (credit)


CHANNEL_ORDER: tuple[Channel, ...] = (Channel.CUSTOM, Channel.TEMPLATE, Channel.SUBSCRIBE)


class SubscribeApp(StrEnum):
    """Where a subscribe credit was granted: the mini-program or the official account."""

    WXA = "wxa"  # cgi-bin/message/subscribe/send
    MP = "mp"  # cgi-bin/message/subscribe/bizsend


@dataclass(frozen=True, slots=True)
class TemplateContent:
    """Structured content for template/subscribe channels; ``template_key`` names an entry of
    ``config/wechat_templates.yml`` and ``data`` maps its field names (``thing1``, ``time2``) to values."""

    template_key: str
    data: dict[str, str]
    url: str = ""


@dataclass(frozen=True, slots=True)
class TemplateSpec:
    """One entry of the template catalog: the platform ids and the fields it expects."""

    key: str
    template_id: str = ""  # official-account template message id ('' = channel not available)
    subscribe_template_id: str = ""  # subscribe message id ('' = channel not available)
    # (platform field, format over the caller's data): ("thing1", "{site}"). Callers speak domain
    # terms; each deployment's chosen platform template decides the typed field names.
    fields: tuple[tuple[str, str], ...] = ()
    page: str = ""  # mini-program page opened from a subscribe message


@dataclass(frozen=True, slots=True)
class WindowState:
    """A user's customer-service window: when they last wrote and how many messages we used since."""

    last_interaction_at: dt.datetime | None = None
    custom_used: int = 0


def custom_window_open(window: WindowState, *, now: dt.datetime) -> bool:
    if window.last_interaction_at is None:
        return False
    inside = now - window.last_interaction_at < CUSTOM_WINDOW
    return inside and window.custom_used < CUSTOM_MAX_PER_INTERACTION


@dataclass(frozen=True, slots=True)
class ChannelOptions:
    """What is possible for one message right now; ``excluded`` holds channels that already refused it."""

    window: WindowState
    has_template: bool
    template_id_configured: bool
    subscribe_id_configured: bool
    subscribe_credit: bool
    excluded: frozenset[Channel] = field(default_factory=frozenset)


def choose_channel(options: ChannelOptions, *, now: dt.datetime) -> Channel | None:
    """The channel policy, in order; None means wait for the user's next interaction."""
    available = {
        Channel.CUSTOM: custom_window_open(options.window, now=now),
        Channel.TEMPLATE: options.has_template and options.template_id_configured,
        Channel.SUBSCRIBE: options.has_template
        and options.subscribe_id_configured
        and options.subscribe_credit,
    }
    for channel in CHANNEL_ORDER:
        if available[channel] and channel not in options.excluded:
            return channel
    return None


class ErrorAction(StrEnum):
    RETRY = "retry"  # transient: back off and try again (bounded)
    FALLBACK = "fallback"  # this channel is closed for this user: try the next one
    DROP_CREDIT_AND_FALLBACK = "drop_credit_and_fallback"  # the subscribe authorisation is gone
    FAIL_AND_ALERT = "fail_and_alert"  # retrying cannot help and somebody must look at it
    FAIL = "fail"  # any other refusal: retrying would repeat it


SYSTEM_BUSY = -1
NOT_CONFIGURED = -3  # ours, not the platform's: the app a channel needs has no credentials
ERRCODE_ACTIONS: Mapping[int, ErrorAction] = {
    SYSTEM_BUSY: ErrorAction.RETRY,
    NOT_CONFIGURED: ErrorAction.FALLBACK,
    45015: ErrorAction.FALLBACK,  # custom message outside the 48 h window
    45047: ErrorAction.FALLBACK,  # custom message count used up
    43101: ErrorAction.DROP_CREDIT_AND_FALLBACK,  # user refused / no subscription
    43004: ErrorAction.FALLBACK,  # user does not follow the account any more
    47003: ErrorAction.FAIL_AND_ALERT,  # template values invalid: our payload or catalog is wrong
    45009: ErrorAction.FAIL_AND_ALERT,  # daily API quota reached
}
TOKEN_ERRCODES = frozenset({40001, 40014, 42001})


def classify_error(errcode: int | None) -> ErrorAction:
    """None stands for a timeout, a connection error or an HTTP 5xx: all transient."""
    if errcode is None:
        return ErrorAction.RETRY
    return ERRCODE_ACTIONS.get(errcode, ErrorAction.FAIL)


def backoff_delay_s(attempt: int, *, jitter: Callable[[], float], cap_s: float = BACKOFF_CAP_S) -> float:
    """Exponential backoff with full jitter: ``jitter()`` returns a fraction in [0, 1)."""
    exponent = min(max(0, attempt - 1), 30)  # 2**30 * 2 s is past any cap: no float overflow
    ceiling = min(cap_s, BACKOFF_BASE_S * float(2**exponent))
    return ceiling / 2 + ceiling / 2 * jitter()


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long transient failures (timeouts, HTTP 5xx, errcode -1) are retried, and how far apart.

    The horizon is counted from the message's first failure, so a WeChat outage of minutes or hours is
    ridden out; the cap keeps the retries of a long outage frequent enough to deliver soon after it.
    """

    horizon: dt.timedelta = RETRY_HORIZON
    backoff_cap_s: float = BACKOFF_CAP_S


def next_retry_at(
    policy: RetryPolicy, *, attempt: int, first_failure_at: dt.datetime, now: dt.datetime, jitter: float
) -> dt.datetime | None:
    """When to try again after failed attempt number ``attempt``; None means give up for good.

    The last retry is placed at the horizon itself, so the message gets a try at the very end of it.
    """
    deadline = first_failure_at + policy.horizon
    if now >= deadline:
        return None
    delay = backoff_delay_s(attempt, jitter=lambda: jitter, cap_s=policy.backoff_cap_s)
    return min(now + dt.timedelta(seconds=delay), deadline)


# --- value limits ------------------------------------------------------------------------------

VALUE_LIMITS: Mapping[str, int] = {
    "thing": 20,
    "phrase": 5,
    "character_string": 32,
    "name": 10,
    "number": 32,
    "letter": 32,
    "symbol": 5,
    "amount": 11,
    "phone_number": 17,
    "car_number": 8,
    "time": 64,
    "date": 64,
}
_CHARACTER_STRING = re.compile(r"^[0-9A-Za-z_\-.:/#@+&]*$")
_NUMBER = re.compile(r"^[0-9.]*$")
_KIND = re.compile(r"^([a-z_]+?)\d*$")


def value_kind(field_name: str) -> str:
    """``thing1`` -> ``thing``; WeChat names template fields by their type plus a number."""
    match = _KIND.match(field_name)
    return match.group(1) if match else field_name


def _check_value(kind: str, value: str) -> str | None:
    """The problem with one value, or None."""
    limit = VALUE_LIMITS.get(kind)
    if limit is not None and len(value) > limit:
        return f"{kind} is limited to {limit} characters"
    if kind == "character_string" and not _CHARACTER_STRING.match(value):
        return "character_string allows only letters, digits and symbols"
    if kind == "number" and not _NUMBER.match(value):
        return "number allows only digits"
    return None


def validate_values(data: Mapping[str, str]) -> dict[str, str]:
    """The values ready to send: ``thing`` truncated with ``…``, everything else checked.

    Raises ``ValidationFailed(code="invalid_template_value")`` listing every problem.
    """
    problems: list[str] = []
    cleaned: dict[str, str] = {}
    for name, raw in data.items():
        value = str(raw).strip()
        kind = value_kind(name)
        if kind == "thing" and len(value) > VALUE_LIMITS["thing"]:
            value = value[: VALUE_LIMITS["thing"] - 1] + ELLIPSIS
        problem = _check_value(kind, value)
        if problem:
            problems.append(f"{name}: {problem}")
        cleaned[name] = value
    if problems:
        raise ValidationFailed(
            "template values break the WeChat limits", code="invalid_template_value", problems=problems
        )
    return cleaned


def _parse_fields(key: str, fields: object) -> tuple[tuple[str, str], ...]:
    """A list means the caller already uses the platform names; a mapping gives a format per field."""
    if isinstance(fields, list) and all(isinstance(name, str) for name in fields):
        return tuple((name, "{" + name + "}") for name in fields)
    if isinstance(fields, Mapping) and all(isinstance(v, str) for v in fields.values()):
        return tuple((str(name), str(fmt)) for name, fmt in fields.items())
    raise ValueError(f"template {key!r}: fields must be a list of names or a mapping name -> format")


def parse_template_catalog(raw: Mapping[str, object]) -> dict[str, TemplateSpec]:
    """Build the catalog from the parsed YAML mapping (key -> {template_id, subscribe_template_id, ...})."""
    catalog: dict[str, TemplateSpec] = {}
    for key, entry in raw.items():
        if not isinstance(entry, Mapping):
            raise ValueError(f"template {key!r} must be a mapping")
        catalog[str(key)] = TemplateSpec(
            key=str(key),
            template_id=str(entry.get("template_id") or ""),
            subscribe_template_id=str(entry.get("subscribe_template_id") or ""),
            fields=_parse_fields(str(key), entry.get("fields") or []),
            page=str(entry.get("page") or ""),
        )
    return catalog


def render_values(spec: TemplateSpec, data: Mapping[str, str]) -> dict[str, str]:
    """The platform field values for ``data``, checked against the limits (``validate_values``).

    A spec without fields sends ``data`` as it is. Raises ``ValidationFailed`` naming every problem.
    """
    if not spec.fields:
        return validate_values(data)
    rendered: dict[str, str] = {}
    missing: list[str] = []
    for name, fmt in spec.fields:
        try:
            rendered[name] = fmt.format_map(dict(data))
        except (KeyError, IndexError, ValueError):
            missing.append(name)
    if missing:
        raise ValidationFailed(
            "template data lacks what the template needs",
            code="invalid_template_value",
            problems=[f"cannot fill {name} from the data keys {sorted(data)}" for name in missing],
        )
    return validate_values(rendered)


# --- text ----------------------------------------------------------------------------------------


def split_text(text: str, *, max_bytes: int = CUSTOM_TEXT_MAX_BYTES) -> list[str]:
    """Split into UTF-8 chunks of at most ``max_bytes`` on character boundaries, preferring a line break
    in the second half of a chunk so sentences are not cut mid-line."""
    if max_bytes < 4:
        raise ValueError("max_bytes must hold at least one character")
    chunks: list[str] = []
    rest = text
    while len(rest.encode("utf-8")) > max_bytes:
        size = 0
        cut = 0
        for index, ch in enumerate(rest):
            size += len(ch.encode("utf-8"))
            if size > max_bytes:
                cut = index
                break
        newline = rest.rfind("\n", 0, cut)
        if newline >= cut // 2:
            cut = newline + 1
        chunks.append(rest[:cut])
        rest = rest[cut:]
    if rest or not chunks:
        chunks.append(rest)
    return chunks


# --- escalation and the duty roster --------------------------------------------------------------

DEFAULT_ROSTER = "default"  # the roster used for a department that has none of its own
ESCALATION_DEADLINE = dt.timedelta(minutes=10)


class EscalationState(StrEnum):
    PENDING = "pending"  # sent to the roster through WeChat, not yet known to be delivered
    DELIVERED = "delivered"  # at least one roster member got it
    FALLBACK = "fallback"  # nobody got it before the deadline: admins alerted, SMS sent


ESCALATION_TRANSITIONS: Mapping[EscalationState, frozenset[EscalationState]] = {
    EscalationState.PENDING: frozenset({EscalationState.DELIVERED, EscalationState.FALLBACK}),
    EscalationState.DELIVERED: frozenset(),
    EscalationState.FALLBACK: frozenset(),
}
DELIVERED_STATUSES = frozenset({OutboxStatus.SENT, OutboxStatus.RECORDED})


def roster_department(department: str, *, departments_with_roster: frozenset[str]) -> str:
    """Whose roster takes an escalation for ``department``: its own when it has one, else the default."""
    return department if department in departments_with_roster else DEFAULT_ROSTER


def escalation_outcome(
    statuses: list[OutboxStatus], *, created_at: dt.datetime, now: dt.datetime, deadline: dt.timedelta
) -> EscalationState | None:
    """Delivered as soon as one message is; past the deadline (or with nothing to deliver) the
    fallback; None while it may still arrive."""
    if any(status in DELIVERED_STATUSES for status in statuses):
        return EscalationState.DELIVERED
    if not statuses or now >= created_at + deadline:
        return EscalationState.FALLBACK
    return None


# Which department's roster answers an escalated alarm. Site safety (cranes, hard hats, night work)
# and dust/noise on building sites are the housing-and-construction bureau's (住建); anything not
# listed goes to it too. A city that splits dust to 生态环境 edits this table.
ALARM_DEPARTMENTS: Mapping[str, str] = {}
DEFAULT_ALARM_DEPARTMENT = "housing"


def responsible_department(alarm_type: str, *, table: Mapping[str, str] = ALARM_DEPARTMENTS) -> str:
    for prefix, department in table.items():
        if alarm_type.startswith(prefix):
            return department
    return DEFAULT_ALARM_DEPARTMENT


# --- per-recipient alarm notice policy -----------------------------------------------------------

THROTTLE_WINDOW = dt.timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class ThrottleState:
    """What one recipient last got about one rule at one site."""

    last_sent_at: dt.datetime | None = None
    last_major: bool = False
    suppressed: int = 0  # notices held back since then


@dataclass(frozen=True, slots=True)
class NoticeDecision:
    send: bool
    carried: int = 0  # held-back notices this message reports


def decide_notice(
    state: ThrottleState, *, major: bool, now: dt.datetime, window: dt.timedelta = THROTTLE_WINDOW
) -> NoticeDecision:
    """At most one message per recipient, site and rule per ``window``, carrying the count of the ones
    held back. A major goes at once unless a major for the same rule and site just went out: a rise
    from warning to major is never held back; further warnings wait for the digest."""
    if state.last_sent_at is None or now - state.last_sent_at >= window:
        return NoticeDecision(send=True, carried=state.suppressed)
    if major and not state.last_major:
        return NoticeDecision(send=True, carried=state.suppressed)
    return NoticeDecision(send=False)


def digest_due(state: ThrottleState, *, now: dt.datetime, window: dt.timedelta = THROTTLE_WINDOW) -> bool:
    """Held-back notices go out as a digest once the window after the last message has passed."""
    return state.suppressed > 0 and (state.last_sent_at is None or now - state.last_sent_at >= window)


def digest_summary(counts: Mapping[str, int], *, labels: Mapping[str, str]) -> str:
    """``扬尘超标 3 条，噪声超标 1 条`` for the held-back notices of one site, by rule."""
    parts = [f"{labels.get(rule, rule)} {count} 条" for rule, count in sorted(counts.items()) if count]
    return "，".join(parts)
