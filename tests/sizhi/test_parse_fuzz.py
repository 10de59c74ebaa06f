"""Property tests: parse never crashes, and format/parse round-trips."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gis_service.sizhi import SizhiParseError, format_sizhi, parse
from gis_service.sizhi.lexicon import classify
from gis_service.sizhi.model import Offset, Part, Segment, Sizhi

# Pieces of 四至 text, so that generated strings reach deep into the grammar.
TOKENS = [
    "东至", "南至", "西至", "北至", "东临", "南侧至", "以", "为北界", "以南", "以东", "位于", "东、南至", "东北至",
    "A路", "鼎兴路", "G60", "G15", "高速", "公路", "河", "河道", "开发边界", "村界", "规划路", "第二条", "工业一路",
    "一", "和", "及", "、", "—", "-", "~", ",", ";", "。", " ", "\n", "(", ")", "(G15)", "（", "）",
    "北", "约", "80", "200", "米", "公里", "m", "左右", "侧", "岸", "道路", "部分", "地块一:", "用地面积178公顷", "東", "@", "①",
    # issue 14: lead-ins, more verbs, bounds, suffixes, white space, pinyin, traditional, 分别
    "四至范围为:", "是指", "本区位于", "东起", "西止", "东依", "北抵", "東至", "南臨", "為", "分别", "分别为", "两侧",
    "为东界", "为东边界和南边界", "东岸线", "南侧绿化带", "西侧围墙", "城市主干道", "国道G320", "228国道", "某厂西",
    "區(qū)", "(dá)", "(", "ā", "\u3000", "\t", "\r\n", "、南至", "不含", "除外", ",,", "三、", "区块三:", "面积5公顷,",
]


def _check(text: str) -> None:
    try:
        s = parse(text)
    except SizhiParseError as exc:
        assert 0 <= exc.start <= exc.end <= len(text)
        assert exc.text == text[exc.start : exc.end]
        assert "unreadable text" not in exc.reason, f"internal error surfaced for {text!r}: {exc.reason}"
        return
    assert s.parts
    s.to_dict()
    format_sizhi(s)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=80))
def test_any_string_parses_or_raises_parse_error(text: str) -> None:
    _check(text)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS), max_size=25).map("".join))
def test_grammar_soup_parses_or_raises_parse_error(text: str) -> None:
    _check(text)


NAMES = [
    "鼎兴路", "文翔路北第二条规划路", "G60高速公路", "G1501", "张泾河", "北沪泾河", "沪杭铁路", "开发边界",
    "G60高速开发边界", "泗泾镇界", "甲公司边界", "工业一路", "5米等深线", "和平路", "人民北路", "中山二路",
    "華興路", "環城東路", "國道G320", "二号路", "区界",
]


@st.composite
def segments(draw: st.DrawFn) -> Segment:
    name = draw(st.sampled_from(NAMES))
    offset = draw(
        st.one_of(
            st.none(),
            st.builds(
                Offset,
                direction=st.sampled_from(["east", "south", "west", "north"]),
                meters=st.one_of(st.none(), st.integers(1, 5000).map(float)),
                approx=st.just(False),
            ),
        )
    )
    if offset is not None and offset.meters is not None and draw(st.booleans()):
        offset = Offset(offset.direction, offset.meters, True)
    aliases = tuple(draw(st.lists(st.sampled_from(["G15", "新桥路"]), max_size=1, unique=True)))
    return Segment(name=name, kind=classify(name), offset=offset, aliases=aliases)  # type: ignore[arg-type]


@st.composite
def sizhis(draw: st.DrawFn) -> Sizhi:
    n_parts = draw(st.integers(1, 3))
    parts = []
    for i in range(n_parts):
        sides = {side: tuple(draw(st.lists(segments(), max_size=3))) for side in ("east", "south", "west", "north")}
        if not any(sides.values()):
            sides["east"] = (draw(segments()),)
        label = f"{'甲乙丙'[i]}部分" if n_parts > 1 else None
        parts.append(Part(label=label, **sides))
    return Sizhi(parts=tuple(parts), preamble=draw(st.sampled_from([None, "位于松江区的西部地带"])))


@settings(max_examples=400, deadline=None)
@given(sizhis())
def test_format_then_parse_is_identity(s: Sizhi) -> None:
    assert parse(format_sizhi(s)) == s
