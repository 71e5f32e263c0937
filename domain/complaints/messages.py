"""The Chinese text of messages the complaints context sends (through the outbox), in one place."""

from __future__ import annotations

REPLY = (
    "【投诉回复】您反映的问题（工单号 {ticket_no}）已有答复：\n{reply}\n\n"
    "请对办理结果评价：回复 1 满意，2 基本满意，3 不满意。"
)
REPLY_MERGED = "【投诉回复】您反映的问题（工单号 {ticket_no}）已与同类投诉合并办理，答复如下：\n{reply}"
REFUSED = "【投诉受理】很抱歉，您的投诉（工单号 {ticket_no}）不予受理，原因：{reason}"
CLOSED_THANKS = "感谢您的评价，工单 {ticket_no} 已办结。"
REOPENED = "已收到您的评价，工单 {ticket_no} 将重新办理，我们会尽快再次答复您。"
SLA_DUE_SOON = "【办理提醒】投诉工单 {ticket_no}（{nuisance}）将于 {due} 到期，请及时办理。"
SLA_OVERDUE = "【超期提醒】投诉工单 {ticket_no}（{nuisance}）已于 {due} 超期，请尽快办理并答复。"
NEW_TICKET_FOR_SITE = (
    "【投诉转办】工地 {site_code} 收到一条{nuisance}投诉（工单号 {ticket_no}），请立即核查整改。"
)

ACTION_LABELS: dict[str, str] = {
    "submit": "提交投诉",
    "dispatch": "派单",
    "reassign": "改派",
    "return": "退单",
    "accept": "签收",
    "start": "开始办理",
    "note": "备注",
    "reply": "答复",
    "ask_rating": "回访",
    "rate_satisfied": "评价",
    "rate_dissatisfied": "评价不满意",
    "reopen": "重新办理",
    "close": "办结",
    "refuse": "不予受理",
    "merge": "并单",
    "uphold": "确认违规",
    "add_photo": "补充照片",
}
