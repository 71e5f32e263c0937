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
    "device_offline": "监测设备离线",
    "repeated_violation": "同类告警反复发生",
    "no_hardhat": "未佩戴安全帽",
}
SEVERITY_LABELS: dict[str, str] = {"info": "提示", "warning": "预警", "major": "告警", "critical": "严重告警"}

ALARM_TEXT = (
    "【{severity}】{site} {label}：当前值 {value}，限值 {limit}，时间 {time}。请及时处置并在小程序中确认。"
)
DIGEST_TEXT = "【{severity}持续】{site} {label}：{count} 次更新，最新值 {value}，限值 {limit}，时间 {time}。"
ESCALATION_TEXT = "【升级】{site} {label} 已 {minutes} 分钟未确认，请值班人员跟进（告警编号 {alarm_id}）。"


def label_of(alarm_type: str) -> str:
    return ALARM_TYPE_LABELS.get(alarm_type, alarm_type)


def format_number(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.1f}"
