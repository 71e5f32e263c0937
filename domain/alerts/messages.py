"""The one catalog of user-facing (Simplified Chinese) text the alerts context sends to people."""

from __future__ import annotations

ALARM_TYPE_LABELS: dict[str, str] = {
    "dust_pm10_15m": "扬尘PM10(15分钟均值)超标",
    "dust_pm10_1h": "扬尘PM10(小时均值)超标",
    "dust_pm25_15m": "扬尘PM2.5(15分钟均值)超标",
    "dust_pm25_1h": "扬尘PM2.5(小时均值)超标",
    "dust_daily_exceedance": "扬尘当日超标次数过多",
    "dust_county_delta": "扬尘高于县控站",
    "noise_day_leq": "昼间噪声超标",
    "noise_night_leq": "夜间噪声超标",
    "noise_night_lmax": "夜间突发噪声超标",
    "crane_moment": "塔吊力矩超限",
    "crane_load": "塔吊起重量超限",
    "crane_wind": "塔吊风速超限",
    "crane_tilt": "塔吊倾斜超限",
    "device_offline": "监测设备离线",
    "repeated_violation": "同类告警反复发生",
    "no_hardhat": "未佩戴安全帽",
    "night_work": "夜间违规施工",
}
SEVERITY_LABELS: dict[str, str] = {"info": "提示", "warning": "预警", "major": "告警", "critical": "严重告警"}

ALARM_TEXT = "【{severity}】{site} {label}：{detail}，时间 {time}。请及时处置并在小程序中确认。"
DIGEST_TEXT = "【{severity}持续】{site} {label}：{count} 次更新，最新情况：{detail}，时间 {time}。"

# Sensor alarms: what is measured, and its unit, per alarm type. The value and the limit are said
# with the unit, in words a site manager reads at a glance.
MEASURES: dict[str, tuple[str, str]] = {
    "dust_pm10_15m": ("PM10 15分钟均值", "μg/m³"),
    "dust_pm10_1h": ("PM10 小时均值", "μg/m³"),
    "dust_pm25_15m": ("PM2.5 15分钟均值", "μg/m³"),
    "dust_pm25_1h": ("PM2.5 小时均值", "μg/m³"),
    "dust_county_delta": ("PM10 高出县控站", "μg/m³"),
    "noise_day_leq": ("昼间等效声级", "dB(A)"),
    "noise_night_leq": ("夜间等效声级", "dB(A)"),
    "noise_night_lmax": ("夜间最大声级", "dB(A)"),
    "crane_moment": ("力矩", "%"),
    "crane_load": ("起重量", "%"),
    "crane_wind": ("风速", "m/s"),
    "crane_tilt": ("塔身倾角", "°"),
}
SENSOR_DETAIL = "{measure} {value}{unit}，限值 {limit}{unit}"
DAILY_EXCEEDANCE_DETAIL = "今日 PM10 小时均值已有 {value} 个小时超标（{limit} 次即告警）"
OFFLINE_DETAIL = "{count} 台监测设备超过上报周期未上报数据：{devices}"
CAMERA_DETAIL = "识别到 {people} 人未戴安全帽，置信度 {confidence}%"
CAMERA_DETAIL_NO_COUNT = "识别到未戴安全帽人员，置信度 {confidence}%"
HARDHAT_TYPES = frozenset({"no_hardhat"})
CAMERA_TYPES = frozenset({*HARDHAT_TYPES, "night_work"})  # raised by cameras: they clear when quiet
NIGHT_WORK_DETAIL = "夜间 {time} 摄像头「{camera}」识别到 {people} 人在场作业，无有效夜间施工许可；{noise}"
NIGHT_WORK_NOISE = "同期噪声 {leq} dB(A)（最大 {lmax} dB(A)）"
NIGHT_WORK_NO_NOISE = "该工地同期无噪声监测数据"
REPEATED_DETAIL = "同一设备「{source}」的「{label}」24 小时内已发生 {count} 次"
ESCALATION_TEXT = "【升级】{site} {label} 已 {minutes} 分钟未确认，请值班人员跟进（告警编号 {alarm_id}）。"


def label_of(alarm_type: str) -> str:
    return ALARM_TYPE_LABELS.get(alarm_type, alarm_type)


def format_number(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.1f}"


def template_figures(alarm_type: str, *, value: float | None, limit: float | None) -> tuple[str, str]:
    """The template data's "value" and "limit" (ASCII, so a bureau may map them to any field type). A
    camera alarm measures nothing and has no limit: its value is the detector's confidence in percent
    ("81%"), never "0.8" against a "limit" of 0.5."""
    if alarm_type == "night_work":
        return (f"{int(value)}人" if value is not None else "-"), "-"
    if alarm_type in HARDHAT_TYPES:
        if value is None:
            return "-", "-"
        return f"{round(value * 100) if value <= 1 else round(value)}%", "-"
    return format_number(value), format_number(limit)


def _number(value: float) -> str:
    """182.0 -> "182", 57.43 -> "57.4", 0.23 -> "0.23": no trailing zeros, small values keep two
    decimals (a crane's tilt limit is 0.23 degrees)."""
    text = f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def night_work_detail(
    *, local_time: str, camera: str, people: int, leq: float | None, lmax: float | None
) -> str:
    """Night work seen by a camera, cross-checked with the site's noise over the same minutes."""
    noise = (
        NIGHT_WORK_NOISE.format(leq=_number(leq), lmax=_number(lmax if lmax is not None else leq))
        if leq is not None
        else NIGHT_WORK_NO_NOISE
    )
    return NIGHT_WORK_DETAIL.format(time=local_time, camera=camera, people=people, noise=noise)


def describe(
    alarm_type: str,
    *,
    value: float | None,
    limit: float | None,
    detail: str = "",
    people: int | None = None,
) -> str:
    """The alarm's situation in plain Chinese. ``detail`` is the caller's own text: the device list of
    an offline alarm, or the whole sentence for a type this catalog does not know."""
    if alarm_type in HARDHAT_TYPES and value is not None:
        confidence = round(value * 100) if value <= 1 else round(value)
        if people:
            return CAMERA_DETAIL.format(people=people, confidence=confidence)
        return CAMERA_DETAIL_NO_COUNT.format(confidence=confidence)
    if alarm_type == "device_offline" and value is not None:
        return OFFLINE_DETAIL.format(count=int(value), devices=detail)
    if alarm_type == "dust_daily_exceedance" and value is not None and limit is not None:
        return DAILY_EXCEEDANCE_DETAIL.format(value=int(value), limit=int(limit))
    measure = MEASURES.get(alarm_type)
    if measure is not None and value is not None and limit is not None:
        name, unit = measure
        return SENSOR_DETAIL.format(measure=name, value=_number(value), unit=unit, limit=_number(limit))
    return detail or label_of(alarm_type)


def repeated_detail(*, source: str, alarm_type: str, count: int) -> str:
    return REPEATED_DETAIL.format(source=source, label=label_of(alarm_type), count=count)


BRIEF_LIMIT = 20  # a template "thing" value is at most 20 characters (DOMAIN.md, error 47003)


def brief(alarm_type: str, *, value: float | None, limit: float | None, people: int | None = None) -> str:
    """The situation in at most 20 characters, for the template message's detail field."""
    if alarm_type in HARDHAT_TYPES and value is not None:
        confidence = round(value * 100) if value <= 1 else round(value)
        text = f"{people}人未戴安全帽,置信度{confidence}%" if people else f"未戴安全帽,置信度{confidence}%"
    elif alarm_type == "device_offline" and value is not None:
        text = f"{int(value)}台设备离线"
    elif alarm_type == "night_work" and value is not None:
        text = f"夜间{int(value)}人在场作业,无许可"
    elif alarm_type in MEASURES and value is not None and limit is not None:
        unit = MEASURES[alarm_type][1]
        text = f"{_number(value)}{unit},限值{_number(limit)}"
    else:
        text = label_of(alarm_type)
    return text[:BRIEF_LIMIT]
