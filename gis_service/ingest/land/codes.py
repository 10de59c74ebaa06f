"""Land-use codes of three code systems mapped to the platform's classes and to 建设用地 or not.

The same digits mean different land under different systems (DOMAIN.md, "Land data offices
hold"): ``0601`` is 工业用地 in the 三调 classification but 乡村道路用地 in the 国土空间
classification, ``1001`` is 铁路用地 or 工业用地, ``1101`` 河流水面 or 物流仓储用地.  So a code is
only ever read together with its system, and :func:`detect_code_system` refuses to guess when
the codes of a file could be read both ways.

Code systems (:data:`CODE_SYSTEMS`):

- :data:`SANDIAO`: the 三调工作分类 of 第三次全国国土调查 and the 年度国土变更调查 (DLTB layers),
  with the GB/T 21010-2017 土地利用现状分类 codes it replaces (0501-0507, 0604, 0801-0808,
  0901-0906) also accepted;
- :data:`GUOTU`: 国土空间调查、规划、用途管制用地用海分类 (自然资源部; 2023 edition, with the names
  of the 2020 试行 edition accepted where a code kept its class);
- :data:`GB50137`: GB 50137-2011 城市用地分类与规划建设用地标准 (letter codes).

Platform classes (:data:`LAND_USE_CLASSES`): only 工业用地 is ``industrial`` (三调 0601, 国土空间
1001 and 100101-100103, GB 50137 M*): 采矿用地 and 盐田 are ``mining``, because the district target
(001 表1 #9) is set on 已供应工业用地.

建设用地 (``is_built_up``) is the 建设用地 of the 土地管理法's three groups 农用地 / 建设用地 /
未利用地, as tabulated for the survey codes.  Sources used:

- TD/T 1055-2019 第三次全国国土调查技术规程, 附录 A: 表 A.2 (工作分类) and 表 A.4 (工作分类与农用地、
  建设用地和未利用地对照表), as reproduced at http://m.r1worldwide.com/p-7735570.html and
  https://renrendoc.com/paper/230328524.html (the stored copies hold the table titles and 表 A.1,
  not the rows of 表 A.4); the 三调工作分类与土地利用现状分类对应表 with its 三大类 column at
  https://360docs.net/doc/5a4714926.html (建设用地 for the 05-09 codes, 铁路 to 管道运输用地 and
  0603 盐田, which the 三调 lists with the wetlands; 农用地 for 红树林地, 森林沼泽, 灌丛沼泽, 沼泽草地;
  未利用地 for 其他草地, 沿海滩涂, 内陆滩涂);
- the GB/T 21010 土地利用现状分类与三大类对照表 (https://360docs.net/doc/266935094.html) and the
  GB/T 21010 / 全国土地分类 correspondence (https://wap.sciencenet.cn/blog-237238-464310.html):
  农村道路, 坑塘水面, 沟渠, 设施农用地 and 田坎 are 农用地, 空闲地 is 建设用地; the GB/T 21010
  地类对照表 at https://www.360docs.net/doc/0219497724.html puts 113 水库水面 with 118 水工建筑用地 on
  the 建设用地 side and 111 河流水面 / 112 湖泊水面 with the 未利用地;
- the code lists of the 国土空间 classification as transcribed in public planning tools (2020 试行
  edition: 060101 村道用地, 060201-060203, 2302 后备耕地, 1311 水工设施用地); the 2023 codes
  (0601 乡村道路用地, 0602-0604, 2302 田坎, 2303 田间道) follow the project brief and were not found
  in a stored copy of the 2023 text;
- GB 50137-2011 表 3.2.2 / 3.3.2 (H/E and R/A/B/M/W/S/U/G codes), as reproduced at
  https://www.cnblogs.com/ban1234/p/14409844.html and https://m.docduoduo.com/p-8500631.html.

Decisions (each also visible in the tables below):

- 三调 1103 水库水面 and 国土空间 1703 水库水面 are 建设用地: the three-group tables count 水库水面
  with 水工建筑用地 as 建设用地 (水利设施), unlike the other water surfaces.  Their class stays
  ``water``.
- 三调 1107A 干渠 is treated like its parent 1107 沟渠 (农用地, ``water``): no stored source gave its
  group.
- 国土空间 06 农业设施建设用地 (0601 乡村道路用地 with 060101/060102, 0602-0604 and the 2020
  060201-060203) is not counted as 建设用地: its 三调 counterparts 1006 农村道路 and 1202 设施农用地
  are 农用地, and 国土空间 planning counts 农业设施建设用地 apart from 城乡建设用地.  0601 and its
  sub-codes are ``transport`` (like 三调 1006 农村道路), the facility codes ``agricultural``.
- 2301 空闲地 (国土空间) and 1201 空闲地 (三调) are 建设用地, class ``other``.
- 林地, 湿地 and 其他草地/沼泽草地 are ``ecological``; 耕地, 园地, 牧草地, 设施农用地 and 田坎 are
  ``agricultural``; 盐碱地/沙地/裸土地/裸岩石砾地 and GB 50137 E9 are ``other``; 水工建筑用地 /
  水工设施用地 are ``utilities``; 海 (国土空间 18-22, 24) is ``water``.
- A first-level code is accepted only when all its second-level codes share one class and one
  建设用地 flag (三调 01, 02, 03, 07, 09; 国土空间 01-03, 05, 07-09, 11-16, 18-22, 24; GB 50137
  R, A, B, M, W, S, U, G); the others are refused with the second-level codes to use instead.  In
  particular a bare 国土空间 ``10`` (工矿用地) is refused: industrial land must be given as 1001.
- Numbers read from a DBF or a spreadsheet lose their leading zero: an integral number (or a digit
  string) with an odd number of digits gets one back (601 → '0601', 101.0 → '0101', 60101 →
  '060101').  Letters are upper-cased (05h1 → '05H1'), except the optional trailing lower-case
  letter of a GB 50137 code (r2a → 'R2a').
- GB 50137 sub-codes not in the table (a letter, up to two digits and an optional lower-case letter)
  take the class and name of their nearest listed parent; under H and E the second character
  must be a listed one (H1-H5, H9, E1, E2, E9).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import pandas as pd

from gis_service.errors import InputError

SANDIAO = "sandiao"
GUOTU = "guotu"
GB50137 = "gb50137"

#: The code systems, by id.
CODE_SYSTEMS: tuple[str, ...] = (SANDIAO, GUOTU, GB50137)

SYSTEM_LABELS_ZH: dict[str, str] = {
    SANDIAO: "三调工作分类 (GB/T 21010-2017)",
    GUOTU: "国土空间调查、规划、用途管制用地用海分类",
    GB50137: "GB 50137-2011 城市用地分类",
}

#: The platform's land-use classes, in display order.
LAND_USE_CLASSES: tuple[str, ...] = (
    "industrial",
    "mining",
    "logistics_warehouse",
    "residential",
    "commercial",
    "public_service",
    "transport",
    "utilities",
    "green_open_space",
    "water",
    "agricultural",
    "ecological",
    "other",
)

CLASS_LABELS_ZH: dict[str, str] = {
    "industrial": "工业用地",
    "mining": "采矿用地",
    "logistics_warehouse": "物流仓储用地",
    "residential": "居住用地",
    "commercial": "商业服务业用地",
    "public_service": "公共管理与公共服务用地",
    "transport": "交通运输用地",
    "utilities": "公用设施用地",
    "green_open_space": "绿地与开敞空间",
    "water": "水域",
    "agricultural": "农业用地",
    "ecological": "生态用地",
    "other": "其他用地",
}

#: Field names of a 三调 / 年度变更调查 DLTB (地类图斑) layer; any of them marks the 三调 system.
DLTB_FIELDS: frozenset[str] = frozenset({"DLBM", "DLMC", "TBMJ", "QSDWMC", "ZLDWMC", "TBBH", "QSXZ"})

_DECLARE_HINT = "declare the code system (--code-system sandiao|guotu|gb50137)"


class UnknownLandCodeError(InputError):
    """A land-use code that is missing, unknown in its system, or too coarse to classify."""


class CodeNameMismatchError(InputError):
    """A class name (DLMC, 用地名称, 土地用途) that contradicts the code beside it."""


class UnknownCodeSystemError(InputError):
    """A declared code system that is not one of :data:`CODE_SYSTEMS` or their aliases."""


class AmbiguousCodeSystemError(InputError):
    """The code system cannot be told from the fields and codes: it must be declared."""


@dataclass(frozen=True)
class LandCode:
    """One land-use code read under one code system."""

    system: str
    code: str
    name_zh: str
    land_use_class: str
    is_built_up: bool


@dataclass(frozen=True)
class CodedClasses:
    """The classification of a column of codes, position by position."""

    land_use_class: np.ndarray
    is_built_up: np.ndarray
    code: np.ndarray
    name_zh: np.ndarray


@dataclass(frozen=True)
class CodeSystemChoice:
    """The code system of a file and what decided it (English, for the import report)."""

    system: str
    evidence: str


# ---------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------

_Row = tuple[str, str, str, bool]


@dataclass(frozen=True)
class _Entry:
    """A code of a system; ``refusal`` says why it cannot be classified on its own."""

    code: str
    name_zh: str
    land_use_class: str | None
    is_built_up: bool | None
    aliases: tuple[str, ...] = ()
    refusal: str = ""


def _group(land_use_class: str, built_up: bool, *items: str) -> list[_Row]:
    """Rows ``(code, name, class, built-up)`` from ``"code name"`` items sharing class and flag."""
    rows = []
    for item in items:
        code, name = item.split(" ", 1)
        rows.append((code, name, land_use_class, built_up))
    return rows


_IND, _MIN, _LOG, _RES, _COM = "industrial", "mining", "logistics_warehouse", "residential", "commercial"
_PUB, _TRA, _UTI, _GRN = "public_service", "transport", "utilities", "green_open_space"
_WAT, _AGR, _ECO, _OTH = "water", "agricultural", "ecological", "other"
_BUILT, _OPEN = True, False

_SANDIAO_ROWS: list[_Row] = [
    *_group(_AGR, _OPEN, "0101 水田", "0102 水浇地", "0103 旱地"),
    *_group(_AGR, _OPEN, "0201 果园", "0201K 可调整果园", "0202 茶园", "0202K 可调整茶园", "0203 橡胶园",
            "0203K 可调整橡胶园", "0204 其他园地", "0204K 可调整其他园地"),
    *_group(_ECO, _OPEN, "0301 乔木林地", "0301K 可调整乔木林地", "0302 竹林地", "0302K 可调整竹林地",
            "0303 红树林地", "0304 森林沼泽", "0305 灌木林地", "0306 灌丛沼泽", "0307 其他林地",
            "0307K 可调整其他林地"),
    *_group(_AGR, _OPEN, "0401 天然牧草地", "0403 人工牧草地", "0403K 可调整人工牧草地"),
    *_group(_ECO, _OPEN, "0402 沼泽草地", "0404 其他草地"),
    *_group(_COM, _BUILT, "05H1 商业服务业设施用地", "0501 零售商业用地", "0502 批发市场用地", "0503 餐饮用地",
            "0504 旅馆用地", "0505 商务金融用地", "0506 娱乐用地", "0507 其他商服用地"),
    *_group(_LOG, _BUILT, "0508 物流仓储用地", "0604 仓储用地"),
    *_group(_IND, _BUILT, "0601 工业用地"),
    *_group(_MIN, _BUILT, "0602 采矿用地", "0603 盐田"),
    *_group(_RES, _BUILT, "0701 城镇住宅用地", "0702 农村宅基地"),
    *_group(_PUB, _BUILT, "08H1 机关团体新闻出版用地", "08H2 科教文卫用地", "08H2A 高教用地", "0801 机关团体用地",
            "0802 新闻出版用地", "0803 教育用地", "0804 科研用地", "0805 医疗卫生用地", "0806 社会福利用地",
            "0807 文化设施用地", "0808 体育用地"),
    *_group(_UTI, _BUILT, "0809 公用设施用地"),
    *_group(_GRN, _BUILT, "0810 公园与绿地", "0810A 广场用地"),
    *_group(_OTH, _BUILT, "09 特殊用地", "0901 军事设施用地", "0902 使领馆用地", "0903 监教场所用地", "0904 宗教用地",
            "0905 殡葬用地", "0906 风景名胜设施用地"),
    *_group(_TRA, _BUILT, "1001 铁路用地", "1002 轨道交通用地", "1003 公路用地", "1004 城镇村道路用地",
            "1005 交通服务场站用地", "1007 机场用地", "1008 港口码头用地", "1009 管道运输用地"),
    *_group(_TRA, _OPEN, "1006 农村道路"),
    *_group(_WAT, _OPEN, "1101 河流水面", "1102 湖泊水面", "1104 坑塘水面", "1104A 养殖坑塘", "1104K 可调整养殖坑塘",
            "1107 沟渠", "1107A 干渠"),
    *_group(_WAT, _BUILT, "1103 水库水面"),
    *_group(_ECO, _OPEN, "1105 沿海滩涂", "1106 内陆滩涂", "1108 沼泽地", "1110 冰川及永久积雪"),
    *_group(_UTI, _BUILT, "1109 水工建筑用地"),
    *_group(_OTH, _BUILT, "1201 空闲地"),
    *_group(_AGR, _OPEN, "1202 设施农用地", "1203 田坎"),
    *_group(_OTH, _OPEN, "1204 盐碱地", "1205 沙地", "1206 裸土地", "1207 裸岩石砾地"),
]

_SANDIAO_PARENTS: dict[str, str] = {
    "01": "耕地", "02": "种植园用地", "03": "林地", "04": "草地", "05": "商业服务业用地", "06": "工矿用地",
    "07": "住宅用地", "08": "公共管理与公共服务用地", "10": "交通运输用地", "11": "水域及水利设施用地",
    "12": "其他土地",
}

#: Other names of the same code (GB/T 21010-2017 names of 三调 codes, common variants).
_SANDIAO_ALIASES: dict[str, tuple[str, ...]] = {
    "02": ("园地",),
    "05": ("商服用地",),
    "06": ("工矿仓储用地",),
    "0810A": ("广场",),
}

_GUOTU_ROWS: list[_Row] = [
    *_group(_AGR, _OPEN, "0101 水田", "0102 水浇地", "0103 旱地"),
    *_group(_AGR, _OPEN, "0201 果园", "0202 茶园", "0203 橡胶园地", "0204 油料园地", "0205 其他园地"),
    *_group(_ECO, _OPEN, "0301 乔木林地", "0302 竹林地", "0303 灌木林地", "0304 其他林地"),
    *_group(_AGR, _OPEN, "0401 天然牧草地", "0402 人工牧草地"),
    *_group(_ECO, _OPEN, "0403 其他草地"),
    *_group(_ECO, _OPEN, "0501 森林沼泽", "0502 灌丛沼泽", "0503 沼泽草地", "0504 其他沼泽地", "0505 沿海滩涂",
            "0506 内陆滩涂", "0507 红树林地"),
    *_group(_TRA, _OPEN, "0601 乡村道路用地", "060101 村道用地", "060102 村庄内部道路用地"),
    *_group(_AGR, _OPEN, "0602 种植设施建设用地", "0603 畜禽养殖设施建设用地", "0604 水产养殖设施建设用地",
            "060201 种植设施建设用地", "060202 畜禽养殖设施建设用地", "060203 水产养殖设施建设用地"),
    *_group(_RES, _BUILT, "0701 城镇住宅用地", "070101 一类城镇住宅用地", "070102 二类城镇住宅用地",
            "070103 三类城镇住宅用地", "0702 城镇社区服务设施用地", "0703 农村宅基地", "070301 一类农村宅基地",
            "070302 二类农村宅基地", "0704 农村社区服务设施用地"),
    *_group(_PUB, _BUILT, "0801 机关团体用地", "0802 科研用地", "0803 文化用地", "080301 图书与展览用地",
            "080302 文化活动用地", "0804 教育用地", "080401 高等教育用地", "080402 中等职业教育用地",
            "080403 中小学用地", "080404 幼儿园用地", "080405 其他教育用地", "0805 体育用地", "080501 体育场馆用地",
            "080502 体育训练用地", "0806 医疗卫生用地", "080601 医院用地", "080602 基层医疗卫生设施用地",
            "080603 公共卫生用地", "0807 社会福利用地", "080701 老年人社会福利用地", "080702 儿童社会福利用地",
            "080703 残疾人社会福利用地", "080704 其他社会福利用地"),
    *_group(_COM, _BUILT, "0901 商业用地", "090101 零售商业用地", "090102 批发市场用地", "090103 餐饮用地",
            "090104 旅馆用地", "090105 公用设施营业网点用地", "0902 商务金融用地", "0903 娱乐康体用地",
            "090301 娱乐用地", "090302 康体用地", "0904 其他商业服务业用地"),
    *_group(_IND, _BUILT, "1001 工业用地", "100101 一类工业用地", "100102 二类工业用地", "100103 三类工业用地"),
    *_group(_MIN, _BUILT, "1002 采矿用地", "1003 盐田"),
    *_group(_LOG, _BUILT, "1101 物流仓储用地", "110101 一类物流仓储用地", "110102 二类物流仓储用地",
            "110103 三类物流仓储用地", "1102 储备库用地"),
    *_group(_TRA, _BUILT, "1201 铁路用地", "1202 公路用地", "1203 机场用地", "1204 港口码头用地", "1205 管道运输用地",
            "1206 城市轨道交通用地", "1207 城镇道路用地", "1208 交通场站用地", "120801 对外交通场站用地",
            "120802 公共交通场站用地", "120803 社会停车场用地", "1209 其他交通设施用地"),
    *_group(_UTI, _BUILT, "1301 供水用地", "1302 排水用地", "1303 供电用地", "1304 供燃气用地", "1305 供热用地",
            "1306 通信用地", "1307 邮政用地", "1308 广播电视设施用地", "1309 环卫用地", "1310 消防用地",
            "1311 水工设施用地", "1312 其他公用设施用地", "1313 其他公用设施用地"),
    *_group(_GRN, _BUILT, "1401 公园绿地", "1402 防护绿地", "1403 广场用地"),
    *_group(_OTH, _BUILT, "1501 军事设施用地", "1502 使领馆用地", "1503 宗教用地", "1504 文物古迹用地",
            "1505 监教场所用地", "1506 殡葬用地", "1507 其他特殊用地", "16 留白用地"),
    *_group(_WAT, _OPEN, "1701 河流水面", "1702 湖泊水面", "1704 坑塘水面", "1705 沟渠"),
    *_group(_WAT, _BUILT, "1703 水库水面"),
    *_group(_ECO, _OPEN, "1706 冰川及常年积雪"),
    *_group(_WAT, _OPEN, "1801 渔业基础设施用海", "1802 增养殖用海", "1803 捕捞海域", "1901 工业用海", "1902 盐田用海",
            "1903 固体矿产用海", "1904 油气用海", "1905 可再生能源用海", "1906 海底电缆管道用海", "2001 港口用海",
            "2002 航运用海", "2003 路桥隧道用海", "2101 风景旅游用海", "2102 文体休闲娱乐用海", "2201 军事用海",
            "2202 其他特殊用海", "24 其他海域"),
    *_group(_OTH, _BUILT, "2301 空闲地"),
    *_group(_AGR, _OPEN, "2302 田坎"),
    *_group(_TRA, _OPEN, "2303 田间道"),
    *_group(_OTH, _OPEN, "2304 盐碱地", "2305 沙地", "2306 裸土地", "2307 裸岩石砾地"),
]

_GUOTU_PARENTS: dict[str, str] = {
    "01": "耕地", "02": "园地", "03": "林地", "04": "草地", "05": "湿地", "06": "农业设施建设用地", "07": "居住用地",
    "08": "公共管理与公共服务用地", "09": "商业服务业用地", "10": "工矿用地", "11": "仓储用地", "12": "交通运输用地",
    "13": "公用设施用地", "14": "绿地与开敞空间用地", "15": "特殊用地", "17": "陆地水域", "18": "渔业用海",
    "19": "工矿通信用海", "20": "交通运输用海", "21": "游憩用海", "22": "特殊用海", "23": "其他土地",
}

#: 2020 试行 edition names of codes that kept their class and 建设用地 flag in the 2023 edition.
_GUOTU_ALIASES: dict[str, tuple[str, ...]] = {
    "0601": ("农村道路",),
    "060102": ("田间道",),
    "0602": ("设施农用地",),
    "0903": ("娱乐用地",),
    "1207": ("城镇村道路用地",),
    "1311": ("干渠",),
    "1312": ("水工设施用地",),
    "2202": ("科研教育用海",),
    "2302": ("后备耕地",),
}

_GUOTU_REFUSALS: dict[str, str] = {
    "10": "10 工矿用地 covers 工业用地, 采矿用地 and 盐田: 工矿用地 must be given as 1001 工业用地 "
          "(or 100101-100103) or as 1002 采矿用地 / 1003 盐田, so that industrial land is explicit",
}

_GB50137_ROWS: list[_Row] = [
    *_group(_OTH, _BUILT, "H1 城乡居民点建设用地", "H11 城市建设用地", "H12 镇建设用地", "H13 乡建设用地",
            "H14 村庄建设用地", "H4 特殊用地", "H41 军事用地", "H42 安保用地", "H9 其他建设用地"),
    *_group(_TRA, _BUILT, "H2 区域交通设施用地", "H21 铁路用地", "H22 公路用地", "H23 港口用地", "H24 机场用地",
            "H25 管道运输用地"),
    *_group(_UTI, _BUILT, "H3 区域公用设施用地"),
    *_group(_MIN, _BUILT, "H5 采矿用地"),
    *_group(_WAT, _OPEN, "E1 水域", "E11 自然水域", "E12 水库", "E13 坑塘沟渠"),
    *_group(_AGR, _OPEN, "E2 农林用地"),
    *_group(_OTH, _OPEN, "E9 其他非建设用地"),
    *_group(_RES, _BUILT, "R 居住用地", "R1 一类居住用地", "R11 住宅用地", "R12 服务设施用地", "R2 二类居住用地",
            "R21 住宅用地", "R22 服务设施用地", "R3 三类居住用地", "R31 住宅用地", "R32 服务设施用地"),
    *_group(_PUB, _BUILT, "A 公共管理与公共服务设施用地", "A1 行政办公用地", "A2 文化设施用地", "A21 图书展览用地",
            "A22 文化活动用地", "A3 教育科研用地", "A31 高等院校用地", "A32 中等专业学校用地", "A33 中小学用地",
            "A34 特殊教育用地", "A35 科研用地", "A4 体育用地", "A41 体育场馆用地", "A42 体育训练用地",
            "A5 医疗卫生用地", "A51 医院用地", "A52 卫生防疫用地", "A53 特殊医疗用地", "A59 其他医疗卫生用地",
            "A6 社会福利用地", "A7 文物古迹用地", "A8 外事用地", "A9 宗教用地"),
    *_group(_COM, _BUILT, "B 商业服务业设施用地", "B1 商业用地", "B11 零售商业用地", "B12 批发市场用地", "B13 餐饮用地",
            "B14 旅馆用地", "B2 商务用地", "B21 金融保险用地", "B22 艺术传媒用地", "B29 其他商务用地",
            "B3 娱乐康体用地", "B31 娱乐用地", "B32 康体用地", "B4 公用设施营业网点用地", "B41 加油加气站用地",
            "B49 其他公用设施营业网点用地", "B9 其他服务设施用地"),
    *_group(_IND, _BUILT, "M 工业用地", "M1 一类工业用地", "M2 二类工业用地", "M3 三类工业用地"),
    *_group(_LOG, _BUILT, "W 物流仓储用地", "W1 一类物流仓储用地", "W2 二类物流仓储用地", "W3 三类物流仓储用地"),
    *_group(_TRA, _BUILT, "S 道路与交通设施用地", "S1 城市道路用地", "S2 城市轨道交通用地", "S3 交通枢纽用地",
            "S4 交通场站用地", "S41 公共交通场站用地", "S42 社会停车场用地", "S9 其他交通设施用地"),
    *_group(_UTI, _BUILT, "U 公用设施用地", "U1 供应设施用地", "U11 供水用地", "U12 供电用地", "U13 供燃气用地",
            "U14 供热用地", "U15 通信用地", "U16 广播电视用地", "U2 环境设施用地", "U21 排水用地", "U22 环卫用地",
            "U3 安全设施用地", "U31 消防用地", "U32 防洪用地", "U9 其他公用设施用地"),
    *_group(_GRN, _BUILT, "G 绿地与广场用地", "G1 公园绿地", "G2 防护绿地", "G3 广场用地"),
]

_GB50137_PARENTS: dict[str, str] = {"H": "建设用地", "E": "非建设用地"}

_GB50137_ALIASES: dict[str, tuple[str, ...]] = {
    "A": ("公共管理与公共服务用地",),
    "A6": ("社会福利设施用地",),
    "B": ("商业服务设施用地",),
    "S": ("交通设施用地",),
}


def _parent(code: str) -> str | None:
    """The code one level up ('100101' → '1001' → '10', '0201K' → '0201', 'B11' → 'B1' → 'B')."""
    if code[0].isalpha():
        return code[:-1] or None
    if len(code) > 4 and code[-1].isalpha():
        return code[:-1]
    if len(code) == 6:
        return code[:4]
    if len(code) == 4:
        return code[:2]
    return None


def _ancestors(code: str) -> list[str]:
    """Every code above ``code``, nearest first."""
    found = []
    parent = _parent(code)
    while parent:
        found.append(parent)
        parent = _parent(parent)
    return found


def _parent_entry(code: str, name: str, children: list[_Entry], refusal: str) -> _Entry:
    """A first-level code: classified when its sub-codes agree, refused otherwise."""
    classes = sorted({c.land_use_class for c in children if c.land_use_class}, key=LAND_USE_CLASSES.index)
    flags = {c.is_built_up for c in children}
    if len(classes) == 1 and len(flags) == 1 and not refusal:
        return _Entry(code, name, classes[0], flags.pop())
    if not refusal:
        direct = sorted((c for c in children if _parent(c.code) == code), key=lambda c: c.code)
        spans = "、".join(CLASS_LABELS_ZH[c] for c in classes)
        mix = f"spans {spans}" if len(classes) > 1 else "mixes 建设用地 and land that is not"
        listed = ", ".join(f"{c.code} {c.name_zh}" for c in direct[:8])
        refusal = f"{code} {name} {mix}: give the second-level code ({listed}{', …' if len(direct) > 8 else ''})"
    return _Entry(code, name, None, None, refusal=refusal)


def _build(rows: list[_Row], parents: dict[str, str], aliases: dict[str, tuple[str, ...]],
           refusals: dict[str, str] | None = None) -> dict[str, _Entry]:
    """The table of one system: its rows plus first-level codes derived from them."""
    table = {code: _Entry(code, name, cls, built, aliases.get(code, ())) for code, name, cls, built in rows}
    for code, name in parents.items():
        children = [e for e in table.values() if code in _ancestors(e.code)]
        entry = _parent_entry(code, name, children, (refusals or {}).get(code, ""))
        table[code] = _Entry(entry.code, entry.name_zh, entry.land_use_class, entry.is_built_up,
                             aliases.get(code, ()), entry.refusal)
    return table


_TABLES: dict[str, dict[str, _Entry]] = {
    SANDIAO: _build(_SANDIAO_ROWS, _SANDIAO_PARENTS, _SANDIAO_ALIASES),
    GUOTU: _build(_GUOTU_ROWS, _GUOTU_PARENTS, _GUOTU_ALIASES, _GUOTU_REFUSALS),
    GB50137: _build(_GB50137_ROWS, _GB50137_PARENTS, _GB50137_ALIASES),
}

# ---------------------------------------------------------------------------------------------
# Systems and code normalisation
# ---------------------------------------------------------------------------------------------

_SYSTEM_ALIASES: dict[str, str] = {
    "sandiao": SANDIAO, "三调": SANDIAO, "三调工作分类": SANDIAO, "gbt21010": SANDIAO, "gbt210102017": SANDIAO,
    "guotu": GUOTU, "国土空间": GUOTU, "用地用海": GUOTU, "国土空间调查规划用途管制用地用海分类": GUOTU,
    "gb50137": GB50137, "gb501372011": GB50137,
}


def _alias_key(text: str) -> str:
    """Lower-case letters, digits and CJK only: 'GB/T 21010' → 'gbt21010'."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in folded if ch.isalnum())


def resolve_code_system(name: str) -> str:
    """The system id of ``name`` (an id or an alias such as '三调', 'GB/T 21010', 'GB 50137').

    Raises
    ------
    UnknownCodeSystemError
        The name is none of the accepted ones (listed in the message).
    """
    system = _SYSTEM_ALIASES.get(_alias_key(str(name)))
    if system is None:
        accepted = "sandiao (三调, GB/T 21010), guotu (国土空间), gb50137 (GB 50137)"
        raise UnknownCodeSystemError(f"unknown land-use code system {name!r}: accepted are {accepted}")
    return system


_DIGIT_RE = re.compile(r"\d+")
_WHOLE_FLOAT_RE = re.compile(r"(\d+)\.0*")
_LETTER_RE = re.compile(r"([A-Za-z])(?:(\d{1,2})([A-Za-z]?))?")


def _restore_zero(digits: str) -> str:
    """Give a code read as a number its lost leading zero (odd digit count: '601' → '0601')."""
    return "0" + digits if len(digits) % 2 else digits


def _is_missing(raw: object) -> bool:
    """None, NaN, pd.NA, NaT or a blank string."""
    if raw is None or raw is pd.NA or raw is pd.NaT:
        return True
    if isinstance(raw, float | np.floating) and np.isnan(raw):
        return True
    return isinstance(raw, str) and not raw.strip()


def normalise_code(raw: object) -> str | None:
    """The canonical text of a code as read from a file, or None when it is missing.

    Numbers get their lost leading zero back (601 → '0601', 101.0 → '0101'), letters are
    upper-cased ('05h1' → '05H1') except a GB 50137 trailing lower-case letter ('r2a' → 'R2a').
    Text that cannot be a code is returned stripped (and then found in no table).
    """
    if _is_missing(raw):
        return None
    if isinstance(raw, bool | np.bool_):
        return str(raw)
    if isinstance(raw, Integral):
        return _restore_zero(str(int(raw))) if int(raw) >= 0 else str(raw)
    if isinstance(raw, Real):
        value = float(raw)
        return _restore_zero(str(int(value))) if value.is_integer() and value >= 0 else str(raw)
    text = unicodedata.normalize("NFKC", str(raw)).strip()
    whole = _WHOLE_FLOAT_RE.fullmatch(text)
    if whole:
        text = whole.group(1)
    if _DIGIT_RE.fullmatch(text) and text.isascii():
        return _restore_zero(text)
    letters = _LETTER_RE.fullmatch(text)
    if letters:
        return letters.group(1).upper() + (letters.group(2) or "") + (letters.group(3) or "").lower()
    return text.upper()


def _gb50137_inferred(code: str) -> _Entry | None:
    """A GB 50137 sub-code not in the table, read as its nearest listed parent."""
    table = _TABLES[GB50137]
    if not _LETTER_RE.fullmatch(code):
        return None
    for ancestor in _ancestors(code):
        entry = table.get(ancestor)
        if entry is not None:
            return None if entry.refusal else _Entry(code, entry.name_zh, entry.land_use_class, entry.is_built_up)
    return None


def _entry(code: str, system: str) -> _Entry | None:
    """The table entry of a normalised code (refused first-level codes included), or None."""
    entry = _TABLES[system].get(code)
    if entry is None and system == GB50137:
        entry = _gb50137_inferred(code)
    return entry


def _land_code(entry: _Entry, system: str) -> LandCode:
    assert entry.land_use_class is not None and entry.is_built_up is not None
    return LandCode(system, entry.code, entry.name_zh, entry.land_use_class, entry.is_built_up)


def lookup(code: object, system: str) -> LandCode | None:
    """The meaning of ``code`` under ``system``, or None when it has none there.

    Parameters
    ----------
    code
        As read from a file: text ('0601', '05h1', 'M1') or a number that lost its leading
        zero (601, 101.0).
    system
        :data:`SANDIAO`, :data:`GUOTU`, :data:`GB50137` or an alias of one.

    Returns
    -------
    LandCode | None
        None for a missing or unknown code and for a first-level code too coarse to classify
        (e.g. 国土空间 '10').
    """
    system = resolve_code_system(system)
    normalised = normalise_code(code)
    entry = _entry(normalised, system) if normalised else None
    if entry is None or entry.refusal:
        return None
    return _land_code(entry, system)


# ---------------------------------------------------------------------------------------------
# Class names
# ---------------------------------------------------------------------------------------------

_SPACE_RE = re.compile(r"\s+")


def _name_key(name: str) -> str:
    """A class name without spaces and without the '用地' suffix ('工业用地 ' → '工业')."""
    text = _SPACE_RE.sub("", unicodedata.normalize("NFKC", name))
    return text[:-2] if text.endswith("用地") and len(text) > 2 else text


def _accepted_names(entry: _Entry, system: str) -> frozenset[str]:
    """Name keys that agree with a code: its own names, its parents' and its sub-codes'."""
    table = _TABLES[system]
    related = [entry]
    related += [table[a] for a in _ancestors(entry.code) if a in table]
    related += [e for e in table.values() if entry.code in _ancestors(e.code)]
    return frozenset(_name_key(n) for e in related for n in (e.name_zh, *e.aliases))


def _blank(name: object) -> bool:
    return _is_missing(name) or not isinstance(name, str)


def _name_agrees(entry: _Entry, system: str, name: str) -> bool:
    return _name_key(name) in _accepted_names(entry, system)


# ---------------------------------------------------------------------------------------------
# classify
# ---------------------------------------------------------------------------------------------


def _as_array(values: Sequence[object] | np.ndarray | pd.Series) -> np.ndarray:
    """A 1-d array of the values (positions, not a Series index)."""
    if isinstance(values, pd.Series | pd.Index):
        return values.to_numpy(dtype=object, na_value=None)
    array = np.asarray(values, dtype=object) if not isinstance(values, np.ndarray) else values
    return array.ravel()


def _unknown_message(raw: object, normalised: str | None, system: str, where: str) -> str:
    """Why a code cannot be classified under ``system`` (a missing, unknown or coarse code)."""
    label = SYSTEM_LABELS_ZH[system]
    head = f"{where}: land-use code {raw!r} is not a {label} code"
    if normalised is None:
        return f"{head}: the code is missing"
    entry = _entry(normalised, system)
    if entry is not None and entry.refusal:
        return f"{head} by itself: {entry.refusal}"
    others = [s for s in CODE_SYSTEMS if s != system and (e := _entry(normalised, s)) and not e.refusal]
    if others:
        other = others[0]
        meaning = _entry(normalised, other)
        assert meaning is not None
        return (f"{head} (it is {meaning.name_zh} under {SYSTEM_LABELS_ZH[other]}: "
                f"check the declared code system)")
    return head


def _first_position(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _check_names(positions: np.ndarray, normalised: list[str], names: np.ndarray, system: str,
                 where: Callable[[int], str]) -> None:
    """Raise :class:`CodeNameMismatchError` for the first name that contradicts its code."""
    name_index, name_uniques = pd.factorize(pd.Series(names, dtype=object), use_na_sentinel=True)
    pairs = positions.astype(np.int64) * (len(name_uniques) + 1) + (name_index + 1)
    bad_pairs = []
    for pair in np.unique(pairs):
        code_i, name_i = divmod(int(pair), len(name_uniques) + 1)
        if name_i == 0 or _blank(name_uniques[name_i - 1]):
            continue
        entry = _entry(normalised[code_i], system)
        assert entry is not None
        if not _name_agrees(entry, system, str(name_uniques[name_i - 1])):
            bad_pairs.append(pair)
    if bad_pairs:
        i = _first_position(np.isin(pairs, bad_pairs))
        entry = _entry(normalised[positions[i]], system)
        assert entry is not None
        raise CodeNameMismatchError(
            f"{where(i)}: code {entry.code!r} means {entry.name_zh} under {SYSTEM_LABELS_ZH[system]} "
            f"but the class name says {names[i]!r}"
        )


def classify(
    codes: Sequence[object] | np.ndarray | pd.Series,
    system: str,
    *,
    names: Sequence[object] | None = None,
    where: Callable[[int], str],
) -> CodedClasses:
    """Classify a column of codes under one system, each distinct code looked up once.

    Parameters
    ----------
    codes
        The code column (DLBM, 用地代码...), text or numbers.
    system
        :data:`SANDIAO`, :data:`GUOTU`, :data:`GB50137` or an alias of one.
    names
        The class-name column beside the codes (DLMC, 用地名称, 土地用途), or None.  Blank
        names are not checked.
    where
        The location text of a position, for messages (e.g. "DLTB.shp layer DLTB feature 12").

    Returns
    -------
    CodedClasses
        Class, 建设用地 flag, normalised code and the system's name, position by position.

    Raises
    ------
    UnknownLandCodeError
        For the first missing, unknown or too coarse code.
    CodeNameMismatchError
        For the first name that contradicts its code.
    """
    system = resolve_code_system(system)
    raw = _as_array(codes)
    positions, uniques = pd.factorize(pd.Series(raw, dtype=object), use_na_sentinel=True)
    normalised = [normalise_code(u) for u in uniques]
    entries = [_entry(n, system) if n else None for n in normalised]
    bad = [k for k, e in enumerate(entries) if e is None or e.refusal]
    bad_mask = (positions < 0) | np.isin(positions, bad)
    if bad_mask.any():
        i = _first_position(bad_mask)
        code_n = normalised[positions[i]] if positions[i] >= 0 else None
        raise UnknownLandCodeError(_unknown_message(raw[i], code_n, system, where(i)))
    if names is not None:
        name_array = _as_array(names)
        if len(name_array) != len(raw):
            raise ValueError(f"{len(name_array)} class names for {len(raw)} codes")
        _check_names(positions, [n or "" for n in normalised], name_array, system, where)
    ok = [e for e in entries if e is not None]
    return CodedClasses(
        land_use_class=np.array([e.land_use_class for e in ok], dtype=object)[positions],
        is_built_up=np.array([bool(e.is_built_up) for e in ok], dtype=bool)[positions],
        code=np.array([e.code for e in ok], dtype=object)[positions],
        name_zh=np.array([e.name_zh for e in ok], dtype=object)[positions],
    )


# ---------------------------------------------------------------------------------------------
# Detection
# ---------------------------------------------------------------------------------------------


def _distinct_codes(codes: Sequence[object] | np.ndarray) -> list[str]:
    """The distinct normalised non-missing codes, in order of first appearance."""
    seen: dict[str, None] = {}
    for value in pd.unique(pd.Series(_as_array(codes), dtype=object)):
        normalised = normalise_code(value)
        if normalised:
            seen.setdefault(normalised, None)
    return list(seen)


def _examples(codes: Iterable[str], limit: int = 3) -> str:
    return ", ".join(repr(c) for c in list(codes)[:limit])


def _by_exclusive_codes(digit_codes: list[str]) -> CodeSystemChoice | None:
    """Decide from codes that exist under only one digit system; refuse contradictions."""
    neither = [c for c in digit_codes if c not in _TABLES[SANDIAO] and c not in _TABLES[GUOTU]]
    if neither:
        raise AmbiguousCodeSystemError(
            f"cannot tell the code system: {_examples(neither)} is a code of neither "
            f"{SYSTEM_LABELS_ZH[SANDIAO]} nor {SYSTEM_LABELS_ZH[GUOTU]}; {_DECLARE_HINT}"
        )
    only = {s: [c for c in digit_codes if c in _TABLES[s] and c not in _TABLES[o]]
            for s, o in ((SANDIAO, GUOTU), (GUOTU, SANDIAO))}
    if only[SANDIAO] and only[GUOTU]:
        raise AmbiguousCodeSystemError(
            f"codes contradict each other: {_examples(only[SANDIAO])} exist only under "
            f"{SYSTEM_LABELS_ZH[SANDIAO]}, {_examples(only[GUOTU])} only under {SYSTEM_LABELS_ZH[GUOTU]}; "
            f"{_DECLARE_HINT}"
        )
    for system, found in only.items():
        if found:
            return CodeSystemChoice(system, f"codes that exist only under {SYSTEM_LABELS_ZH[system]}: "
                                            f"{_examples(found)}")
    return None


def _by_names(codes: Sequence[object] | np.ndarray, names: Sequence[object]) -> CodeSystemChoice | None:
    """The one digit system under which every non-blank class name agrees with its code."""
    frame = pd.DataFrame({"code": _as_array(codes), "name": _as_array(names)}, dtype=object)
    pairs = []
    for code, name in frame.drop_duplicates().itertuples(index=False):
        normalised = normalise_code(code)
        if normalised and not _blank(name):
            pairs.append((normalised, str(name)))
    if not pairs:
        return None
    agree = {s: [(c, n) for c, n in pairs if (e := _entry(c, s)) is not None and _name_agrees(e, s, n)]
             for s in (SANDIAO, GUOTU)}
    fits = [s for s in (SANDIAO, GUOTU) if len(agree[s]) == len(pairs)]
    if len(fits) != 1:
        return None
    system = fits[0]
    other = GUOTU if system == SANDIAO else SANDIAO
    telling = [p for p in pairs if p not in agree[other]] or pairs
    code, name = telling[0]
    return CodeSystemChoice(system, f"class names agree with the codes only under {SYSTEM_LABELS_ZH[system]} "
                                    f"(e.g. {code!r} {name!r})")


def _ambiguity_message(digit_codes: list[str]) -> str:
    """Refusal naming a code with both readings, preferring one whose class differs."""
    def differs(code: str) -> bool:
        return _TABLES[SANDIAO][code].land_use_class != _TABLES[GUOTU][code].land_use_class

    example = next((c for c in digit_codes if differs(c)), digit_codes[0])
    s, g = _TABLES[SANDIAO][example], _TABLES[GUOTU][example]
    return (f"codes are ambiguous: {example!r} is {s.name_zh} under {SYSTEM_LABELS_ZH[SANDIAO]} "
            f"but {g.name_zh} under {SYSTEM_LABELS_ZH[GUOTU]}; {_DECLARE_HINT}")


def detect_code_system(
    field_names: Sequence[str],
    codes: Sequence[object] | np.ndarray,
    *,
    declared: str | None = None,
    names: Sequence[object] | None = None,
) -> CodeSystemChoice:
    """The code system of a file's codes, or a refusal when it cannot be told.

    Rules, in order: a declared system (id or alias); DLTB field names (三调); letter codes
    only (GB 50137); codes that exist under one digit system only; class names that agree with
    the codes under one digit system only.  Codes are not validated here: :func:`classify` does.

    Parameters
    ----------
    field_names
        The attribute names of the layer or the column names of the table.
    codes
        The code column.
    declared
        The system the user declared (``--code-system``), or None.
    names
        The class-name column beside the codes, or None.

    Raises
    ------
    UnknownCodeSystemError
        ``declared`` is not a known system.
    AmbiguousCodeSystemError
        The system cannot be told (the message gives a code with both readings).
    """
    if declared is not None:
        return CodeSystemChoice(resolve_code_system(declared), f"declared as {declared!r}")
    dltb = [f for f in field_names if str(f).strip().upper() in DLTB_FIELDS]
    if dltb:
        return CodeSystemChoice(SANDIAO, f"fields {', '.join(dltb)} (三调 DLTB layer)")
    distinct = _distinct_codes(codes)
    if not distinct:
        raise AmbiguousCodeSystemError(f"no land-use codes to tell the code system from; {_DECLARE_HINT}")
    letters = [c for c in distinct if c[0].isalpha()]
    digits = [c for c in distinct if not c[0].isalpha()]
    if letters and digits:
        raise AmbiguousCodeSystemError(
            f"codes mix GB 50137 letter codes ({_examples(letters)}) and digit codes ({_examples(digits)}); "
            f"{_DECLARE_HINT}"
        )
    if letters:
        return CodeSystemChoice(GB50137, f"all codes are GB 50137 letter codes (e.g. {_examples(letters)})")
    choice = _by_exclusive_codes(digits)
    if choice is None and names is not None:
        choice = _by_names(codes, names)
    if choice is None:
        raise AmbiguousCodeSystemError(_ambiguity_message(digits))
    return choice


# ---------------------------------------------------------------------------------------------
# Free-text land-use names (供地结果公告 土地用途)
# ---------------------------------------------------------------------------------------------

#: Keywords of the classes a supply record's 土地用途 can name; "" marks words that name several.
_NAME_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("工业", _IND),
    ("仓储", _LOG), ("物流", _LOG),
    ("商服", _COM), ("商业", _COM), ("商务", _COM), ("办公", _COM), ("零售", _COM), ("批发", _COM),
    ("餐饮", _COM), ("旅馆", _COM), ("金融", _COM), ("娱乐", _COM),
    ("住宅", _RES), ("居住", _RES), ("宅基地", _RES),
    ("采矿", _MIN), ("盐田", _MIN),
    ("工矿", ""), ("商住", ""), ("行政办公", ""), ("混合", ""),
)

_HIERARCHY_RE = re.compile(r"[-－—–>＞→]+")


def class_of_name(name: str) -> str | None:
    """The class a free-text land-use name states, or None when it states none or several.

    The most specific part of a hierarchical name decides ('工矿仓储用地-工业用地' → industrial).
    Only 工业 names are ``industrial``; 新型产业用地 / 研发 names are not 工业用地 and give None,
    as do mixed names ('工矿仓储用地', '商住用地', '工业、仓储用地').

    Parameters
    ----------
    name
        The 土地用途 text of a supply record (or any land-use name).

    Returns
    -------
    str | None
        ``industrial``, ``logistics_warehouse``, ``commercial``, ``residential``, ``mining`` or None.
    """
    if not isinstance(name, str):
        return None
    parts = [p for p in _HIERARCHY_RE.split(_SPACE_RE.sub("", unicodedata.normalize("NFKC", name))) if p]
    if not parts:
        return None
    text = parts[-1]
    found = {cls for word, cls in _NAME_KEYWORDS if word in text}
    return found.pop() if len(found) == 1 and "" not in found else None
