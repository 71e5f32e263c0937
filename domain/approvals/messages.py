"""The Chinese texts this context sends to people through the outbox (one catalog, not scattered)."""

from __future__ import annotations

DEPARTMENT_NAMES = {
    "housing": "住建局",
    "planning": "自然资源和规划局",
    "development": "发改局",
    "environment": "生态环境局",
    "fire": "消防救援大队",
    "civil_defence": "人防办",
    "archives": "城建档案馆",
    "transport": "交通运输局",
    "police": "公安局",
    "emergency": "应急管理局",
    "urban_management": "综合行政执法局",
}

SUBMITTED = "您的审批申请 {code}（{stage}）已受理，{departments} 并联审查，办结时限 {due}。"
APPROVED = "您的审批申请 {code}（{stage}）已办结：准予许可。"
REJECTED = "您的审批申请 {code}（{stage}）未通过：{reason}"
CORRECTION = "您的审批申请 {code}（{stage}）需一次性补正：{summary}。请在小程序中补正后重新提交。"
REMINDER_DUE_SOON = "【审批提醒】{department}待审事项 {code}（{stage}）将于 {due} 到期，请及时办理。"
REMINDER_OVERDUE = "【审批超期】{department}待审事项 {code}（{stage}）已于 {due} 超期，请立即办理。"

# Template keys of config/wechat_templates.yml and the short values their fields take.
DECISION_TEMPLATE = "approval_decision"
REMINDER_TEMPLATE = "reminder"
DECISION_PHRASES = {  # phrase fields hold at most 5 characters
    "submitted": "已受理",
    "correction": "需补正",
    "approved": "准予许可",
    "rejected": "不予许可",
}
SLA_WORDS = {"due_soon": "即将到期", "overdue": "已超期"}


def department_name(department: str) -> str:
    return DEPARTMENT_NAMES.get(department, department)
