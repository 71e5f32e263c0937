"""Printable HTML for an incident's response plan and its after-action report (escaped, no external
assets, so it works on an isolated government network)."""

from __future__ import annotations

from html import escape
from typing import Any

STYLE = (
    "body{font-family:'Noto Sans CJK SC','Microsoft YaHei',sans-serif;margin:2em;color:#222}"
    "h1{font-size:1.4em}table{border-collapse:collapse;width:100%;margin:1em 0}"
    "td,th{border:1px solid #999;padding:4px 8px;text-align:left}@media print{button{display:none}}"
)


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"<style>{STYLE}</style></head><body>"
        f"<button onclick='window.print()'>打印</button>{body}</body></html>"
    )


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def plan_html(plan: dict[str, Any]) -> str:
    site = plan["site"]
    body = [
        f"<h1>{escape(plan['title'])}</h1>",
        f"<p>事故编号：{escape(plan['incident_code'])}　类型：{escape(plan['incident_label'])}"
        f"　等级：{escape(plan['grade_label'])}</p>",
        f"<p>地点：{escape(site.get('address') or site.get('site_code') or '待确认')}</p>",
        "<h2>处置步骤</h2>",
        _table(["#", "角色", "行动"], [[i + 1, s["role"], s["action"]] for i, s in enumerate(plan["steps"])]),
        "<h2>最近的救援力量</h2>",
        _table(
            ["名称", "能力", "距离(米)", "联系人", "电话"],
            [
                [r["name"], r["capability"], r["distance_m"], r["contact_name"], r["contact_phone"]]
                for r in plan["resources"]
            ],
        ),
    ]
    if plan["missing_capabilities"]:
        body.append(f"<p><b>附近缺少：</b>{escape('、'.join(plan['missing_capabilities']))}</p>")
    body += [
        "<h2>报告时限</h2>",
        _table(["报告对象", "截止时间"], [list(d) for d in plan["deadlines"]]),
        "<h2>需收集的信息</h2><ul>",
        *(f"<li>{escape(item)}</li>" for item in plan["information_to_collect"]),
        "</ul>",
    ]
    return _page(plan["title"], "".join(body))


def report_html(incident: dict[str, Any]) -> str:
    body = [
        f"<h1>事故处置总结报告 {escape(str(incident['code']))}</h1>",
        _table(
            ["类型", "等级", "状态", "地点", "死亡", "重伤", "轻伤", "直接经济损失(元)"],
            [
                [
                    incident["type_label"],
                    incident["grade_label"],
                    incident["status"],
                    incident["address"],
                    incident["deaths"],
                    incident["serious_injuries"],
                    incident["minor_injuries"],
                    incident["direct_loss_yuan"],
                ]
            ],
        ),
        f"<p>总结：{escape(incident['summary'] or '（未填写）')}</p>",
        "<h2>报告时限</h2>",
        _table(
            ["对象", "截止", "已报告"],
            [[c["level"], c["due_at"], c["reported_at"] or "未报告"] for c in incident["clocks"]],
        ),
        "<h2>调度</h2>",
        _table(
            ["对象", "调度时间", "确认时间"],
            [
                [d["target"], d["dispatched_at"], d["acknowledged_at"] or "未确认"]
                for d in incident["dispatches"]
            ],
        ),
        "<h2>时间线</h2>",
        _table(
            ["时间", "人员", "动作", "说明"],
            [[e["at"], e["actor"], e["action"], e["note"]] for e in incident["timeline"]],
        ),
    ]
    return _page(f"事故报告 {incident['code']}", "".join(body))
