"""The source-document passages of tests/data/seed_excerpts, read and parsed for the tests.

The excerpts are verbatim copies of ../shared/seeds (see that directory's README.md); the
figures below are parsed from their text, so a test comparing the sample data or the database
with them compares two independent things: what the document says and what the platform holds.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

EXCERPTS_DIR = Path(__file__).resolve().parent / "data" / "seed_excerpts"
SRC_001 = "001_13d6efb69ed95403.txt"
SRC_002 = "002_2d4c2d3bcdcedaa7.txt"
SRC_003 = "003_60abe485d1ddc9db.txt"
SRC_004 = "004_a9d02975ccfca6ed.txt"

_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")


def excerpt(name: str) -> str:
    """The text of one excerpt file, e.g. ``excerpt("004_annex.txt")``."""
    return (EXCERPTS_DIR / name).read_text(encoding="utf-8")


def _lines(name: str) -> list[str]:
    """The excerpt's non-blank lines, stripped (the documents indent with ideographic spaces)."""
    return [line.strip() for line in excerpt(name).splitlines() if line.strip()]


def nfkc(text: str) -> str:
    """Full-width brackets and letters as their ASCII forms (（已供应工业用地） == (已供应工业用地))."""
    return unicodedata.normalize("NFKC", text)


# ----------------------------------------------------------------------------- 004 附件
@dataclass(frozen=True)
class Block:
    name: str
    sizhi: str  # the 四至边界 text after the colon, verbatim
    overview: str  # the 区块概况 text after the colon, verbatim


@cache
def annex_blocks() -> dict[str, Block]:
    """004 附件: block name -> its 四至边界 and 区块概况, in the order of the document."""
    lines = _lines("004_annex.txt")
    out: dict[str, Block] = {}
    for i, line in enumerate(lines):
        if line.startswith("四至边界:"):
            name, overview = lines[i - 1], lines[i + 1]
            assert overview.startswith("区块概况:"), overview[:20]
            out[name] = Block(name, line.removeprefix("四至边界:"), overview.removeprefix("区块概况:"))
    return out


#: metric code -> pattern of its figure in a 区块概况 (004 附件); the unit is the one the document prints
_OVERVIEW_FIGURES: dict[str, tuple[str, str]] = {
    "enterprises": (r"注册企业(\d+)家", "家"),
    "manufacturing_above_scale": (r"规模以上制造业(\d+)家", "家"),
    "high_tech_enterprises": (r"高新技术企业(\d+)家", "家"),
    "zhuanjingtexin": (r"专精特新(\d+)家", "家"),
    "little_giants": (r"科技小巨人(\d+)家", "家"),
    "municipal_tech_centres": (r"市级企业技术中心(\d+)家", "家"),
    "listed_companies": (r"上市挂牌(\d+)家", "家"),
    "employees": (r"员工总数约([\d.]+)(万?)人", "人"),
    "jurisdiction_area": (r"园区管辖面积([\d.]+)平方公里", "km²"),
    "output": (r"2020年产值([\d.]+)亿元", "亿元"),
    "tax": (r"税收([\d.]+)亿元", "亿元"),
}


@cache
def annex_figures() -> dict[str, dict[str, tuple[float, str]]]:
    """004 附件: block name -> metric code -> (2020 value, unit), parsed from the text.

    Only what the text states is present (莘莘学子创业园 publishes no output); 员工 given in 万人
    are converted to 人; 临港松江科技城's 用地面积 comes from its 四至 note (公顷)."""
    out: dict[str, dict[str, tuple[float, str]]] = {}
    for name, block in annex_blocks().items():
        figures: dict[str, tuple[float, str]] = {}
        for metric, (pattern, unit) in _OVERVIEW_FIGURES.items():
            found = re.findall(pattern, block.overview)
            assert len(found) <= 1, (name, metric, found)
            if found:
                value, *scale = found[0] if isinstance(found[0], tuple) else (found[0],)
                figures[metric] = (round(float(value) * (10_000 if scale == ["万"] else 1), 6), unit)
        land = re.search(r"用地面积(\d+)公顷", block.sizhi)
        if land:
            figures["land_area"] = (float(land.group(1)), "公顷")
        out[name] = figures
    return out


# ----------------------------------------------------------------------------- 004 前言, 表1, 表2
def stated_total_area_km2() -> float:
    """004 前言: 张江高新区松江园 总面积约22.98平方公里."""
    match = re.search(r"总面积约([\d.]+)平方公里", excerpt("004_preface.txt"))
    assert match
    return float(match.group(1))


def preface_parts() -> list[str]:
    """004 前言: the seven parts as listed (some with a second name in brackets)."""
    match = re.search(r"共包括七个部分“(.+?)”", excerpt("004_preface.txt"))
    assert match
    return match.group(1).split("、")


@cache
def table1_004() -> dict[int, tuple[str, float]]:
    """004 表1 (2020): row number -> (indicator name with unit, value)."""
    lines = _lines("004_table1.txt")
    out: dict[int, tuple[str, float]] = {}
    for i, line in enumerate(lines):
        match = re.match(r"^(\d+)、(.+)$", line)
        if match:
            value = lines[i + 1]
            assert _NUMBER.match(value), (line, value)
            out[int(match.group(1))] = (match.group(2), float(value))
    return out


@cache
def table2_004() -> dict[str, tuple[float, float, str | None]]:
    """004 表2: indicator (with unit) -> (2020 value, 2025 预计 value, 备注 or None)."""
    lines = _lines("004_table2.txt")
    body = lines[lines.index("备注") + 1 :]
    out: dict[str, tuple[float, float, str | None]] = {}
    i = 0
    while i < len(body):
        label, v2020, v2025 = body[i : i + 3]
        assert label.endswith(")") and _NUMBER.match(v2020) and _NUMBER.match(v2025), body[i : i + 3]
        i += 3
        note = None
        if i < len(body) and not body[i].endswith(")") and not _NUMBER.match(body[i]):
            note, i = body[i], i + 1
        out[label] = (float(v2020), float(v2025), note)
    return out


# ----------------------------------------------------------------------------- 001
@dataclass(frozen=True)
class Target001:
    number: int
    category: str
    name: str
    unit: str
    nature: str
    value: float | None  # None when the target is published as text
    value_text: str


@cache
def table1_001() -> dict[int, Target001]:
    """001 表1: the 14 indicators with their 2025 target (category carried down its rows)."""
    lines = excerpt("001_table1.txt").splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("类别\t"))
    assert lines[header].split("\t")[-1] == "2025 年目标值"
    out: dict[int, Target001] = {}
    category = ""
    for line in lines[header + 1 :]:
        if not line.strip():
            continue
        cat, number, name, unit, nature, target = line.split("\t")
        category = cat or category
        value = float(target) if _NUMBER.match(target) else None
        out[int(number)] = Target001(int(number), category, name, unit, nature, value, target)
    return out


#: 001 prints 佘山 as 余山 (a conversion artefact of the published text)
MISPRINTS_001 = {"余山": "佘山"}


def three_pian_001() -> dict[str, list[str]]:
    """001 四、(二)3: 片区 name -> the places named for it, as printed (misprints corrected)."""
    text = excerpt("001_three_pian.txt")
    out: dict[str, list[str]] = {}
    for name, places in re.findall(r"([\u4e00-\u9fff]+片区)，促进([\u4e00-\u9fff、]+?)等区域", text):
        out[name] = [MISPRINTS_001.get(p, p) for p in places.split("、")]
    return out


# ----------------------------------------------------------------------------- 002, 003
def park_density_003() -> tuple[float, float]:
    """003 一、(一)5: Shanghai 产业园区单位土地工业总产值 (2015, 2020), 亿元/km²."""
    match = re.search(r"产业园区单位土地工业总产值从([\d.]+)亿元/平方公里提高到([\d.]+)亿元/平方公里",
                      excerpt("003_park_density.txt"))
    assert match
    return float(match.group(1)), float(match.group(2))


def rd_intensity_2023_002() -> float:
    """002 一、总体要求: 到 2023 年, 地区研发投入强度达到 4.8%."""
    match = re.search(r"到 ?2023 ?年,地区研发投入强度达到 ?([\d.]+)%", excerpt("002_overall_targets.txt"))
    assert match
    return float(match.group(1))
