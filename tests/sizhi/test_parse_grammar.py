"""The wider 四至 grammar: variants written by hand to pin each rule of the parser."""

from __future__ import annotations

import pytest

from gis_service.errors import InputError
from gis_service.sizhi import SizhiParseError, classify, format_sizhi, parse
from gis_service.sizhi.model import Sizhi


def compact(s: Sizhi, part: int = 0) -> dict[str, list[str]]:
    """Side → ["name", "name@north80~", "name@east"] (offset direction, metres, ~ = approx)."""
    out: dict[str, list[str]] = {}
    p = s.parts[part]
    for side in ("east", "south", "west", "north", "northeast", "southeast", "southwest", "northwest"):
        items = []
        for x in p.side(side):
            text = x.name
            if x.offset is not None:
                meters = "" if x.offset.meters is None else f"{x.offset.meters:g}"
                text += f"@{x.offset.direction}{meters}{'~' if x.offset.approx else ''}"
            items.append(text)
        if items:
            out[side] = items
    return out


def kinds(s: Sizhi, side: str, part: int = 0) -> list[str]:
    return [x.kind for x in s.parts[part].side(side)]


FOUR = {"east": ["A路"], "south": ["B路"], "west": ["C路"], "north": ["D路"]}


@pytest.mark.parametrize(
    "text",
    [
        "东至A路,南至B路,西至C路,北至D路",
        "东至A路;南至B路;西至C路;北至D路。",
        "东至A路，南至B路，西至C路，北至D路",  # full-width comma
        "东至A路\n南至B路\n西至C路\n北至D路",
        "东至A路 南至B路 西至C路 北至D路",
        "东至 A路 南至 B路 西至 C路 北至 D路",  # a space after the marker
        "东至A路南至B路西至C路北至D路",  # separators lost
        "北至D路,西至C路,南至B路,东至A路",  # any order
        "东临A路,南靠B路,西邻C路,北到D路",
        "东侧至A路,南侧临B路,西面至C路,北边至D路",
        "东以A路为界,南以B路为界,西以C路为界,北以D路为界",
        "东界为A路,南界:B路,西:C路,北接D路",
        "东起A路,南抵B路,西达C路,北止D路",
        "東至A路,南至B路,西至C路,北至D路",  # traditional 東
        "四至范围:东至A路;南至B路;西至C路;北至D路。",
    ],
)
def test_side_marker_variants(text: str) -> None:
    assert compact(parse(text)) == FOUR


@pytest.mark.parametrize(
    "text",
    [
        "D路以南,A路以西,C路以东,B路以北",
        "位于D路以南、A路以西、C路以东、B路以北围合区域",
        "D路之南,A路之西,C路之东,B路之北",
        "以D路为北界,以A路为东界,以B路为南界,以C路为西界",
        "D路为北界,A路为东界,B路为南界,C路为西界",
        "北以D路为界,东临A路,B路以北,以C路为西界",
        "位于D路南侧、A路西侧、C路东侧、B路北侧",
    ],
)
def test_inverse_phrasing(text: str) -> None:
    assert compact(parse(text)) == FOUR


def test_offsets_with_and_without_distance() -> None:
    s = parse("东至Y河西岸,南至Z路以南,西至W路西二百米,北至X路北侧")
    assert compact(s) == {"east": ["Y河@west"], "south": ["Z路@south"], "west": ["W路@west200"], "north": ["X路@north"]}


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("文汇路北80米", "文汇路@north80"),
        ("文汇路北80m", "文汇路@north80"),
        ("文汇路北1.2公里", "文汇路@north1200"),
        ("文汇路北0.5千米", "文汇路@north500"),
        ("文汇路北约300米", "文汇路@north300~"),
        ("文汇路北300米左右", "文汇路@north300~"),
        ("文汇路北200余米", "文汇路@north200~"),
        ("文汇路以北150米", "文汇路@north150"),
        ("文汇路向北150米处", "文汇路@north150"),
        ("文汇路北侧约50米", "文汇路@north50~"),
        ("文汇路北三百五十米", "文汇路@north350"),
        ("文汇路以北", "文汇路@north"),
        ("文汇路北侧", "文汇路@north"),
        ("工业一路北80米", "工业一路@north80"),  # the number of the name is not the offset
    ],
)
def test_offset_phrases(phrase: str, expected: str) -> None:
    assert compact(parse(f"北至{phrase},南至B路"))["north"] == [expected]


def test_unnamed_feature_after_offset() -> None:
    s = parse("东至鼎兴路东约200米道路,南至B路")
    seg = s.parts[0].east[0]
    assert (seg.name, seg.unnamed_feature) == ("鼎兴路", "道路")
    assert seg.offset is not None and (seg.offset.direction, seg.offset.meters, seg.offset.approx) == ("east", 200.0, True)
    assert seg.to_dict()["unnamed_feature"] == "道路"


def test_offset_followed_by_new_feature_without_separator() -> None:
    assert compact(parse("东至文吉路南约400米鼎兴路西约320米一鼎兴路"))["east"] == [
        "文吉路@south400~",
        "鼎兴路@west320~",
        "鼎兴路",
    ]


def test_direction_without_distance_inside_planned_road_name() -> None:
    s = parse("东至文翔路北第二条规划路,西至规划三路,南至纬一规划路")
    assert compact(s)["east"] == ["文翔路北第二条规划路"]
    assert kinds(s, "east") == kinds(s, "west") == kinds(s, "south") == ["planned_road"]


@pytest.mark.parametrize(
    ("chain", "expected"),
    [
        ("A路、B路及C路", ["A路", "B路", "C路"]),
        ("长浜路和高技路", ["长浜路", "高技路"]),
        ("长浜路与高技路", ["长浜路", "高技路"]),
        ("长浜路以及高技路", ["长浜路", "高技路"]),
        ("大治河和淀浦河", ["大治河", "淀浦河"]),
        ("和平路", ["和平路"]),  # 和 starting a name
        ("长浜路和平路", ["长浜路和平路"]),  # ambiguous: kept whole rather than invent "平路"
        ("鼎兴路一文翔路", ["鼎兴路", "文翔路"]),  # OCR'd dash
        ("工业一路一工业二路", ["工业一路", "工业二路"]),  # 一 inside names stays
        ("临港一号桥一A路", ["临港一号桥", "A路"]),
        ("华扩路一北沪泾河", ["华扩路", "北沪泾河"]),
        ("A路—B路–C路-D路－E路～F路~G路", ["A路", "B路", "C路", "D路", "E路", "F路", "G路"]),
        ("A路——B路", ["A路", "B路"]),
    ],
)
def test_chain_separators(chain: str, expected: list[str]) -> None:
    assert compact(parse(f"西至{chain}"))["west"] == expected


def test_parenthetical_alias_and_code_inside_name() -> None:
    s = parse("东至沈海(G15)高速公路,南至A路(原B路),西至C路（D路）,北至E路")
    p = s.parts[0]
    assert (p.east[0].name, p.east[0].aliases, p.east[0].kind) == ("沈海高速公路", ("G15",), "expressway")
    assert (p.south[0].name, p.south[0].aliases) == ("A路", ("B路",))
    assert (p.west[0].name, p.west[0].aliases) == ("C路", ("D路",))
    assert p.south[0].to_dict()["aliases"] == ["B路"]


def test_bracket_that_is_not_a_name_is_a_part_note() -> None:
    s = parse("东至A路,南至B路(暂定),西至C路,北至D路(用地面积178公顷)")
    assert s.parts[0].notes == ("暂定", "用地面积178公顷")
    assert compact(s) == FOUR


def test_trailing_sentence_is_a_note_and_comma_continuation_is_a_feature() -> None:
    s = parse("东至A路,E路,南至B路,西至C路,北至D路,总用地面积约2.3平方公里")
    assert compact(s)["east"] == ["A路", "E路"]
    assert s.parts[0].notes == ("总用地面积约2.3平方公里",)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("G60", "expressway"),
        ("G15", "expressway"),
        ("G1501", "expressway"),
        ("A30", "expressway"),
        ("S32", "expressway"),
        ("G15沈海高速", "expressway"),
        ("沈海高速公路", "expressway"),
        ("G320", "road"),
        ("S124", "road"),
        ("G318国道", "road"),
        ("嘉闵高架路", "road"),
        ("人民北路", "road"),
        ("松江大道", "road"),
        ("中山二路", "road"),
        ("张泾河", "river"),
        ("夏家浜", "river"),
        ("牛张港", "river"),
        ("长陆泾", "river"),
        ("俞塘", "river"),
        ("东涌", "river"),
        ("北滘", "river"),
        ("淀浦河", "river"),
        ("人民渠", "river"),
        ("沪杭铁路", "railway"),
        ("沪昆高铁", "railway"),
        ("轨道交通9号线", "railway"),
        ("金山铁路支线", "railway"),
        ("规划路", "planned_road"),
        ("规划三路", "planned_road"),
        ("文翔路北第二条规划路", "planned_road"),
        ("开发边界", "development_boundary"),
        ("G60高速开发边界", "development_boundary"),
        ("城镇开发边界", "development_boundary"),
        ("松江区界", "admin_boundary"),
        ("泗泾镇界", "admin_boundary"),
        ("新南村界", "admin_boundary"),
        ("闵行区行政边界", "admin_boundary"),
        ("上海某某有限公司边界", "other"),
        ("新南村边界", "other"),
        ("杭州湾海堤", "other"),
        ("金山海塘", "other"),
        ("-5米等深线", "other"),
        ("5米等深线", "other"),
    ],
)
def test_classify(name: str, kind: str) -> None:
    assert classify(name) == kind


def test_company_village_seawall_and_contour_sides() -> None:
    s = parse("东至甲公司边界,南至-5米等深线,西至乙村边界,北至金山海塘")
    assert compact(s) == {"east": ["甲公司边界"], "south": ["-5米等深线"], "west": ["乙村边界"], "north": ["金山海塘"]}
    assert kinds(s, "east") == kinds(s, "south") == kinds(s, "west") == kinds(s, "north") == ["other"]


def test_admin_boundaries() -> None:
    s = parse("东至松江区界,南至泗泾镇界,西至新南村界,北至区界")
    assert kinds(s, "east") == kinds(s, "south") == kinds(s, "west") == kinds(s, "north") == ["admin_boundary"]
    assert s.parts[0].north[0].unnamed and not s.parts[0].east[0].unnamed


def test_several_sides_at_once_and_diagonals() -> None:
    s = parse("东、南至A路,西至B路,北至C路")
    assert compact(s) == {"east": ["A路"], "south": ["A路"], "west": ["B路"], "north": ["C路"]}
    d = parse("东北至X路,西南至Y河,东至A路")
    assert compact(d) == {"east": ["A路"], "northeast": ["X路"], "southwest": ["Y河"]}
    assert d.to_dict()["parts"][0]["northeast"][0]["name"] == "X路"


def test_lead_in_sentence_and_subject_are_not_features() -> None:
    s = parse("该园区位于松江区的西部地带,交通便利。该地块东至A路,南至B路,西至C路,北至D路")
    assert compact(s) == FOUR
    assert s.preamble == "该园区位于松江区的西部地带,交通便利,该地块"
    s2 = parse("园区东至A路,南至B路,西至C路,北至D路")
    assert compact(s2) == FOUR and s2.parts[0].label is None


def test_parts_with_labels_and_without() -> None:
    s = parse("地块一:东至A路,南至B路,西至C路,北至D路;地块二:东至E路,南至F路,西至G路,北至H路")
    assert [p.label for p in s.parts] == ["地块一", "地块二"]
    assert compact(s, 1) == {"east": ["E路"], "south": ["F路"], "west": ["G路"], "north": ["H路"]}
    u = parse("东至A路,南至B路,西至C路,北至D路;东至E路,南至F路,西至G路,北至H路")
    assert [p.label for p in u.parts] == [None, None]
    assert compact(u, 1) == {"east": ["E路"], "south": ["F路"], "west": ["G路"], "north": ["H路"]}
    n = parse("(一)东至A路,西至C路;(二)东至E路,西至G路")
    assert [p.label for p in n.parts] == ["(一)", "(二)"]


def test_road_codes_and_names_with_numbers() -> None:
    s = parse("东至G60,南至G320,西至S32-A30,北至中山二路一工业一路")
    assert compact(s) == {"east": ["G60"], "south": ["G320"], "west": ["S32", "A30"], "north": ["中山二路", "工业一路"]}
    assert kinds(s, "west") == ["expressway", "expressway"] and kinds(s, "south") == ["road"]


def test_doubled_word_collapsed_but_kept_as_written() -> None:
    seg = parse("南至G60高速高速公路").parts[0].south[0]
    assert (seg.name, seg.as_written) == ("G60高速公路", "G60高速高速公路")
    assert seg.to_dict()["as_written"] == "G60高速高速公路"


def test_spans_index_the_original_text_even_with_full_width_characters() -> None:
    text = "东至Ａ路，南至文汇路北８０米"
    seg = parse(text).parts[0].south[0]
    assert seg.span is not None and text[seg.span[0] : seg.span[1]] == "文汇路北８０米"
    assert seg.offset is not None and seg.offset.meters == 80.0


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("", (0, 0)),
        ("   ", (0, 3)),
        ("松江区的一个园区", (0, 8)),  # no side at all
        ("东至A路,南至", (5, 7)),  # a marker with nothing after it
        ("东至A路,南至@@", (7, 9)),  # not a name
        ("东至A路(B路,南至C路", (4, 12)),  # unclosed bracket
        ("东至A路),南至C路", (4, 5)),  # unmatched bracket
    ],
)
def test_unparseable_input_names_the_span(text: str, span: tuple[int, int]) -> None:
    with pytest.raises(SizhiParseError) as info:
        parse(text)
    assert (info.value.start, info.value.end) == span
    assert info.value.text == text[span[0] : span[1]]
    assert isinstance(info.value, InputError)


@pytest.mark.parametrize(
    "text",
    [
        "东至A路,南至B路,西至C路,北至D路",
        "D路以南,A路以西,C路以东,B路以北",
        "东至鼎兴路东约200米道路—文吉路南约400米鼎兴路西约320米,南至沈海(G15)高速公路",
        "东、南至A路,西北至B路,北至C路(用地面积178公顷)",
        "由两部分组成,甲部分东至A路,西至B路以西;乙部分东至C河西岸,南至D路北1.5公里",
        "东至A路,南至B路;南至C路,东至D路",
    ],
)
def test_round_trip(text: str) -> None:
    s = parse(text)
    assert parse(format_sizhi(s)) == s
    assert Sizhi.from_dict(s.to_dict()) == s


def test_canonical_text() -> None:
    s = parse("D路以南,以A路为东界,B路北侧约80米以北,C河西岸以东")
    assert format_sizhi(s) == "东至A路,南至B路北约80米,西至C河以西,北至D路"
