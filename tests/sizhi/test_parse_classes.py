"""One test per class of issue 14: the language around the 004 texts that planners receive.

Each test pins the rule of the tokenizer or the grammar that reads the class (the corpus in
``tests/sizhi/corpus`` measures them at scale; these say what each rule must do).
"""

from __future__ import annotations

import pytest

from gis_service.sizhi import SizhiParseError, format_sizhi, parse
from tests.sizhi.test_parse_grammar import compact

FOUR = {"east": ["甲路"], "south": ["乙河"], "west": ["丙路"], "north": ["丁港"]}


@pytest.mark.parametrize(
    "text",
    [
        "四至范围为:东至甲路,南至乙河,西至丙路,北至丁港",
        "四至范围调整为东至甲路,南至乙河,西至丙路,北至丁港",
        "该地块四至:东至甲路,南至乙河,西至丙路,北至丁港",
        "本次调整后园区四至范围是:东至甲路,南至乙河,西至丙路,北至丁港",
        "宗地面积:15632平方米。四至:东至甲路,南至乙河,西至丙路,北至丁港",
    ],
)
def test_lead_in_keeps_the_first_side(text: str) -> None:
    s = parse(text)
    assert compact(s) == FOUR
    assert s.preamble


def test_enumeration_comma_between_sides() -> None:
    assert compact(parse("东至甲路、南至乙河、西至丙路、北至丁港")) == FOUR
    assert compact(parse("二、东至甲路、南至乙河、西至丙路、北至丁港")) == FOUR
    # 、 between bare directions still lists the sides of one marker
    assert compact(parse("东、南至甲路,西至丙路")) == {"east": ["甲路"], "south": ["甲路"], "west": ["丙路"]}


@pytest.mark.parametrize(
    "text",
    [
        "东起甲路,南沿乙河,西依丙路,北缘为丁港",
        "东通甲路,南达乙河,西抵丙路,北接丁港",
        "东到甲路,南邻乙河,西濒丙路,北界丁港",
        "东侧紧邻甲路,南侧毗邻乙河,西侧临近丙路,北侧紧靠丁港",
        "东到达甲路,南沿着乙河,西止丙路,北依丁港",
        "东起甲路西至丙路,南起乙河北至丁港",
    ],
)
def test_side_verbs(text: str) -> None:
    assert compact(parse(text)) == FOUR


def test_verb_characters_inside_names_are_kept() -> None:
    s = parse("东至沿江公路,南至沿海铁路,西至通达路,北至依山河")
    assert compact(s) == {"east": ["沿江公路"], "south": ["沿海铁路"], "west": ["通达路"], "north": ["依山河"]}


@pytest.mark.parametrize(
    ("text", "lead"),
    [
        ("本区位于丙路以东、丁港以南、甲路以西、乙河以北", "本区位于"),
        ("规划范围是指丙路以东、丁港以南、甲路以西、乙河以北的区域", "规划范围是指"),
        ("本地块为丙路以东、丁港以南、甲路以西、乙河以北合围地块", "本地块为"),
        ("开发区范围为:丙路以东、丁港以南、甲路以西、乙河以北所围合的区域", "开发区范围为"),
        ("地块位于丙路东侧、丁港南侧、甲路西侧、乙河北侧", None),
    ],
)
def test_inverse_phrasing_after_a_lead_in(text: str, lead: str | None) -> None:
    s = parse(text)
    assert compact(s) == FOUR
    if lead:
        assert s.preamble == lead


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("以丁港为北界,以甲路为东界,以乙河为南界,以丙路为西界", FOUR),
        ("以丁港为北界、以甲路为东界、以乙河为南界、以丙路为西界", FOUR),
        ("东以甲路为界,南以乙河为界,西以丙路为界,北以丁港为界", FOUR),
        ("乙河为东边界和南边界,西至丙路", {"east": ["乙河"], "south": ["乙河"], "west": ["丙路"]}),
        ("以乙河为东、南边界,以丙路为西界", {"east": ["乙河"], "south": ["乙河"], "west": ["丙路"]}),
        ("园区以丁港为北界,东至甲路", {"north": ["丁港"], "east": ["甲路"]}),
    ],
)
def test_bounds_named_before_the_side(text: str, expected: dict[str, list[str]]) -> None:
    assert compact(parse(text)) == expected


def test_suffixes_that_are_not_part_of_the_name() -> None:
    s = parse("东至甲河西岸线,南至乙路南侧绿化带,西至丙路北,北至某化工厂西")
    assert compact(s) == {"east": ["甲河@west"], "south": ["乙路@south"], "west": ["丙路@north"], "north": ["某化工厂@west"]}
    s = parse("东至城市主干道甲路,南至次干道乙路,西至规划路丙路,北至现状道路丁路")
    assert compact(s) == {"east": ["甲路"], "south": ["乙路"], "west": ["丙路"], "north": ["丁路"]}
    assert s.parts[0].east[0].as_written == "城市主干道甲路"
    # a class word alone stays the (generic) name
    assert compact(parse("东至规划道路,南至乙路"))["east"] == ["规划道路"]


def test_company_boundary_is_the_company_with_its_side() -> None:
    s = parse("东至甲公司东边界,南至乙厂西侧围墙,西至丙村村界,北至丁公司边界")
    assert compact(s) == {"east": ["甲公司@east"], "south": ["乙厂@west"], "west": ["丙村村界"], "north": ["丁公司边界"]}
    assert [seg.kind for seg in s.parts[0].west] == ["admin_boundary"]


def test_white_space_inside_names_and_markers() -> None:
    text = "东 至甲\n路,南\u3000至 乙 河 ,西\n至丙\r\n路 北至丁港"
    s = parse(text)
    assert compact(s) == FOUR
    east = s.parts[0].east[0]
    assert text[east.span[0] : east.span[1]] == "甲\n路"  # spans index the text as given


def test_white_space_between_sides_still_separates() -> None:
    assert compact(parse("东至甲路 南至乙河 西至丙路 北至丁港")) == FOUR
    assert compact(parse("丁港以南 甲路以西 丙路以东 乙河以北")) == FOUR


def test_traditional_characters_kept_in_names() -> None:
    s = parse("東至華興路,南臨長江,西至環城東路,北抵鐵路專用線")
    p = s.parts[0]
    assert [seg.name for seg in (*p.east, *p.south, *p.west, *p.north)] == ["華興路", "長江", "環城東路", "鐵路專用線"]
    assert [seg.kind for seg in (*p.east, *p.south, *p.west, *p.north)] == ["road", "river", "road", "railway"]
    assert parse(format_sizhi(s)) == s
    s2 = parse("本區位於長樂路以東、長壽河以南")
    assert compact(s2) == {"west": ["長樂路"], "north": ["長壽河"]}


def test_several_features_and_numbers_in_names() -> None:
    s = parse("东至甲路和乙河,南至工业六路及五号路,西至二号路和三号河,北至兴旺路和兴旺河")
    assert compact(s) == {
        "east": ["甲路", "乙河"], "south": ["工业六路", "五号路"], "west": ["二号路", "三号河"], "north": ["兴旺路", "兴旺河"],
    }


def test_parentheses_on_every_side() -> None:
    s = parse("东至甲路(规划),南至乙河(现状),西至丙路(原戊路),北至丁港(在建)")
    assert compact(s) == FOUR
    assert s.parts[0].west[0].aliases == ("戊路",)


@pytest.mark.parametrize(
    ("name", "kind"),
    [("国道G320", "road"), ("省道S226", "road"), ("228国道", "road"), ("县道X105", "road"), ("S38常合高速", "expressway")],
)
def test_national_and_provincial_road_codes(name: str, kind: str) -> None:
    seg = parse(f"东至{name},南至乙河").parts[0].east[0]
    assert (seg.name, seg.kind) == (name, kind)


@pytest.mark.parametrize(
    "text",
    [
        "三、东至甲路,南至乙河,西至丙路,北至丁港",
        "(二)东至甲路,南至乙河,西至丙路,北至丁港",
        "区块三:东至甲路,南至乙河,西至丙路,北至丁港",
        "片区一 东至甲路,南至乙河,西至丙路,北至丁港",
        "面积123.45公顷,东至甲路,南至乙河,西至丙路,北至丁港",
        "东至甲路,,南至乙河;;西至丙路,;北至丁港。。",
    ],
)
def test_prefixes_and_doubled_punctuation(text: str) -> None:
    assert compact(parse(text)) == FOUR


def test_injected_pinyin_is_dropped_from_names() -> None:
    text = "東至華達(dá)路,南至區(qū)界,西至丙路(G15),北至丁港"
    s = parse(text)
    p = s.parts[0]
    assert [p.east[0].name, p.south[0].name, p.west[0].name] == ["華達路", "區界", "丙路"]
    assert p.west[0].aliases == ("G15",)  # an upper-case code in brackets is an alias, not pinyin
    assert text[p.east[0].span[0] : p.east[0].span[1]] == "華達(dá)路"


def test_diagonal_sides_kept_apart() -> None:
    s = parse("东至甲路,东南至戊河,南至乙河,西至丙路,西北至己河,北至丁港")
    assert compact(s) == {**FOUR, "southeast": ["戊河"], "northwest": ["己河"]}
    assert s.parts[0].to_dict()["southeast"][0]["name"] == "戊河"


def test_one_keyword_for_two_sides_and_respectively() -> None:
    assert compact(parse("南、西至甲河,东至乙路")) == {"south": ["甲河"], "west": ["甲河"], "east": ["乙路"]}
    assert compact(parse("东、南、西、北分别至甲路、乙河、丙路、丁港")) == FOUR
    assert compact(parse("东西两侧分别至甲路和丙路,南北分别至乙河和丁港")) == FOUR
    assert compact(parse("东、南、西、北四至分别为甲路、乙河、丙路、丁港")) == FOUR
    assert compact(parse("东、南、西三面临太湖,北至丁港")) == {"east": ["太湖"], "south": ["太湖"], "west": ["太湖"], "north": ["丁港"]}


def test_exclusions_are_notes_not_bounds() -> None:
    s = parse("东至甲路,南至乙河,西至丙路,北至丁港(不含戊村居民点)")
    assert compact(s) == FOUR and s.parts[0].notes == ("不含戊村居民点",)
    s = parse("东至甲路,南至乙河,西至丙路,北至丁港,其中己厂用地除外")
    assert compact(s) == FOUR and s.parts[0].notes == ("其中己厂用地除外",)


def test_errors_still_point_at_the_original_text() -> None:
    text = "东至 甲\n@ 路,南至乙河"
    with pytest.raises(SizhiParseError) as err:
        parse(text)
    assert "@" in err.value.text and text[err.value.start : err.value.end] == err.value.text
