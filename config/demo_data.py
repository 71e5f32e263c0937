"""Deterministic generators of Wenling-like demo data (towns, roads, enterprises, projects).

Pure functions over a seeded ``random.Random``: the demo seed and the 10k-project benchmark use the
same generators, so what is benchmarked looks like what is demonstrated.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from domain.projects.rules import (
    PROJECT_KIND_LABELS,
    USCC_ALPHABET,
    ProjectKind,
    ProjectStage,
    uscc_check_char,
)


@dataclass(frozen=True, slots=True)
class Town:
    name: str
    lat: float
    lng: float
    roads: tuple[str, ...]


# Wenling's towns and streets with approximate centres and a few of their roads.
TOWNS: tuple[Town, ...] = (
    Town("太平街道", 28.372, 121.372, ("万昌中路", "太平南路", "人民西路", "锦屏路")),
    Town("城东街道", 28.380, 121.402, ("万昌东路", "东辉北路", "三星大道", "中华路")),
    Town("城西街道", 28.366, 121.345, ("万昌西路", "横湖中路", "九龙大道", "北山路")),
    Town("城北街道", 28.398, 121.376, ("北山路", "湖漫路", "东辉北路", "九龙大道")),
    Town("横峰街道", 28.335, 121.345, ("横峰大道", "利吉路", "横湖南路", "机场路")),
    Town("泽国镇", 28.500, 121.300, ("泽国大道", "文昌路", "丹崖路", "牧屿大道")),
    Town("大溪镇", 28.455, 121.285, ("大溪大道", "大洋路", "潘郎路", "山市路")),
    Town("松门镇", 28.330, 121.560, ("松门大道", "东南路", "港城路", "松建路")),
    Town("箬横镇", 28.285, 121.495, ("箬横大道", "横街路", "晋岙路", "东浦路")),
    Town("新河镇", 28.435, 121.450, ("新河大道", "长屿路", "塘下路", "南鉴湖路")),
    Town("石塘镇", 28.265, 121.585, ("石塘大道", "千年曙光路", "里箬路", "海利路")),
    Town("滨海镇", 28.300, 121.545, ("滨海大道", "海城路", "东海塘路", "礁山路")),
    Town("温峤镇", 28.395, 121.235, ("温峤大道", "江厦路", "上保路", "青屿路")),
    Town("城南镇", 28.300, 121.405, ("城南大道", "石粘路", "麦岙路", "双岙路")),
    Town("石桥头镇", 28.360, 121.255, ("石桥头大道", "楼岙路", "下蒋路", "新龙路")),
    Town("坞根镇", 28.265, 121.300, ("坞根大道", "沙山路", "宅岙路", "南岙路")),
)

COMPANY_STEMS = (
    "东方建设集团",
    "温岭市城建集团",
    "台州建工",
    "锦屏建设",
    "九龙建筑工程",
    "万昌置业",
    "东辉房地产开发",
    "三星市政工程",
    "泽国建设",
    "大溪建筑安装",
    "松门海洋工程",
    "石塘交通建设",
    "新河水利建设",
    "箬横建筑",
    "浙东工程监理",
    "台州正信监理",
    "温岭市交通投资",
    "温岭市水务集团",
    "方城置业",
    "曙光建设",
    "横峰钢结构",
    "浙江中瑞工程管理",
    "滨海新区开发建设",
    "长屿石材建设",
)
COMPANY_SUFFIXES = ("有限公司", "股份有限公司", "集团有限公司")
SURNAMES = "王李张陈林黄吴郑周叶徐蔡潘金江"
GIVEN = (
    "建国",
    "志强",
    "海波",
    "丽娟",
    "伟",
    "敏",
    "军",
    "芳",
    "晓东",
    "国华",
    "永明",
    "红霞",
    "文杰",
    "素芬",
)

NAME_TEMPLATES: dict[ProjectKind, tuple[str, ...]] = {
    ProjectKind.RESIDENTIAL: ("{road}{word}苑住宅小区", "{town}安置房{n}期工程", "{word}府{n}号地块商住楼"),
    ProjectKind.MUNICIPAL: ("{road}道路提升改造工程", "{town}污水管网改造工程", "{road}综合管廊工程"),
    ProjectKind.TRANSPORT: ("{road}快速路改建工程", "{town}公交枢纽站", "{road}跨河大桥新建工程"),
    ProjectKind.WATER: ("{town}海塘安澜加固工程", "{town}河道综合整治工程", "{word}水库除险加固工程"),
    ProjectKind.PUBLIC_BUILDING: ("{town}中学教学楼新建工程", "{town}社区卫生服务中心", "{word}文化中心"),
    ProjectKind.INDUSTRIAL: ("{town}小微企业园{n}期", "{word}泵业智能制造厂房", "{town}鞋业产业园标准厂房"),
}
WORDS = (
    "锦绣",
    "滨江",
    "万昌",
    "东辉",
    "九龙",
    "曙光",
    "长屿",
    "方山",
    "湖漫",
    "鸣鹿",
    "金海",
    "玉环",
    "翠屏",
)
MILESTONES = ("施工许可取得", "基础完成", "主体结构封顶", "装饰装修完成", "竣工验收")


def make_uscc(rng: random.Random) -> str:
    """A syntactically valid unified social credit code (checksum per GB 32100-2015)."""
    body = (
        "91" + "3310" + f"{rng.randrange(81, 99):02d}" + "".join(rng.choice(USCC_ALPHABET) for _ in range(9))
    )
    return body + uscc_check_char(body)


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def phone(rng: random.Random) -> str:
    return f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"


def demo_id_number(rng: random.Random) -> str:
    """A Wenling-prefixed (331081) identity number shape; fake, for the private-data tests."""
    birth = f"{rng.randrange(1960, 2000)}{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}"
    return f"331081{birth}{rng.randrange(1000):03d}X"


def enterprise_rows(count: int, rng: random.Random) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for index in range(count):
        stem = COMPANY_STEMS[index % len(COMPANY_STEMS)]
        cycle = index // len(COMPANY_STEMS)
        name = f"浙江{stem}{'' if cycle == 0 else cycle + 1}{COMPANY_SUFFIXES[index % len(COMPANY_SUFFIXES)]}"
        rows.append(
            {
                "name": name,
                "uscc": make_uscc(rng),
                "legal_representative": person_name(rng),
                "contact_phone": phone(rng),
                "address": f"温岭市{rng.choice(TOWNS).name}{rng.randrange(1, 400)}号",
                "qualification": rng.choice(
                    ("施工总承包一级", "施工总承包二级", "房地产开发二级", "工程监理甲级")
                ),
            }
        )
    return rows


def project_row(index: int, rng: random.Random, *, year: int = 2026) -> dict[str, object]:
    town = TOWNS[index % len(TOWNS)]
    kind = list(ProjectKind)[rng.randrange(len(ProjectKind))]
    road = rng.choice(town.roads)
    template = rng.choice(NAME_TEMPLATES[kind])
    name = template.format(
        road=road,
        town=town.name.removesuffix("街道").removesuffix("镇"),
        word=rng.choice(WORDS),
        n=rng.randrange(1, 6),
    )
    stage = rng.choices(list(ProjectStage), weights=(1, 2, 8, 2, 1))[0]
    lat = min(28.59, max(28.21, town.lat + rng.uniform(-0.02, 0.02)))
    lng = min(121.59, max(121.21, town.lng + rng.uniform(-0.02, 0.02)))
    planned_start = dt.date(year - 1, 1, 1) + dt.timedelta(days=rng.randrange(0, 600))
    planned_end = planned_start + dt.timedelta(days=rng.randrange(240, 1100))
    started = stage in (ProjectStage.CONSTRUCTION, ProjectStage.ACCEPTANCE, ProjectStage.COMPLETED)
    progress = {
        ProjectStage.CONSTRUCTION: rng.randrange(5, 95),
        ProjectStage.ACCEPTANCE: 98,
        ProjectStage.COMPLETED: 100,
    }
    return {
        "code": f"WL-{year}-{index + 1:04d}",
        "name": f"{name}" if index < 100 else f"{name}({index + 1})",
        "kind": kind,
        "stage": stage,
        "town": town.name,
        "street": town.name,
        "road": road,
        "address": f"温岭市{town.name}{road}{rng.randrange(1, 900)}号",
        "lat": round(lat, 6),
        "lng": round(lng, 6),
        "area_m2": float(rng.randrange(2_000, 180_000)),
        "investment_wan": float(rng.randrange(500, 120_000)),
        "planned_start": planned_start,
        "planned_end": planned_end,
        "actual_start": planned_start + dt.timedelta(days=rng.randrange(0, 40)) if started else None,
        "actual_end": planned_end if stage is ProjectStage.COMPLETED else None,
        "progress_pct": progress.get(stage, 0),
        "description": f"{PROJECT_KIND_LABELS[kind]}类项目，位于{town.name}{road}。",
    }
