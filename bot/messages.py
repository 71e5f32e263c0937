"""The one catalog of Chinese text the official account sends (code and logs stay in English)."""

from __future__ import annotations

WELCOME = (
    "欢迎关注温岭市建设工程服务号！\n"
    "您可以直接发送文字提问，例如：\n"
    "· 万昌路那个工地在建什么\n"
    "· 发送位置或“附近”查看周边工地\n"
    "· 夜间施工噪声投诉\n"
    "也可以使用底部菜单；需要人工服务请回复“转人工”。"
)
MENU_HINT = "请点击底部菜单，或直接发送您的问题。"
HELP = (
    "我可以帮您：\n"
    "1. 查询工程项目（发送项目名称或路名）\n"
    "2. 查看附近工地（发送位置或“附近”）\n"
    "3. 反映施工扰民问题\n"
    "需要人工服务请回复“转人工”，随时回复“取消”结束当前对话。"
)
GREETING = "您好！" + HELP
GOODBYE = "感谢您的关注，再见！"
CANCELLED = "好的，已取消当前对话。还有其他问题可以随时发送。"
NOTHING_TO_CANCEL = "当前没有进行中的对话。" + MENU_HINT
EXPIRED_HINT = "上次的对话已超时结束，我们重新开始吧。"
NOT_UNDERSTOOD = "抱歉，我没有理解您的意思。" + MENU_HINT
NOT_UNDERSTOOD_HINT = (
    "抱歉，没看懂您的意思。可以试试这样说：“万昌路那个工地在建什么”“附近有什么工地”“昨晚11点工地还在施工”。"
)
OFF_TOPIC = (
    "这个问题我暂时答不了：我是温岭市建设工程服务号，能查工地、反映施工扰民、解答施工管理规定。\n" + HELP
)
CLARIFY = "请问您想办理哪一项？请回复序号：\n{choices}"
CHOICE_LINE = "{number}. {label}"
INVALID_CHOICE = "请回复列表中的序号（1-{count}），或回复“取消”。"
TOO_MANY_REPROMPTS = "多次未能识别您的输入，已结束本次对话。" + MENU_HINT
NOT_AVAILABLE = "该服务即将开通，敬请期待。需要帮助请回复“转人工”。"
INTERNAL_ERROR = "系统繁忙，请稍后再试。"
SPLIT_CONTINUED = "（续）"

VOICE_NEEDS_TEXT = "已收到您的语音。暂时无法识别语音内容，请用文字再描述一下。"
IMAGE_RECEIVED_FOR_DIALOGUE = "已收到照片，已作为本次反映的材料保存。"
IMAGE_RECEIVED = "已收到照片。如需反映问题，请用文字说明情况，照片会一并作为材料。"
IMAGE_FAILED = "照片接收失败，请稍后重新发送。"
LOCATION_REMEMBERED = "已记录您的位置。"
UNSUPPORTED_MESSAGE = "暂不支持该类型的消息，请发送文字、图片、语音或位置。"

BIND_HOW_TO = "请在现场扫描项目部提供的绑定二维码，或登录小程序“我的工地”完成绑定。"
BIND_WELCOME_PREFIX = "欢迎关注！"

HUMAN_QUEUED = "已为您转接人工客服，工作人员将尽快回复（工作日 8:30-17:30）。您可以继续留言补充情况。"
HUMAN_ANSWER_PREFIX = "【人工客服】"

# Project queries
INTENT_LABELS: dict[str, str] = {
    "query_project": "查询工程项目",
    "report_nuisance": "反映施工扰民",
    "complaint_status": "查询投诉进度",
    "check_credit": "查询企业信用",
    "query_approval": "查询审批进度",
    "ask_procedure": "咨询办事流程",
    "query_environment": "查询工地环境监测",
    "report_emergency": "报告突发事件",
    "bind_site": "绑定工地",
    "human_agent": "转人工客服",
}
PROJECT_ASK_WHICH = "请发送项目名称、项目编号或所在路名，例如“万昌路的工地”；查看附近工地请发送位置。"
PROJECT_ASK_LOCATION = "请点击输入框旁的“+”发送您的位置，我将为您查找附近的工地。"
PROJECT_NOT_FOUND = "没有找到与“{term}”相关的工程项目，请换个名称或路名试试，或发送位置查看附近工地。"
PROJECT_NONE_NEARBY = "您附近 {radius_km} 公里内暂无登记的工程项目。"
PROJECT_SUMMARY = (
    "【{name}】\n"
    "编号：{code}\n"
    "阶段：{stage_label}（进度 {progress_pct}%）\n"
    "施工单位：{builder}\n"
    "预计完工：{completion}\n"
    "地址：{address}"
)
PROJECT_ALTERNATIVES_HEADER = "\n\n其他可能的项目："
PROJECT_ALTERNATIVE_LINE = "\n{number}. {name}（{stage_label}）"
PROJECT_ALTERNATIVES_FOOTER = "\n回复序号查看详情。"
PROJECT_NEARBY_HEADER = "您附近的工程项目："
FAQ_FOOTER = "\n（以上为常见问题解答；如需反映具体问题，请直接描述情况或回复“转人工”。）"
PROJECT_MORE_HEADER = "更多工程项目："
PROJECT_MORE_FOOTER = "\n回复序号查看详情，回复“还有吗”看更多。"
PROJECT_NO_MORE = "没有更多了。可以换个路名或地名试试，或发送新的位置。"
PROJECT_NEARBY_LINE = "\n{number}. {name}（{stage_label}，{distance}）"
PROJECT_COMPLETION = "【{name}】预计完工时间：{completion}。当前阶段：{stage_label}（进度 {progress_pct}%）。"
PROJECT_COMPLETED = "【{name}】已于 {completion} 竣工。"
PROJECT_BUILDER = "【{name}】施工单位：{builder}；建设单位：{developer}；监理单位：{supervisor}。"
PROJECT_PROGRESS = "【{name}】当前阶段：{stage_label}，工程进度 {progress_pct}%。"
UNKNOWN_VALUE = "暂无"
DISTANCE_M = "{meters}米"
DISTANCE_KM = "{km:.1f}公里"

ERROR_BY_CODE: dict[str, str] = {
    "project_not_found": "没有找到该项目，请核对项目编号。",
    "invalid_input": "输入内容有误，请检查后重新发送。",
}

# --- emergencies (report_emergency) -----------------------------------------------------------------
EMERGENCY_ACK = (
    "已收到您的紧急报告（编号 {code}），应急值班人员已同时接到通知。\n"
    "请立即：\n"
    "1. 有人员受伤请拨打 120，发生火情请拨打 119；\n"
    "2. 远离塔吊、基坑、脚手架等危险区域，不要盲目施救；\n"
    "3. 保持电话畅通，等待救援人员联系。"
)
EMERGENCY_ASK_LOCATION = "\n请点击输入框旁的“+”发送您的位置，或直接回复详细地址，便于救援力量尽快到达。"
EMERGENCY_LOCATION_RECEIVED = (
    "已收到位置，已同步给应急值班人员（{code}）。情况有变化请继续回复，我们会及时转达。"
)
EMERGENCY_ADDRESS_RECEIVED = "已收到地址“{address}”，已同步给应急值班人员（{code}）。"
EMERGENCY_NOTE_RECEIVED = "已记录补充情况并转给应急值班人员（{code}）。如有人员受伤请拨打 120。"
