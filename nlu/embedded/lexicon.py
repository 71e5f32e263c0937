"""Domain vocabulary: nuisance and incident phrases with their canonical codes, and the markers of
other government matters that must come out as ``out_of_scope``.

Canonical nuisance codes (``nuisance_type`` values):
    noise              施工噪声: 吵, 噪音, 打桩, 电锯, 机器轰鸣
    night_construction 夜间施工: 半夜/凌晨/通宵 working, with or without a permit
    dust               扬尘: 灰尘, 粉尘, 尘土飞扬
    muck_truck         渣土车 and other construction vehicles: 泥头车, 土方车, 搅拌车
    road_damage        路面损坏: roads dug up, crushed or covered in mud
    light              光污染: 探照灯, 塔吊灯, 强光
    other              anything else about a site (烧垃圾, 震动, 污水)
Canonical incident codes (``incident_type`` values): crane_collapse, excavation_collapse,
scaffold_collapse, fall_from_height, electric_shock, fire, poisoning, object_strike, other.
"""

from __future__ import annotations

import re

NUISANCE_CODES = ("noise", "night_construction", "dust", "muck_truck", "road_damage", "light", "other")
INCIDENT_CODES = (
    "crane_collapse",
    "excavation_collapse",
    "scaffold_collapse",
    "fall_from_height",
    "electric_shock",
    "fire",
    "poisoning",
    "object_strike",
    "other",
)

# Surface phrases a citizen uses for a nuisance; matched longest first on normalised text.
NUISANCE_PHRASES = (
    "噪音",
    "噪声",
    "燥音",
    "躁音",
    "噪音太大",
    "吵",
    "吵死了",
    "吵死",
    "太吵",
    "太吵了",
    "好吵",
    "声音大",
    "声音太大",
    "声响",
    "轰鸣",
    "机器轰鸣",
    "打桩",
    "电锯",
    "电锯声",
    "切割声",
    "敲敲打打",
    "敲打声",
    "机器声",
    "喇叭",
    "鸣笛",
    "zaoyin",
    "noise",
    "noisy",
    "loud",
    "夜间施工",
    "夜里施工",
    "半夜施工",
    "晚上施工",
    "深夜施工",
    "凌晨施工",
    "夜间作业",
    "夜里干活",
    "半夜干活",
    "通宵施工",
    "连夜施工",
    "夜间违规施工",
    "施工到凌晨",
    "施工到半夜",
    "干到半夜",
    "night work",
    "扬尘",
    "扬成",
    "灰尘",
    "粉尘",
    "尘土",
    "尘土飞扬",
    "灰",
    "沙尘",
    "dust",
    "dusty",
    "渣土车",
    "泥头车",
    "土方车",
    "运土车",
    "大卡车",
    "工程车",
    "搅拌车",
    "水泥罐车",
    "大货车",
    "muck truck",
    "路面",
    "路坏了",
    "路面压坏了",
    "压坏",
    "坑坑洼洼",
    "路面坑坑洼洼",
    "坑洼",
    "路面破损",
    "泥浆",
    "泥巴",
    "探照灯",
    "大灯",
    "灯光",
    "强光",
    "灯",
    "照明灯",
    "塔吊灯",
    "灯光太亮",
    "烧垃圾",
    "震动",
    "振动",
    "异味",
    "臭味",
)

# Ordered: the first rule whose pattern occurs in the phrase gives its code.
_NUISANCE_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "night_construction",
        re.compile(r"(夜|凌晨|半夜|通宵|连夜|night).*(施工|干活|作业|work)|施工到(凌晨|半夜)"),
    ),
    ("light", re.compile(r"灯|光|light")),
    ("muck_truck", re.compile(r"车|truck")),
    ("dust", re.compile(r"尘|灰|扬成|dust")),
    ("road_damage", re.compile(r"路|坑|泥|压坏")),
    ("noise", re.compile(r"吵|噪|燥|躁|声|响|鸣|轰|打桩|锯|敲|分贝|喇叭|noise|noisy|loud|zaoyin")),
)

# (code, pattern) for incidents; a match's span is the entity's span.
INCIDENT_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "crane_collapse",
        re.compile(
            r"(塔吊|塔机|塔调|搭吊|塔掉|吊车|起重机|龙门吊|汽车吊)[^，。！,.!]{0,3}?(倒塌|倒了|倒下|塌了|倾覆|折断|断了|晃得很厉害|晃|倒)"
            r"|crane[a-z ]{0,10}(collapse[d]?|fell|fall)|crane"
        ),
    ),
    (
        "scaffold_collapse",
        re.compile(
            r"(脚手架|支模架|模板支撑体系|模板支撑|高支模|模板|架子)[^，。！,.!]{0,4}?(整体倒塌|倒塌|坍塌|垮塌|塌了|倒了|垮了|塌)"
            r"|scaffold[a-z ]{0,12}"
        ),
    ),
    (
        "excavation_collapse",
        re.compile(
            r"(基坑|沟槽|边坡|土方|坑)[^，。！,.!]{0,2}?(塌方|坍塌|塌了|垮塌|塌)|塌方|塌陷|被埋|埋人|埋在"
        ),
    ),
    (
        "object_strike",
        re.compile(
            r"(被|给)[^，。！,.!]{0,4}砸(伤|到|中|了)?|(钢筋|钢管|砖头|砖块|模板|材料|东西|重物|吊装物|吊物)"
            r"[^，。！,.!]{0,4}(掉落|掉下来砸到人|砸到人|砸伤|砸到|砸中|砸)|吊装物掉落|物体打击|高空坠物"
        ),
    ),
    (
        "fall_from_height",
        re.compile(
            r"从[^，。！,.!]{1,8}?(摔下来|掉下来|摔下|掉下|坠落)|(掉进|跌进|掉入|摔进)[^，。！,.!]{0,4}|高处坠落|高空坠落|坠落|坠楼|摔下来|掉下来|fell"
        ),
    ),
    ("electric_shock", re.compile(r"触电|被电击|电击|被电到|电到|漏电|electric")),
    ("fire", re.compile(r"着火了|着火|起火|失火|火灾|冒烟|爆炸|烧起来|fire")),
    ("poisoning", re.compile(r"有限空间中毒|中毒|窒息|毒气|燃气泄漏|煤气泄漏")),
    ("other", re.compile(r"围墙倒塌|施工电梯坠落|升降机坠落|倒塌|塌了|垮了")),
)
_EQUIPMENT_OTHER = re.compile(r"施工电梯|升降机|围墙|围挡")

# Other government matters (wage arrears, schools, social security, housing quality, property
# management...): they are someone else's business even when a building site is mentioned.
OUT_OF_SCOPE_STRONG = re.compile(
    r"工资|工钱|欠薪|讨薪|薪水|血汗钱|社保|医保|养老金|养老保险|公积金|失业金|失业保险|低保|"
    r"入学|择校|学位|上学|报名上|小学报名|幼儿园|班主任|老师|学生|伙食费|学区|户口|身份证|护照|驾照|"
    r"公租房|廉租房|物业费|物业公司|业委会|离婚|结婚证|疫苗|挂号"
)
OUT_OF_SCOPE_HOUSING = re.compile(
    r"(开发商|交房|交付|买的房|购买|商品房|新房)[^。！？]{0,40}(漏水|渗水|漏雨|裂缝|开裂|维修|保修|维权|质量)"
)


def nuisance_code(phrase: str, synonyms: dict[str, str]) -> str:
    """The canonical nuisance code of a surface phrase."""
    known = synonyms.get(phrase)
    if known in NUISANCE_CODES:
        return known
    for code, pattern in _NUISANCE_RULES:
        if pattern.search(phrase):
            return code
    return "other"


def incident_code(phrase: str, matched_code: str, synonyms: dict[str, str]) -> str:
    known = synonyms.get(phrase)
    if known in INCIDENT_CODES:
        return known
    if _EQUIPMENT_OTHER.search(phrase):
        return "other"
    return matched_code


def other_government_matter(text: str) -> bool:
    """True when the text is about a matter another department handles."""
    return bool(OUT_OF_SCOPE_STRONG.search(text) or OUT_OF_SCOPE_HOUSING.search(text))


# Concept cues: the classifier gets one marker per concept present and one per pair, so it learns
# "status question about an approval" from every example that has both, whatever the exact words.
CONCEPTS: dict[str, re.Pattern[str]] = {
    "status": re.compile(
        r"进度|到哪|哪一步|哪个环节|结果|处理了|处理得|处理好|批了|批下来|通过了|通过没|通过吗|状态|怎么样了|还没|"
        r"有没有通过|有回复|回复|反馈|催|卡在|审到|办结|动静|消息|跟进|status|progress"
    ),
    "howto": re.compile(
        r"怎么办|怎么申请|怎么办理|如何|流程|需要什么|要什么|哪些材料|什么材料|准备什么|条件|在哪里办|在哪办|"
        r"哪里可以|指南|多久能|几个工作日|多长时间|怎么操作|怎么提交|怎么弄|要求|规定|标准|限值|how to|how do"
    ),
    "complaint": re.compile(r"投诉|举报|反映|工单|ts\d|complaint"),
    "approval": re.compile(r"审批|申请|许可|报建|备案|审核|审查|补正|批|sp\d|approval|permit|application"),
    "credit": re.compile(r"信用|扣分|诚信|黑名单|不良|信誉|评级|等级|credit"),
    "measure": re.compile(r"监测|数据|分贝|pm|浓度|读数|超标|指数|数值|多少|tsp|颗粒物|空气质量|level|air"),
    "nuisance": re.compile(r"吵|噪|扰民|灰|尘|渣土|泥头|灯|睡不着|施工到|还在施工|干活|noise|noisy|dust"),
    "urgent": re.compile(r"救命|紧急|事故|受伤|快来|出事|快报警|120|110|救援|emergency|help"),
    "bind": re.compile(r"绑|关联|认领|订阅|加为|加到|负责人|管理员|bind"),
    "human": re.compile(r"人工|真人|客服|热线|电话|工作人员|human|agent"),
    "project": re.compile(r"项目|工程|工地|楼盘|在建|施工单位|开发商|建设单位|监理|竣工|完工|project"),
    "hello": re.compile(r"你好|您好|在吗|在么|哈喽|hello|hi\b|嗨|早上好|晚上好"),
    "bye": re.compile(r"再见|拜拜|bye|谢谢|感谢|多谢|辛苦|没事了|thx|thanks|886|88"),
}


def concept_markers(text: str) -> list[str]:
    present = sorted(name for name, pattern in CONCEPTS.items() if pattern.search(text))
    pairs = [f"C:{a}+{b}" for i, a in enumerate(present) for b in present[i + 1 :]]
    return [f"C:{name}" for name in present] + pairs
