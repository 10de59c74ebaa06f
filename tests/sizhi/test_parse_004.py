"""The seven 四至 of 004_a9d02975ccfca6ed.txt 附件, parsed and checked by hand.

The document passage is shipped as tests/data/seed_excerpts/004_annex.txt (verbatim).
"""

from __future__ import annotations

import json

import pytest

from gis_service.sizhi import format_sizhi, parse
from gis_service.sizhi.model import Sizhi
from tests.source_excerpts import annex_blocks, preface_parts


#: Verbatim from 004_a9d02975ccfca6ed.txt, 附件 (四至边界 of each block, OCR artefacts included).
TEXTS: dict[str, str] = {
    '松江工业区西区': (
        '位于松江区的西部地带,东至鼎兴路一文翔路北第二条规划路一鼎兴路东约200米一文翔路南约320米一鼎兴路一文吉路南约400米鼎兴路西约320米一文吉路南约585米一鼎兴路,南至G60高速高速公路,西至G1501高速公路,北至广富林路一鼎松路一花辰公路南约170米。'
    ),
    '环大学城科创园': (
        '园区位于松江区的中部地带,东至人民北路,南至文汇路,西至河道一文汇路北80米一龙源路,北至广富林路。'
    ),
    '松江工业区北区(中山工业园)': (
        '位于松江区的东部,东至张泾河,南至G60高速公路一文翔东路,西至中凯路,北至牛张港一夏家浜路'
    ),
    '临港松江科技城': (
        '东至中心路,南至G60高速开发边界,西至长陆泾-莘松路-九新公路,北至姚北公路(用地面积178公顷)。'
    ),
    '洞泾智能机器人产业基地': (
        '由洞泾和泗泾两部组成。洞泾部分东至高技路,南至开发边界,西至泗砖公路,北至陈泾路;泗泾部分东至沈海(G15)高速公路一长浜路一高技路,南至莘砖公路一长施南路一长浜路,西至泗砖公路,北至开发边界。'
    ),
    'G60电子信息国际创新创业园': (
        '位于松江区的东南部,东至茸华路,南至华哲路一华恒路一加委路一华扩路一北沪泾河一华恒路,西至南乐路,北至俞塘河一茸江路一南乐路。'
    ),
    '莘莘学子创业园': (
        '位于松江区的东南部,东至G15沈海高速,南至盐铁塘开发边界,西至北松公路,北至北松公路。'
    ),
}


def seg(name: str, kind: str = "road", direction: str | None = None, meters: float | None = None, approx: bool = False) -> tuple:
    return (name, kind, None if direction is None else (direction, meters, approx))


def side(s: Sizhi, name: str, part: int = 0) -> list[tuple]:
    out = []
    for x in s.parts[part].side(name):
        off = None if x.offset is None else (x.offset.direction, x.offset.meters, x.offset.approx)
        out.append((x.name, x.kind, off))
    return out


def test_texts_are_verbatim_from_004() -> None:
    assert {name: block.sizhi for name, block in annex_blocks().items()} == TEXTS


def test_the_blocks_are_the_seven_parts_named_in_the_preface() -> None:
    """附件 gives a 四至 for each of the seven parts that 004 前言 lists (two with a second name in brackets)."""
    parts = preface_parts()
    assert len(parts) == 7
    matched = {name: [p for p in parts if p == name or p.startswith(f"{name}(")] for name in TEXTS}
    assert all(len(m) == 1 for m in matched.values()), matched
    assert sorted(m[0] for m in matched.values()) == sorted(parts)


def test_songjiang_west_staircase_with_ocr_dashes() -> None:
    s = parse(TEXTS["松江工业区西区"])
    assert len(s.parts) == 1 and s.parts[0].label is None
    assert s.preamble == "位于松江区的西部地带"
    assert side(s, "east") == [
        seg("鼎兴路"),
        seg("文翔路北第二条规划路", "planned_road"),
        seg("鼎兴路", "road", "east", 200.0, True),
        seg("文翔路", "road", "south", 320.0, True),
        seg("鼎兴路"),
        seg("文吉路", "road", "south", 400.0, True),  # no separator before 鼎兴路 in the text
        seg("鼎兴路", "road", "west", 320.0, True),
        seg("文吉路", "road", "south", 585.0, True),
        seg("鼎兴路"),
    ]
    south = s.parts[0].south
    assert side(s, "south") == [seg("G60高速公路", "expressway")]
    assert south[0].as_written == "G60高速高速公路"  # the doubled word is kept as written
    assert side(s, "west") == [seg("G1501高速公路", "expressway")]
    assert side(s, "north") == [seg("广富林路"), seg("鼎松路"), seg("花辰公路", "road", "south", 170.0, True)]


def test_university_town_river_is_unnamed_and_offset_exact() -> None:
    s = parse(TEXTS["环大学城科创园"])
    assert s.preamble == "园区位于松江区的中部地带"
    assert side(s, "east") == [seg("人民北路")]
    assert side(s, "south") == [seg("文汇路")]
    assert side(s, "west") == [seg("河道", "river"), seg("文汇路", "road", "north", 80.0, False), seg("龙源路")]
    assert side(s, "north") == [seg("广富林路")]
    assert s.parts[0].west[0].unnamed and not s.parts[0].west[1].unnamed


def test_north_zone_rivers_and_expressway() -> None:
    s = parse(TEXTS["松江工业区北区(中山工业园)"])
    assert side(s, "east") == [seg("张泾河", "river")]
    assert side(s, "south") == [seg("G60高速公路", "expressway"), seg("文翔东路")]
    assert side(s, "west") == [seg("中凯路")]
    assert side(s, "north") == [seg("牛张港", "river"), seg("夏家浜路")]


def test_lingang_development_boundary_and_area_note() -> None:
    s = parse(TEXTS["临港松江科技城"])
    assert s.preamble is None
    assert side(s, "east") == [seg("中心路")]
    assert side(s, "south") == [seg("G60高速开发边界", "development_boundary")]
    assert s.parts[0].south[0].along == "G60高速"
    assert side(s, "west") == [seg("长陆泾", "river"), seg("莘松路"), seg("九新公路")]
    assert side(s, "north") == [seg("姚北公路")]
    assert s.parts[0].notes == ("用地面积178公顷",)


def test_dongjing_two_labelled_parts_and_bracketed_code() -> None:
    s = parse(TEXTS["洞泾智能机器人产业基地"])
    assert s.preamble == "由洞泾和泗泾两部组成"
    assert [p.label for p in s.parts] == ["洞泾部分", "泗泾部分"]
    assert side(s, "east", 0) == [seg("高技路")]
    assert side(s, "south", 0) == [seg("开发边界", "development_boundary")]
    assert side(s, "west", 0) == [seg("泗砖公路")]
    assert side(s, "north", 0) == [seg("陈泾路")]
    assert side(s, "east", 1) == [seg("沈海高速公路", "expressway"), seg("长浜路"), seg("高技路")]
    assert s.parts[1].east[0].aliases == ("G15",)
    assert side(s, "south", 1) == [seg("莘砖公路"), seg("长施南路"), seg("长浜路")]
    assert side(s, "west", 1) == [seg("泗砖公路")]
    assert side(s, "north", 1) == [seg("开发边界", "development_boundary")]


def test_g60_electronics_names_starting_with_direction_characters() -> None:
    s = parse(TEXTS["G60电子信息国际创新创业园"])
    assert side(s, "east") == [seg("茸华路")]
    assert side(s, "south") == [
        seg("华哲路"), seg("华恒路"), seg("加委路"), seg("华扩路"), seg("北沪泾河", "river"), seg("华恒路"),
    ]
    assert side(s, "west") == [seg("南乐路")]
    assert side(s, "north") == [seg("俞塘河", "river"), seg("茸江路"), seg("南乐路")]


def test_xinxin_river_named_development_boundary_and_same_road_twice() -> None:
    s = parse(TEXTS["莘莘学子创业园"])
    assert side(s, "east") == [seg("G15沈海高速", "expressway")]
    assert side(s, "south") == [seg("盐铁塘开发边界", "development_boundary")]
    assert s.parts[0].south[0].along == "盐铁塘"
    assert side(s, "west") == [seg("北松公路")] and side(s, "north") == [seg("北松公路")]


def test_json_shape_of_issue() -> None:
    d = parse(TEXTS["环大学城科创园"]).to_dict()
    assert list(d["parts"][0])[:5] == ["label", "east", "south", "west", "north"]
    west = d["parts"][0]["west"][1]
    assert {k: west[k] for k in ("name", "kind", "offset")} == {
        "name": "文汇路",
        "kind": "road",
        "offset": {"direction": "north", "meters": 80, "approx": False},
    }
    assert isinstance(west["offset"]["meters"], int)
    # the span indexes the original text
    text = TEXTS["环大学城科创园"]
    start, end = west["span"]
    assert text[start:end] == "文汇路北80米"
    json.dumps(d, ensure_ascii=False)


@pytest.mark.parametrize("park", sorted(TEXTS))
def test_round_trip_and_dict_round_trip(park: str) -> None:
    s = parse(TEXTS[park])
    assert parse(format_sizhi(s)) == s
    assert Sizhi.from_dict(json.loads(json.dumps(s.to_dict(), ensure_ascii=False))) == s
