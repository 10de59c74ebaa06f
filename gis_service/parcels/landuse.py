"""Land-use codes → normalised land-use classes.

Two code systems are recognised:

- GB 50137-2011 城市用地分类与规划建设用地标准 (letters): M 工业用地 with M1/M2/M3 (一/二/三类
  工业用地, by nuisance level), W 物流仓储, R 居住, A 公共管理与公共服务, B 商业服务业设施,
  S 道路与交通设施, U 公用设施, G 绿地与广场, H 建设用地 (regional), E 非建设用地.
- 国土空间调查、规划、用途管制用地用海分类 (2020/2023 guideline; digits, 2/4/6 levels):
  10 工矿用地 with 1001 工业用地 (100101/100102/100103 一/二/三类工业用地), 1002 采矿用地,
  1003 盐田; 11 仓储用地; 07 居住; 08 公共管理与公共服务; 09 商业服务业; 12 交通运输;
  13 公用设施; 14 绿地与开敞空间; 01-06 农业/生态; 15 特殊; 16 留白; 17 陆地水域; 23 其他.

Only 工业用地 (M, M1-M3, 1001 and its sub-codes) is ``industrial``: 采矿用地 (1002) and 盐田
(1003) are ``mining`` because 001 表1 #9's basis is 工业用地.
"""

from __future__ import annotations

import re

from gis_service.errors import InputError

LAND_USE_CLASSES: tuple[str, ...] = (
    "industrial",
    "mining",
    "logistics_warehouse",
    "residential",
    "public_service",
    "commercial",
    "transport",
    "utilities",
    "green_open_space",
    "agricultural_ecological",
    "water",
    "special",
    "reserved",
    "other",
)

_GB50137: dict[str, str] = {
    "M": "industrial",
    "W": "logistics_warehouse",
    "R": "residential",
    "A": "public_service",
    "B": "commercial",
    "S": "transport",
    "U": "utilities",
    "G": "green_open_space",
    "H": "other",
    "E": "agricultural_ecological",
}

_GUOTU_LEVEL1: dict[str, str] = {
    "01": "agricultural_ecological",  # 耕地
    "02": "agricultural_ecological",  # 园地
    "03": "agricultural_ecological",  # 林地
    "04": "agricultural_ecological",  # 草地
    "05": "agricultural_ecological",  # 湿地
    "06": "agricultural_ecological",  # 农业设施建设用地
    "07": "residential",
    "08": "public_service",
    "09": "commercial",
    "11": "logistics_warehouse",
    "12": "transport",
    "13": "utilities",
    "14": "green_open_space",
    "15": "special",
    "16": "reserved",  # 留白用地
    "17": "water",  # 陆地水域
    "23": "other",
}

_GUOTU_10: dict[str, str] = {"1001": "industrial", "1002": "mining", "1003": "mining"}

_LETTER_CODE = re.compile(r"^([A-Z])(\d{0,2})[a-z]?$")
_DIGIT_CODE = re.compile(r"^\d{2}(\d{2}){0,2}$")


def land_use_class(code: object, *, where: str = "") -> str:
    """The land-use class of a code ("M1" → industrial, "100102" → industrial, "0701" → residential).

    Raises :class:`InputError` naming the code (and ``where``) for an unknown code.
    """
    text = str(code).strip().upper() if code is not None else ""
    suffix = f" ({where})" if where else ""
    if not text or text == "NAN":
        raise InputError(f"missing land-use code{suffix}")
    letter = _LETTER_CODE.match(text)
    if letter and letter.group(1) in _GB50137:
        return _GB50137[letter.group(1)]
    if _DIGIT_CODE.match(text):
        head = text[:2]
        if head == "10":
            if len(text) == 2:
                raise InputError(f"land-use code {text!r} (工矿用地) is ambiguous: use 1001 (工业) or 1002/1003{suffix}")
            if text[:4] in _GUOTU_10:
                return _GUOTU_10[text[:4]]
        elif head in _GUOTU_LEVEL1:
            return _GUOTU_LEVEL1[head]
    raise InputError(f"unknown land-use code {code!r}{suffix}; expected GB 50137 (M1, R2...) or 国土空间 (1001, 0701...)")
