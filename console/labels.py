"""The console's message catalog: Chinese labels for every enum a page shows, in one place."""

from __future__ import annotations

from domain.accounts.rules import Department, Role
from domain.alerts.messages import ALARM_TYPE_LABELS, SEVERITY_LABELS
from domain.complaints.messages import ACTION_LABELS
from domain.complaints.rules import STATE_LABELS, State
from domain.complaints.sla import SLA_LABELS, SlaStatus
from domain.emergency.rules import GRADE_LABELS, INCIDENT_TYPE_LABELS, IncidentStatus, ReportLevel
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
# Duty rosters: one per department, and the default one for departments without their own.
ROSTER_DEPARTMENTS: dict[str, str] = {"default": "默认值班表", **DEPARTMENTS}
# A camera's health as the cameras page shows it.
CAMERA_STATES: dict[str, str] = {
    "not_commissioned": "未接入",
    "online": "在线",
    "offline": "离线",
    "disabled": "已停用",
}
DEVICE_STATUSES: dict[str, str] = {
    "not_commissioned": "未接入",
    "online": "在线",
    "offline": "离线",
}
DEVICE_TYPES: dict[str, str] = {"dust": "扬尘监测仪", "noise": "噪声监测仪", "crane": "塔吊监控"}
QUARANTINE_REASONS: dict[str, str] = {
    "unknown_device": "未登记的 MN",
    "bad_password": "密码错误",
    "mn_mismatch": "MN 与主题不符",
    "topic_mismatch": "主题不符",
    "bad_timestamp": "数据时间无效或超前",
    "too_large": "报文过长",
    "bad_json": "报文格式错误",
    "no_values": "没有监测值",
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

# Credit files (domain.credit.rules): stored record status, the state shown for a day, appeals, changes.
CREDIT_RECORD_STATUSES: dict[str, str] = {
    "pending": "待审核",
    "effective": "已生效",
    "rejected": "审核不通过",
    "revoked": "已撤销",
}
CREDIT_RECORD_STATES: dict[str, str] = {
    "pending": "待审核",
    "rejected": "审核不通过",
    "not_yet_effective": "尚未生效",
    "effective": "计分中",
    "expired": "已过期",
    "revoked": "已撤销（异议成立）",
}
CREDIT_APPEAL_STATUSES: dict[str, str] = {"filed": "待处理", "upheld": "异议成立", "dismissed": "异议不成立"}
CREDIT_CHANGES: dict[str, str] = {"added": "计入", "expired": "到期失效", "revoked": "撤销"}
CREDIT_CATEGORIES: dict[str, str] = {
    "inspection": "执法检查",
    "complaint": "投诉",
    "safety_violation": "安全违规",
    "dust_penalty": "扬尘处罚",
    "noise_penalty": "噪声处罚",
    "contract_performance": "合同履约",
    "award": "表彰奖励",
}

# Emergency command (应急指挥): incidents, reporting levels, plan capabilities and the timeline.
INCIDENT_TYPES: dict[str, str] = {kind.value: text for kind, text in INCIDENT_TYPE_LABELS.items()}
INCIDENT_GRADES: dict[str, str] = {grade.name.lower(): text for grade, text in GRADE_LABELS.items()}
INCIDENT_STATUSES: dict[str, str] = {
    IncidentStatus.REPORTED.value: "已接报",
    IncidentStatus.DISPATCHED.value: "已调度",
    IncidentStatus.ON_SCENE.value: "已到场处置",
    IncidentStatus.CLOSED.value: "已结案",
}
REPORT_LEVELS: dict[str, str] = {
    ReportLevel.COUNTY.value: "县级",
    ReportLevel.CITY.value: "市级",
    ReportLevel.PROVINCE.value: "省级",
    ReportLevel.STATE.value: "国务院",
    "supplementary": "补报（30 日内）",
}
INCIDENT_ACTIONS: dict[str, str] = {
    "reported": "接报",
    "updated": "更新",
    "regraded": "调整等级",
    "reported_up": "已向上级报告",
    "dispatched": "调度",
    "acknowledged": "确认收到",
    "closed": "结案",
    "reporter_message": "报告人补充",
}
RESOURCE_CAPABILITIES: dict[str, str] = {
    "fire": "灭火",
    "rescue": "抢险救援",
    "collapse_rescue": "坍塌搜救",
    "high_angle": "高空救援",
    "hazmat": "危化品处置",
    "medical": "医疗急救",
    "trauma": "创伤救治",
    "burn": "烧伤救治",
    "crane": "起重吊装",
    "excavator": "挖掘机械",
    "lighting": "照明",
    "power": "电力抢修",
    "traffic": "交通疏导",
    "traffic_control": "交通管制",
}
LINKED_DEPARTMENTS: dict[str, str] = {
    "fire": "消防救援",
    "medical": "卫生健康（120 急救）",
    "traffic": "公安交警",
}
RESOURCE_KINDS: dict[str, str] = {
    "fire_station": "消防站",
    "hospital": "医院",
    "traffic_police": "交警",
    "rescue_team": "救援队",
    "equipment_yard": "设备中心",
}
INCIDENT_SOURCES: dict[str, str] = {
    "staff": "工作人员录入",
    "bot": "市民公众号报告",
    "alarm": "危急告警自动生成",
}
EMERGENCY_NOTICES: dict[str, str] = {
    "dispatched": "已调度，通知已发出",
    "already": "该力量此前已调度，未重复通知",
    "acknowledged": "已记录确认收到",
    "reported_up": "已记录向上级报告",
    "on_scene": "已标记到场处置",
    "closed": "已结案",
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
    "roster_department": ROSTER_DEPARTMENTS,
    "camera_state": CAMERA_STATES,
    "device_status": DEVICE_STATUSES,
    "device_type": DEVICE_TYPES,
    "quarantine_reason": QUARANTINE_REASONS,
    "outbox_state": OUTBOX_STATES,
    "channel": CHANNELS,
    "complaint_channel": COMPLAINT_CHANNELS,
    "evidence_state": EVIDENCE_STATES,
    "evidence_action": EVIDENCE_ACTIONS,
    "incident_type": INCIDENT_TYPES,
    "incident_grade": INCIDENT_GRADES,
    "incident_status": INCIDENT_STATUSES,
    "report_level": REPORT_LEVELS,
    "incident_action": INCIDENT_ACTIONS,
    "capability": RESOURCE_CAPABILITIES,
    "resource_kind": RESOURCE_KINDS,
    "linked_department": LINKED_DEPARTMENTS,
    "incident_source": INCIDENT_SOURCES,
    "emergency_notice": EMERGENCY_NOTICES,
    "credit_status": CREDIT_RECORD_STATUSES,
    "credit_state": CREDIT_RECORD_STATES,
    "appeal_status": CREDIT_APPEAL_STATUSES,
    "credit_change": CREDIT_CHANGES,
    "credit_category": CREDIT_CATEGORIES,
}


def label(catalog: str, value: object) -> str:
    """The Chinese label of ``value``; an unknown value is shown as itself rather than hidden."""
    text = "" if value is None else str(value)
    return CATALOGS[catalog].get(text, text)
