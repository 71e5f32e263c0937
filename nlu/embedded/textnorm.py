"""Length-preserving text normalisation, so entity offsets found on the normalised text are valid
offsets into what the citizen wrote.

Full-width ASCII becomes half-width, Latin letters lowercase, control characters spaces, and common
Traditional characters their Simplified forms (citizens from Hong Kong/Taiwan or old phones).
"""

from __future__ import annotations

import re

# Traditional -> Simplified, one character each; the characters citizens writing about building
# sites, complaints and approvals actually use. Pairs are (traditional, simplified) concatenated.
_T2S_PAIRS = (
    "這这們们個个來来時时為为麼么問问題题處处裡里說说請请謝谢還还沒没會会樣样對对開开關关發发"
    "現现電电話话車车輛辆塵尘聲声噪噪吵吵鬧闹夜夜晚晚點点鐘钟凌凌晨晨業业築筑設设廠厂區区鎮镇"
    "鄉乡號号碼码進进遠远運运過过這这邊边條条橋桥樓楼層层門门間间場场機机器器質质監监測测數数"
    "據据環环境境氣气風风塊块壞坏壓压爛烂燈灯亮亮強强線线照照燒烧煙烟災灾險险傷伤亡亡墜坠塌塌"
    "倒倒掛挂塔塔吊吊鋼钢筋筋腳脚手手架架觸触擊击毒毒爆爆炸炸緊紧急急救救護护報报警警訴诉舉举"
    "辦办結结審审批批準准許许證证續续資资料料單单項项務务員员專专轉转紹绍人人工工客客服服聯联"
    "繫系絡络撥拨打打給给讓让聽听見见視视覺觉應应該该嗎吗呢呢啊啊謝谢再再見见拜拜晚晚安安您您"
    "好好嗎吗誰谁哪哪裏里麼么幾几級级評评價价扣扣分分記记錄录積积級级誠诚信信貸贷權权"
    "責责任任幫帮助助綁绑定定負负責责經经理理態态狀状況况況况網网頁页臺台灣湾溫温嶺岭澤泽國国"
    "東东萬万昌昌輝辉華华龍龙峰峰橫横湖湖漫漫屏屏錦锦繡绣蘇苏滬沪陽阳長长東东廣广場场園园縣县"
    "區区鐵铁軌轨隊队務务稅税費费錢钱資资薪薪補补貼贴險险醫医療疗學学校校讀读師师們们孩孩兒儿"
    "遲迟壞坏漏漏滲渗裂裂縫缝維维修修買买賣卖房房產产開开發发商商業业寫写讀读聞闻傳传輸输總总"
    "統统計计劃划劃划實实際际顯显示示願愿歡欢樂乐與与並并從从後后於于將将當当歲岁兩两萬万億亿"
    "陸陆漢汉語语詞词讓让隨随麗丽動动靜静響响嗎吗厲厉頭头臉脸腦脑聽听噸吨擾扰鬧闹睏困覺觉屬属"
    "檢检查查處处罰罚規规範范標标準准違违章章執执法法組组織织領领導导計计畫划週周歷历務务圍围擋挡"
)
_T2S = {ord(_T2S_PAIRS[i]): _T2S_PAIRS[i + 1] for i in range(0, len(_T2S_PAIRS) - 1, 2)}


def _build_table() -> dict[int, str]:
    table: dict[int, str] = dict(_T2S)
    for code in range(0xFF01, 0xFF5F):  # full-width ASCII block
        table[code] = chr(code - 0xFEE0).lower()
    table[0x3000] = " "  # ideographic space
    for code in range(0x20):
        table[code] = " "
    table[0x7F] = " "
    for code in range(ord("A"), ord("Z") + 1):
        table[code] = chr(code + 32)
    return table


_TABLE = _build_table()


def normalise(text: str) -> str:
    """Return a string of exactly the same length, normalised character by character."""
    normalised = text.translate(_TABLE)
    if len(normalised) != len(text):  # pragma: no cover - the table maps one char to one char
        raise AssertionError("normalisation must preserve length")
    return normalised


def is_cjk(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf"


# Letters open with courtesies before the request ("尊敬的领导您好！我是……"). They say nothing about
# what is asked, yet their words pull a short classifier towards "greet": classify without them.
_SALUTATION = re.compile(
    r"^(?:尊敬的[^,，:：!！。]{0,12}|各位[^,，:：!！。]{0,8}|(?:您|你|领导|大家|老师)(?:们)?好[啊呀]?|"
    r"领导(?:您|你)好|打扰(?:一下|了)|辛苦了|hello|hi)[\s,，:：!！。、]*"
)
MIN_REQUEST_CHARS = 6


def main_request(text: str) -> str:
    """``text`` without its leading salutations, unless that leaves next to nothing (then it is one)."""
    rest = text
    while True:
        stripped = _SALUTATION.sub("", rest, count=1)
        if stripped == rest:
            break
        rest = stripped
    return rest if len(rest) >= MIN_REQUEST_CHARS else text
