"""Vocabulary of 四至 texts: character normalisation, feature kinds, numbers.

Everything the parser needs to know about words lives here, so that a new variant
met in a real description is one line in a table, not a change of grammar.
"""

from __future__ import annotations

import re
import unicodedata

# ---------------------------------------------------------------------------
# Character normalisation (length-preserving, so character spans stay valid)
# ---------------------------------------------------------------------------

#: Traditional → simplified for the characters that occur in 四至 texts (side words,
#: feature suffixes, units, common name characters).  Not a general converter.
_TRAD = (
    "東东臨临鄰邻靠靠為为邊边側侧際际開开發发區区鎮镇鄉乡縣县線线規规劃划號号條条約约"
    "裡里裏里米米公公國国環环鐵铁軌轨車车橋桥灣湾濱滨溝沟澗涧渦涡壩坝堤堤園园場场廠厂"
    "業业興兴華华龍龙陽阳廣广寶宝莊庄陳陈張张楊杨長长門门從从於于達达連连處处濟济運运"
    "島岛嶺岭澤泽豐丰鳳凤萬万億亿圍围灘滩頭头戶户涇泾匯汇瀾澜濤涛淺浅漢汉滬沪蘇苏嘉嘉"
    "閔闵寧宁錢钱鄭郑劉刘黃黄鍾钟紀纪偉伟傑杰層层雙双單单體体總总綫线劍剑紅红綠绿藍蓝"
    "畫画塊块團团組组點点幹干觀观館馆際际歸归舊旧樓楼豎竖橫横縱纵與与並并進进遠远邊边"
    "過过還还這这個个們们極极樂乐質质豐丰鐘钟銀银鋼钢機机電电氣气術术學学員员設设計计"
    "規规測测繪绘準准權权證证書书寫写圖图幾几後后僅仅塗涂濕湿溫温滿满漁渔沖冲瀋沈楓枫"
    "爾尔寶宝廟庙壇坛鹽盐倉仓徑径簡简貿贸綜综臺台灣湾鳥鸟雲云飛飞馬马魚鱼麗丽黨党龜龟"
    "韓韩葉叶蕭萧薛薛謝谢譚谭賈贾趙赵鄒邹鄧邓鄰邻錦锦閘闸陸陆隊队險险雜杂難难順顺領领"
    "顧顾驛驿騰腾鶴鹤麥麦齊齐滙汇匯汇瀏浏滄沧潤润濰潍淵渊溝沟湧涌滘滘渠渠塘塘浜浜港港"
    "專专範范圍围縣县區区瀾澜濱滨邊边幹干條条塊块橋桥灣湾寶宝僑侨聯联繡绣錦锦鶴鹤"
    "崗岗鄉乡麟麟鳳凤壽寿豐丰陰阴溝沟莊庄劉刘楊杨張张陳陈門门馬马祖祖頭头份份臺台"
    "至至界界"
)
TRAD_TO_SIMP: dict[str, str] = {_TRAD[i]: _TRAD[i + 1] for i in range(0, len(_TRAD) - 1, 2)}

#: Dash-like characters that join features of one side (一 is handled separately).
DASHES = "—–-‐‑‒―─━~〜～﹣－"
#: Characters that end a clause (a side, a lead-in sentence, a note).
CLAUSE_SEPARATORS = ",;。;\n\r\t !?！？，；"
#: Enumeration characters and words that join features of one side.
ENUM_CHARS = "、/"
ENUM_WORDS = ("以及", "及", "和", "与")
OPEN_BRACKETS = "([【〔"
CLOSE_BRACKETS = ")]】〕"
QUOTES = "“”\"'‘’《》「」『』"


def normalise(text: str) -> str:
    """Return ``text`` with full-width forms folded and traditional characters simplified.

    The result has exactly the length of ``text`` (a character that would expand
    under NFKC, such as "㎡", is kept as is), so spans computed on it index the original.
    """
    out: list[str] = []
    for ch in text:
        ch = TRAD_TO_SIMP.get(ch, ch)
        folded = unicodedata.normalize("NFKC", ch)
        if len(folded) == 1:
            ch = folded
        if ch in "\u3000\u00a0":
            ch = " "
        out.append(ch)
    return "".join(out)


# ---------------------------------------------------------------------------
# Sides
# ---------------------------------------------------------------------------

SIDE_OF_CHAR = {"东": "east", "南": "south", "西": "west", "北": "north"}
CHAR_OF_SIDE = {v: k for k, v in SIDE_OF_CHAR.items()}
OPPOSITE = {"east": "west", "west": "east", "north": "south", "south": "north"}
DIAGONAL_OF_CHARS = {"东北": "northeast", "东南": "southeast", "西南": "southwest", "西北": "northwest"}
CHARS_OF_DIAGONAL = {v: k for k, v in DIAGONAL_OF_CHARS.items()}

# ---------------------------------------------------------------------------
# Feature kinds
# ---------------------------------------------------------------------------

#: Road codes: G + 1-2 or 4 digits and the old Shanghai A-codes (A1…A30) are
#: expressways, as are Shanghai's S + 1-2 digits (S32 申嘉湖高速); G/S + 3 digits are
#: 国道/省道 (ordinary roads).
_EXPRESSWAY_CODE = re.compile(r"(?<![A-Za-z])(?:G\d{1,2}|G\d{4}|A\d{1,2}|S\d{1,2})(?!\d)")
_NATIONAL_ROAD_CODE = re.compile(r"(?<![A-Za-z])[GS]\d{3}(?!\d)")
ROAD_CODE = re.compile(r"(?<![A-Za-z])[GSA]\d{1,4}(?!\d)")

_DEVELOPMENT = re.compile(r"(?:城镇开发边界|开发边界|集中建设区边界|集建区边界|集建区界|开发区边界线?)$")
_ADMIN = re.compile(
    r"(?:(?:区|镇|乡|县|市|省|街道|村)界(?:线)?|行政(?:区)?(?:边)?界(?:线)?"
    r"|(?:区|镇|乡|县|市|省|街道)(?:行政)?(?:边界|界线|交界线?)|村交界线?)$"
)
_SEAWALL_OR_CONTOUR = re.compile(r"(?:海堤|海塘|大堤|江堤|防汛墙|等深线|岸线|海岸线)$")
_SITE_BOUNDARY = re.compile(r"(?:边界|界线|红线|围墙|用地界|厂界|界)$")
_RAILWAY = re.compile(r"(?:铁路|铁路线|高铁|城际|城际铁路|轨道交通|地铁|轻轨|专用线|\d+号线|铁路支线)$")
_RAILWAY_INSIDE = re.compile(r"铁路|高铁|轨道交通")
_PLANNED = re.compile(r"(?:规划|待建|拟建).*(?:路|道路|街|大道)$|^规划[一二三四五六七八九十\d]+路$")
_ROAD = re.compile(r"(?:路|街|大街|大道|公路|国道|省道|县道|巷|弄|高架|环线|快速路|道路|通道|大桥|桥)$")
_RIVER = re.compile(r"(?:河|浜|港|泾|塘|涌|滘|渠|江|溪|沟|浦|荡|湖|湾|汊|水道|河道|航道|水库|河流|水系)$")

#: Generic words: a feature named only by one of these has no name a roads layer carries.
GENERIC_NAMES = frozenset(
    {
        "河道", "河", "小河", "河流", "水系", "现状河道", "规划河道", "界河",
        "道路", "路", "现状道路", "规划路", "规划道路", "支路", "小路", "公路", "高速公路", "铁路",
        "开发边界", "城镇开发边界", "集中建设区边界",
        "边界", "界线", "区界", "镇界", "村界", "县界", "市界", "省界", "行政界线",
        "围墙", "红线", "用地红线", "用地边界", "绿化带", "绿带", "海堤", "等深线",
    }
)
#: Generic words that may follow an offset ("鼎兴路东约200米道路"): the bound is an
#: unnamed feature at that place, not a new named one.
GENERIC_AFTER_OFFSET = (
    "规划道路", "规划路", "现状道路", "道路", "支路", "小路", "河道", "河流", "小河", "水系", "河",
    "绿化带", "围墙", "一线", "界线", "边界", "处", "线",
)


def classify(name: str) -> str:
    """Kind of a bounding feature from its name.

    Returns one of ``road``, ``expressway``, ``river``, ``railway``, ``planned_road``,
    ``development_boundary`` (开发边界, the planning limit of urban development),
    ``admin_boundary`` (区界/镇界/村界: district, town, village limits) or ``other``
    (a company's or a village's site boundary, seawalls, depth contours, …).
    """
    n = normalise(name.strip())
    if re.match(r"^(?:国道|省道|县道|乡道)[GSXYA-Z]?\d", n):
        return "road"
    if _DEVELOPMENT.search(n):
        return "development_boundary"
    if _ADMIN.search(n):
        return "admin_boundary"
    if _SEAWALL_OR_CONTOUR.search(n):
        return "other"
    if _RAILWAY.search(n) or (_RAILWAY_INSIDE.search(n) and not _ROAD.search(n)):
        return "railway"
    if "高速" in n or _EXPRESSWAY_CODE.fullmatch(n) or (
        _EXPRESSWAY_CODE.match(n)
        and not _NATIONAL_ROAD_CODE.match(n)
        and not _ROAD.search(n)
        and not _RIVER.search(n)
    ):
        return "expressway"
    if _PLANNED.search(n) or re.search(r"第[一二三四五六七八九十\d]+条.*路$", n):
        return "planned_road"
    if _ROAD.search(n) or _NATIONAL_ROAD_CODE.fullmatch(n):
        return "road"
    if n.endswith("道") and not n.endswith("河道"):
        return "road"
    if _RIVER.search(n):
        return "river"
    if _SITE_BOUNDARY.search(n):
        return "other"
    return "other"


def is_generic_name(name: str) -> bool:
    """True when ``name`` names no particular feature ("河道", "开发边界", "道路")."""
    return normalise(name.strip()) in GENERIC_NAMES


def boundary_along(name: str, kind: str) -> str | None:
    """The feature a development boundary is named after ("G60高速开发边界" → "G60高速").

    Such a boundary runs along that feature; build and verify use it as an
    approximation (flagged approximate) when the roads layer has no line of the
    boundary itself.
    """
    if kind != "development_boundary":
        return None
    stem = _DEVELOPMENT.sub("", normalise(name)).strip()
    return stem or None


def looks_like_feature(text: str) -> bool:
    """True when ``text`` reads as a complete feature name (has a recognised kind)."""
    t = text.strip()
    if not t:
        return False
    if ROAD_CODE.fullmatch(t):
        return True
    return classify(t) != "other" or bool(_SEAWALL_OR_CONTOUR.search(t) or _SITE_BOUNDARY.search(t))


def ends_like_feature(text: str) -> bool:
    """True when ``text`` ends where a feature name or an offset ends.

    Used to decide whether the ambiguous joiners (一, 和, 及, 与) separate two features:
    "鼎兴路一文翔路" splits, "工业一路" does not.
    """
    t = text.rstrip()
    if not t:
        return False
    if t[-1] in ")]】〕":
        return True
    if re.search(r"(?:米|m|公里|km|千米)(?:左右|处|许)?$", t) and re.search(r"\d|[十百千]", t):
        return True
    if re.search(r"[东南西北](?:侧|面|边|岸)$|以[东南西北]$", t):
        return True
    if re.search(r"(?<![A-Za-z])[GSA]\d{1,4}$", t):
        return True
    return looks_like_feature(t)


#: Characters after 一/和/及 that show the joiner is part of a name ("工业一路", "临港一号桥").
NAME_CONTINUATION_CHARS = set("路号街道条期区村河桥线环支横纵巷弄组队级体带心侧角点站场浜港泾塘")


def continues_name(after: str) -> bool:
    """True when the text after a joiner (一, 和, 及) continues the name before it.

    "工业一路", "临港一号桥", "中山一东路" continue; "鼎兴路一文翔路" does not.
    """
    if not after:
        return True
    if after[0] in NAME_CONTINUATION_CHARS or after[0].isdigit() or after[0] in "一二三四五六七八九十":
        return True
    return after[0] in "东南西北中大小" and after[1:2] in set("路街道巷弄")

# ---------------------------------------------------------------------------
# Numbers and units
# ---------------------------------------------------------------------------

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
UNIT_FACTORS = {"米": 1.0, "m": 1.0, "M": 1.0, "公里": 1000.0, "千米": 1000.0, "km": 1000.0, "KM": 1000.0, "Km": 1000.0}


def parse_number(token: str) -> float:
    """Value of an Arabic ("320", "0.5") or simple Chinese ("三百二十", "两百") number."""
    if re.fullmatch(r"\d+(?:\.\d+)?", token):
        return float(token)
    total, current = 0, 0
    for ch in token:
        if ch in _CN_DIGITS:
            current = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            total += (current or 1) * _CN_UNITS[ch]
            current = 0
        else:
            raise ValueError(f"not a number: {token!r}")
    return float(total + current)


def format_number(value: float) -> str:
    """Shortest decimal text of a distance ("80", "0.5")."""
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value)).rstrip("0").rstrip(".")
