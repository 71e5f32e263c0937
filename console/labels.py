"""The console's message catalog: Chinese labels for every enum a page shows, in one place."""

from __future__ import annotations

from domain.accounts.rules import Department, Role
from domain.alerts.messages import ALARM_TYPE_LABELS, SEVERITY_LABELS
from domain.complaints.messages import ACTION_LABELS
from domain.complaints.rules import STATE_LABELS, State
from domain.complaints.sla import SLA_LABELS, SlaStatus
from domain.notifications.rules import Channel, OutboxStatus

COMPLAINT_STATES: dict[str, str] = {state.value: STATE_LABELS[state] for state in State}
SLA_STATUSES: dict[str, str] = {status.value: SLA_LABELS[status] for status in SlaStatus}
COMPLAINT_ACTIONS: dict[str, str] = dict(ACTION_LABELS)
ALARM_STATES: dict[str, str] = {
    "raised": "未确认",
    "acknowledged": "已确认",
    "cleared": "已恢复",
    "resolved": "已处置",
}
ALARM_SEVERITIES: dict[str, str] = dict(SEVERITY_LABELS)
ALARM_TYPES: dict[str, str] = dict(ALARM_TYPE_LABELS)
ALARM_EVENT_KINDS: dict[str, str] = {
    "raised": "产生",
    "updated": "更新",
    "acknowledged": "确认",
    "cleared": "恢复",
    "resolved": "处置",
    "escalated": "升级",
    "violation_confirmed": "确认违规",
    "notified": "已通知",
    "verdict_confirmed": "标注：识别正确",
    "verdict_rejected": "标注：误报",
}
ALARM_NOTICES: dict[str, str] = {
    "acknowledged": "已确认告警",
    "confirmed": "已标注为识别正确，画面已存为训练样本",
    "rejected": "已标注为误报，画面已存为训练样本",
}
VERDICTS: dict[str, str] = {"confirmed": "识别正确", "rejected": "误报"}
ROLES: dict[str, str] = {
    Role.CITIZEN.value: "市民",
    Role.ENTERPRISE.value: "企业",
    Role.SITE_MANAGER.value: "项目负责人",
    Role.STAFF.value: "工作人员",
    Role.ADMIN.value: "管理员",
}
DEPARTMENTS: dict[str, str] = {
    Department.HOUSING.value: "住建局",
    Department.PLANNING.value: "自然资源和规划局",
    Department.DEVELOPMENT.value: "发改局",
    Department.ENVIRONMENT.value: "生态环境局",
    Department.FIRE.value: "消防救援",
    Department.CIVIL_DEFENCE.value: "人防办",
    Department.ARCHIVES.value: "档案馆",
    Department.TRANSPORT.value: "交通运输局",
    Department.POLICE.value: "公安",
    Department.EMERGENCY.value: "应急管理局",
    Department.HEALTH.value: "卫生健康局",
    Department.URBAN_MANAGEMENT.value: "综合行政执法局",
}
OUTBOX_STATES: dict[str, str] = {
    OutboxStatus.PENDING.value: "待发送",
    OutboxStatus.SENDING.value: "发送中",
    OutboxStatus.SENT.value: "已送达",
    OutboxStatus.RECORDED.value: "已记录（未配置微信）",
    OutboxStatus.FAILED.value: "发送失败",
    OutboxStatus.WAITING_FOR_INTERACTION.value: "待用户下次互动",
    OutboxStatus.DROPPED.value: "已放弃",
}
COMPLAINT_CHANNELS: dict[str, str] = {
    "wechat": "公众号",
    "miniprogram": "小程序",
    "open311": "12345 平台",
    "api": "接口",
}
CHANNELS: dict[str, str] = {
    Channel.CUSTOM.value: "客服消息",
    Channel.TEMPLATE.value: "模板消息",
    Channel.SUBSCRIBE.value: "订阅消息",
}

# Staff actions on a complaint that take only an optional note, with the button text.
COMPLAINT_SIMPLE_ACTIONS: dict[str, str] = {
    "accept": "签收",
    "start": "开始办理",
    "note": "添加备注",
    "close": "办结",
    "return": "退单",
    "refuse": "不予受理",
}

# Where a record's latest evidence leaf stands (domain.evidence.rules.EvidenceStatus).
EVIDENCE_STATES: dict[str, str] = {
    "none": "未存证",
    "pending": "待入账",
    "sequenced": "已入账，待签名",
    "checkpointed": "已存证（可下载证据包）",
}

# The logged steps of every record kind, in Chinese (unknown ones are shown as they are).
EVIDENCE_ACTIONS: dict[str, str] = {
    **ALARM_EVENT_KINDS,
    **COMPLAINT_ACTIONS,
    "upheld": "认定属实",
    "add_record": "新增信用记录",
    "review_approve": "信用记录审核通过",
    "review_reject": "信用记录审核不通过",
    "file_appeal": "提出异议",
    "appeal_uphold": "异议成立",
    "appeal_dismiss": "异议不成立",
    "revoke_record": "撤销信用记录",
    "submitted": "提交申请",
    "correction_notice": "一次性补正告知",
    "approved": "准予许可",
    "rejected": "不予许可",
    "reported": "事件上报",
    "sealed": "原始数据封存",
}

ERRORS: dict[int, str] = {
    400: "请求有误",
    401: "请先登录",
    403: "无权访问",
    404: "未找到",
    409: "当前状态不允许该操作",
}

CATALOGS: dict[str, dict[str, str]] = {
    "complaint_state": COMPLAINT_STATES,
    "sla": SLA_STATUSES,
    "complaint_action": COMPLAINT_ACTIONS,
    "alarm_state": ALARM_STATES,
    "severity": ALARM_SEVERITIES,
    "alarm_type": ALARM_TYPES,
    "alarm_event": ALARM_EVENT_KINDS,
    "alarm_notice": ALARM_NOTICES,
    "verdict": VERDICTS,
    "role": ROLES,
    "department": DEPARTMENTS,
    "outbox_state": OUTBOX_STATES,
    "channel": CHANNELS,
    "complaint_channel": COMPLAINT_CHANNELS,
    "evidence_state": EVIDENCE_STATES,
    "evidence_action": EVIDENCE_ACTIONS,
}


def label(catalog: str, value: object) -> str:
    """The Chinese label of ``value``; an unknown value is shown as itself rather than hidden."""
    text = "" if value is None else str(value)
    return CATALOGS[catalog].get(text, text)
