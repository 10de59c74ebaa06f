"""Parse a 四至 text into :class:`~gis_service.sizhi.model.Sizhi`: tokenizer, then grammar.

Tokens
------
:func:`gis_service.sizhi.tokenizer.clean` first drops what is not part of the description
(injected pinyin, white space inside names and side markers) and turns a 、 that ends a side
into a separator; it keeps the map back to the original, so every span reported indexes the
text as given, and a second copy of the text with its characters as written, from which
feature names are taken (traditional characters stay in names; matching reads the
simplified copy).

Grammar
-------
The reader below is a recursive descent over the cleaned text.  Rule names are those used
in the docstrings and comments of the methods that implement them::

    DESCRIPTION  := CLAUSE (SEP CLAUSE)*                  SEP: , ; 。 newline (kept) space
    CLAUSE       := [LABEL | LEAD_IN] SIDE+ | BOUND_LIST | BOUND | INVERSE
                  | CONTINUATION | LEAD_IN | NOTE
    SIDE         := MARKER [RESPECTIVELY] CHAIN            (FORWARD_SIDE)
    MARKER       := DIRS [COUNT] [SIDE_WORD] [分别] VERB    东至, 東臨, 东侧紧邻, 东、南至,
                                                          东西两侧分别至, 东北至 (diagonal)
    VERB         := 至 | 到(达) | 临(近) | 靠(近) | 紧靠 | 邻 | 紧邻 | 毗邻 | 接 | 抵 | 达 | 止
                  | 起 | 沿(着) | 依 | 通 | 濒(临) | 傍 | 为 | 是 | 界 | 以 … 为界 | :
    LEAD_IN      := words before the first MARKER that are not a feature: "四至范围为:",
                    "该地块四至:", "四至范围调整为", "园区" (kept as ``preamble``)
    LABEL        := "地块一:", "区块三:", "(二)", "三、", "洞泾部分" (starts a new part)
    BOUND        := [SUBJECT] 以 CHAIN 为 BOUND_DIRS 界 | CHAIN 为 BOUND_DIRS 边界
                    ("以A为北界", "园区以A为北界", "A河为东边界和南边界", "以A为东、南边界")
    BOUND_LIST   := BOUND (、 BOUND)+
    INVERSE      := [LEAD_IN] ITEM ((、|和|及) ITEM)* [REGION_TAIL]
    ITEM         := CHAIN (以|之) DIR [侧] | CHAIN DIR 侧   ("A路以南": A路 bounds the north)
    RESPECTIVELY := 分别 — the features of the CHAIN go to the sides of the MARKER in order
    CONTINUATION := CHAIN after a separator, added to the previous side; otherwise NOTE
    CHAIN        := PIECE (JOINER PIECE)*                  JOINER: dashes, 、, /, 及, 和, 与, 一
    PIECE        := FEATURE+ with BRACKETs                 several when an OFFSET ends one
    FEATURE      := [DESCRIPTOR] NAME [OFFSET [GENERIC]] | NAME SIDE_SUFFIX
    OFFSET       := DIR [约] NUMBER UNIT [左右]              "文汇路北80米", "鼎兴路东约200米"
    SIDE_SUFFIX  := 以北 | 北侧 | 西岸(线) | 南侧绿化带 | 东边界 | bare DIR after a feature
                    or a site (厂, 村, 公司 …): an offset without distance
    DESCRIPTOR   := 城市主干道 | 次干道 | 支路 | 规划路 | 现状道路 … before a real name (dropped)
    LINE_WORD    := 中心线 | 道路红线 | 蓝线 | 防护绿地 … after a real name (dropped)
    BRACKET      := alias ("沈海(G15)高速公路", "(原Y路)") or a NOTE of the part
                    ("(用地面积178公顷)", "(不含X村)"); exclusions (…除外, 不含…) are notes

Joiners that are also name characters (一, 和, 及, 与) separate only when the text before them
ends a feature and the text after does not continue a name ("工业一路", "和平路" stay whole;
"兴旺路和兴旺河" splits).  Anything that cannot be read raises :class:`SizhiParseError`
with its span in the original text; no other exception escapes :func:`parse` for any string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from gis_service.sizhi import lexicon as lx
from gis_service.sizhi.errors import SizhiParseError
from gis_service.sizhi.model import Offset, Part, Segment, Sizhi
from gis_service.sizhi.tokenizer import clean

# A forward side marker: direction(s), optional side word, verb.
_FWD = re.compile(
    r"(?P<dirs>[东南西北](?:[、和及与]?[东南西北]){0,3})"
    r"(?P<count>两|三|四)?(?P<mod>侧|面|边|部|端|方向|方|向|界线|界|缘)?(?P<dist>均|都|皆|分别)?"
    r"(?P<verb>到达|至|到|临近|靠近|紧靠|临|靠|邻|接|抵|达|止|起|毗邻|紧邻|濒临|濒|傍|沿着|沿|依|通|为|是|界|以|:|—|-|－)"
)
#: Verbs strong enough to start a side in the middle of a clause ("A路南至B路").
_STRONG_VERBS = {"至", "到", "到达", "临", "靠", "邻", "起", "毗邻", "紧邻", "濒临", "临近", "靠近", "紧靠", "抵", "止", "依", "通", "沿", "沿着", "濒", "接"}
_YI_CLOSING = re.compile(r"(?:为界线|为边界|为界|为限|为止|为线|一线|为边)$")
#: The sides a bound names: "北", "东、南", "东边界和南" (before the closing 边界/界).
_BOUND_DIRS = r"(?P<dirs>[东南西北](?:(?:侧|面|边)?(?:边界|界线|界)?[、和及与]?[东南西北]){0,3})(?:侧|面|边)?"
_YI_FORM = re.compile(r"^(?P<pre>[^以,]{0,10}?)以(?P<chain>.+?)为" + _BOUND_DIRS + r"(?:边界线|边界|界线|界|边|线|限)$")
_WEI_FORM = re.compile(r"^(?P<chain>.+?)为" + _BOUND_DIRS + r"(?:边界线|边界|界线|界)$")
#: 分别 written after the verb ("四至分别为A、B…", "东、西至分别是…").
_RESPECTIVELY = re.compile(r"分别(?:为|是|至|到|临)?:?")
_LEAD_VERB = re.compile(r"^(?:位于|地处|处于|介于|坐落于|在)")
#: Where a lead-in of an inverse clause may end ("本区位于", "规划范围是指", "本地块为", "…:").
_LEAD_ANY = re.compile(r"(?:位于|位於|地处|处于|介于|坐落于|是指|指|为|是|:)")
_INV_ITEM = re.compile(r"(?P<chain>.+?)(?:以|之)(?P<dir>[东南西北])(?:侧|面|边|部)?(?:\((?P<note>[^()]*)\))?(?:的)?")
_INV_ITEM_SIDEWORD = re.compile(r"(?P<chain>.+?)(?P<dir>[东南西北])(?:侧|面|边)(?:\((?P<note>[^()]*)\))?(?:的)?")
_INV_JOIN = re.compile(r"[、和及与]|以及")
_REGION_TAIL = re.compile(
    r"(?:(?:所|之间|中间)?(?:围合|合围|围成|包围|所围|之间)?(?:的)?(?:区域|范围|地块|地区|用地|部分|范围内|以内)|之间|所围合)$|的[\u4e00-\u9fff]{1,4}?(?:区域|范围|地块|地区|用地|部分)$"
)
_OFFSET = re.compile(
    r"(?:以|向|往|偏)?(?P<dir>[东南西北])(?:侧|面|边|方|岸|向)?(?:方向)?(?P<approx1>约|大约|大概|距离约?|距约?)?"
    r"(?P<num>\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百千]+)(?P<approx2>余|多)?"
    r"(?P<unit>米|m|M|公里|千米|km|KM|Km)(?P<approx3>左右|许)?(?:处)?"
)
_NODIST = re.compile(r"(?:(?:以|之)(?P<d1>[东南西北])(?:侧|面|边|岸)?(?:线)?|(?P<d2>[东南西北])(?:侧|面|边|岸|沿)(?:线)?)$")
#: A side then a generic line after a name: "A路南侧绿化带", "甲公司东边界", "乙厂西侧围墙".
_SIDE_GENERIC = re.compile(
    r"(?:以|之)?(?P<d>[东南西北])(?:侧|面|边|岸)?(?:绿化带|绿带|防护绿地|围墙|边界|界线|用地红线|红线|用地界)$"
)
#: What a site's name ends with, so a bare direction after it is an offset ("某厂西").
_SITE_END = re.compile(r"(?:厂|村|公司|集团|园|小区|学校|中学|小学|医院|场|站|库|所|基地|农场|宅)$")
#: The line of a feature written after its name (rule LINE_WORD).
_LINE_WORD = re.compile(r"(?:道路中心线|河道中心线|中心线|道路红线|规划红线|道路蓝线|河道蓝线|蓝线|红线|防护绿地|防护林带|绿化带)$")
#: Class words written before a name (rule DESCRIPTOR), longest first.
_DESCRIPTOR = re.compile(
    r"^(?:城市主干道|城市次干道|城市快速路|城市支路|城市干道|主干道|次干道|快速路|主干路|次干路|支路|"
    r"规划道路|规划路|现状道路|现状路|现状河道|规划河道)"
)
_BARE_DIR = re.compile(r"(?P<d>[东南西北])$")
_ALIAS_PREFIX = re.compile(r"^(?:原名|原称|原|旧称|又称|又名|即|亦称|曾用名|现名|俗称|今)")
_AREA_WORDS = re.compile(r"面积|公顷|平方|亩|km2|hm2|含|不含|包括|以内|以外|暂定|规划|约")
_DOUBLED = re.compile(r"(高速|公路)\1+")
_LABEL = re.compile(
    r"^(?:[(]?[一二三四五六七八九十\d]+[)、.]?"
    r"|(?:地块|区块|片区|分区|部分|组团)[一二三四五六七八九十\dA-Za-z]+"
    r"|[^的,]{0,14}?(?:部分|片区|地块|区块|分区|组团|板块|园区|基地|片|块|部|区|园)[一二三四五六七八九十\dA-Za-z]*)$"
)
_SUBJECT_WORDS = {
    "园区", "地块", "区块", "项目", "基地", "范围", "规划范围", "用地", "宗地", "用地范围", "规划区", "片区",
    "区域", "项目用地", "本区", "四至", "四至范围", "四至边界", "边界", "其四至", "园区四至", "四至为", "范围为",
}
#: Characters that make 和 the start of a name ("和平路", "和兴路"), not a conjunction.
_HE_NAME_CHARS = set("平兴顺谐睦美乐安煦丰合静畅盛泰")
_NAME_CHARS = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaffA-Za-z0-9·.#]+$")
_BAD_CHAR = re.compile(r"[^\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaffA-Za-z0-9·.#]")


@dataclass
class _PartState:
    label: str | None = None
    sides: dict[str, list[Segment]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def has_sides(self) -> bool:
        return bool(self.sides)


@dataclass
class _Pending:
    """A side declared by a marker whose features follow in the next clause ("东至 A路")."""

    sides: list[str]
    span: tuple[int, int]


class _Reader:
    """Stateful reader over the normalised text (one instance per :func:`parse` call)."""

    def __init__(self, original: str) -> None:
        self.original = original
        self.cleaned = clean(original)
        self.text = self.cleaned.text  # for matching (simplified)
        self.raw = self.cleaned.raw  # for names (as written)
        self._raw_core = ""  # the piece being read, as written (parallel to its simplified core)
        self._inverse_notes: list[str] = []  # brackets met after inverse items
        self.parts: list[_PartState] = [_PartState()]
        self.preamble: list[str] = []
        self.pending: _Pending | None = None
        self.last_sides: list[str] = []
        self._label_text: str | None = None

    # -- errors ---------------------------------------------------------------
    def error(self, reason: str, start: int, end: int) -> SizhiParseError:
        """A parse error at the cleaned span [start, end), reported on the original text."""
        start, end = self.cleaned.span(start, end)
        start = max(0, min(start, len(self.original)))
        end = max(start, min(end, len(self.original)))
        return SizhiParseError(reason, start=start, end=end, text=self.original[start:end])

    # -- clause splitting -----------------------------------------------------
    def clauses(self) -> list[tuple[int, int]]:
        """Rule DESCRIPTION: spans of clauses, cut at separators outside brackets."""
        out: list[tuple[int, int]] = []
        depth, start, open_at = 0, 0, -1
        for i, ch in enumerate(self.text):
            if ch in lx.OPEN_BRACKETS:
                if depth == 0:
                    open_at = i
                depth += 1
            elif ch in lx.CLOSE_BRACKETS:
                if depth == 0:
                    raise self.error("右括号没有对应的左括号 (unmatched closing bracket)", i, i + 1)
                depth -= 1
            elif depth == 0 and ch in lx.CLAUSE_SEPARATORS:
                out.append((start, i))
                start = i + 1
        if depth:
            raise self.error("左括号没有闭合 (unclosed bracket)", open_at, len(self.text))
        out.append((start, len(self.text)))
        return [span for span in (self._strip(s, e) for s, e in out) if span[0] < span[1]]

    def _strip(self, s: int, e: int) -> tuple[int, int]:
        junk = " :" + lx.QUOTES
        while s < e and self.text[s] in junk:
            s += 1
        while e > s and self.text[e - 1] in junk:
            e -= 1
        return s, e

    def _depth_at(self, s: int, p: int) -> int:
        depth = 0
        for ch in self.text[s:p]:
            if ch in lx.OPEN_BRACKETS:
                depth += 1
            elif ch in lx.CLOSE_BRACKETS:
                depth -= 1
        return depth

    # -- main loop ------------------------------------------------------------
    def read(self) -> Sizhi:
        for s, e in self.clauses():
            self.clause(s, e)
        if self.pending is not None:
            s, e = self.pending.span
            raise self.error("方位词后没有边界要素 (side marker without a feature)", s, e)
        parts = [p for p in self.parts if p.has_sides()]
        if not parts:
            raise self.error(
                "没有找到四至方位词,如“东至”“南临”“X路以北” (no side marker found)", 0, len(self.original)
            )
        return Sizhi(
            parts=tuple(self._freeze(p) for p in parts),
            preamble=",".join(self.preamble) if self.preamble else None,
        )

    def _freeze(self, p: _PartState) -> Part:
        """A part with its segments' spans mapped back onto the original text."""

        def side(key: str) -> tuple[Segment, ...]:
            return tuple(
                seg if seg.span is None else replace(seg, span=self.cleaned.span(*seg.span)) for seg in p.sides.get(key, ())
            )

        diagonals = tuple((d, side(d)) for d in ("northeast", "southeast", "southwest", "northwest") if d in p.sides)
        return Part(
            label=p.label,
            east=side("east"),
            south=side("south"),
            west=side("west"),
            north=side("north"),
            diagonals=diagonals,
            notes=tuple(p.notes),
        )

    def clause(self, s: int, e: int) -> None:
        for sub_s, sub_e, marker in self._split_on_markers(s, e):
            self.subclause(sub_s, sub_e, marker)

    def _split_on_markers(self, s: int, e: int) -> list[tuple[int, int, re.Match[str] | None]]:
        """Rule CLAUSE: cut a clause where MARKERs start; returns (start, end, marker).

        The words before the first marker are a LABEL, a LEAD_IN or (when they end a
        feature and the marker's verb is strong, "A路南至B路") a side whose separator was lost.
        """
        text = self.text
        cuts: list[tuple[int, re.Match[str] | None]] = []
        label_prefix_end: int | None = None
        for m in _FWD.finditer(text, s, e):
            p = m.start()
            if self._depth_at(s, p):
                continue
            last_cut = cuts[-1][0] if cuts else s
            if cuts and cuts[-1][1] is not None and cuts[-1][1].end() == p:
                continue  # directly after another marker: part of a name ("东至东达路")
            if p == s:
                cuts.append((p, m))
                continue
            prefix = text[last_cut:p]
            if not cuts and self._is_label(prefix):
                label_prefix_end = p
                cuts.append((s, m))
                continue
            last_piece = re.split(f"[{re.escape(lx.DASHES)}、]", prefix)[-1]
            if m.group("verb") in _STRONG_VERBS and lx.ends_like_feature(last_piece):
                if not cuts:
                    cuts.append((s, None))
                cuts.append((p, m))
                continue
            if not cuts and self._is_subject(prefix, m.group("verb")):
                label_prefix_end = p
                cuts.append((s, m))
        if not cuts:
            return [(s, e, None)]
        out: list[tuple[int, int, re.Match[str] | None]] = []
        for i, (start, m) in enumerate(cuts):
            end = cuts[i + 1][0] if i + 1 < len(cuts) else e
            out.append((start, end, m))
        if label_prefix_end is not None:
            self._label_text = self.text[s:label_prefix_end]
        else:
            self._label_text = None
        return out

    @staticmethod
    def _clean_prefix(prefix: str) -> str:
        return prefix.strip().rstrip(":").strip()

    def _is_label(self, prefix: str) -> bool:
        p = self._clean_prefix(prefix)
        if not p or p in _SUBJECT_WORDS or re.match(r"^(?:该|本|此|其|整个)", p):
            return False
        if _LEAD_VERB.match(p) or "的" in p or any(ch in p for ch in lx.DASHES):
            return False
        return bool(_LABEL.match(p))

    def _is_subject(self, prefix: str, verb: str | None = None) -> bool:
        """Rule LEAD_IN: the words before the first side marker of a clause are a lead-in.

        "园区", "该地块四至:", "四至范围调整为", "本次调整后园区四至范围是": what the
        clause is about, not a feature.  A prefix ending in 为/是 leads in only before a
        side verb such as 至 ("范围为东至…"), not before 界 ("A路为东界").
        """
        stripped = prefix.strip()
        p = self._clean_prefix(prefix)
        if not p or len(p) > 30 or any(ch in p for ch in lx.DASHES):
            return False
        if stripped.endswith(":") and not lx.ends_like_feature(p):
            return True
        if p.endswith(("为", "是")) and verb in _STRONG_VERBS:
            return True
        if verb in ("界", "为", "是", "以") and ("为" in p or "以" in p):
            return False  # "A河为东边界和南边界": a bound, not a lead-in
        if p.endswith(("以", "为", "至", "距")):
            return False
        return not lx.ends_like_feature(p) or p in _SUBJECT_WORDS

    # -- clauses --------------------------------------------------------------
    def subclause(self, s: int, e: int, marker: re.Match[str] | None) -> None:
        if marker is not None:
            label_text = self._label_text if marker.start() > s else None
            self._label_text = None
            self.forward(marker, e, label_text)
            return
        s, e = self._strip(s, e)
        if s >= e:
            return
        if self.pending is not None:
            segs, notes = self.chain(s, e)
            pending = self.pending
            self.pending = None
            if not segs:
                raise self.error("方位词后没有边界要素 (side marker without a feature)", *pending.span)
            self.add(pending.sides, segs, notes, None, pending.span)
            return
        if self.inverse(s, e):
            return
        if self.parts[-1].has_sides() or len(self.parts) > 1:
            self.continuation(s, e)
        else:
            self.preamble.append(self.text[s:e])

    def _sides_of(self, dirs: str, count: str | None, span: tuple[int, int]) -> list[str]:
        chars = [c for c in dirs if c in lx.SIDE_OF_CHAR]
        if len(chars) == 2 and dirs in lx.DIAGONAL_OF_CHARS and not count:
            return [lx.DIAGONAL_OF_CHARS[dirs]]
        sides = []
        for c in chars:
            if lx.SIDE_OF_CHAR[c] not in sides:
                sides.append(lx.SIDE_OF_CHAR[c])
        if not sides:
            raise self.error("无法识别的方位 (unknown direction)", *span)
        return sides

    def forward(self, m: re.Match[str], e: int, label_text: str | None) -> None:
        """Rule SIDE (FORWARD_SIDE): a MARKER and its CHAIN; RESPECTIVELY distributes it."""
        span = (m.start(), m.end())
        sides = self._sides_of(m.group("dirs"), m.group("count"), span)
        label = None
        if label_text is not None:
            cleaned = self._clean_prefix(label_text)
            if self._is_label(label_text):
                label = cleaned
            elif cleaned:
                self.preamble.append(cleaned)
        cs, ce = self._strip(m.end(), e)
        respectively = m.group("dist") == "分别"
        lead = _RESPECTIVELY.match(self.text, cs, ce)
        if lead is not None:
            respectively = True
            cs, ce = self._strip(lead.end(), ce)
        if m.group("verb") == "以":
            closing = _YI_CLOSING.search(self.text, cs, ce)
            if closing:
                ce = closing.start()
        if cs >= ce:
            self._new_part_if_needed(sides, label)
            self.pending = _Pending(sides=sides, span=span)
            return
        segs, notes = self.chain(cs, ce)
        if not segs:
            raise self.error("方位词后没有边界要素 (side marker without a feature)", span[0], ce)
        if respectively and len(sides) > 1 and len(segs) == len(sides):
            # Rule RESPECTIVELY: "东、西分别至A路、B路" gives A路 to the east, B路 to the west.
            self._new_part_if_needed(sides, label)
            for side, seg in zip(sides, segs):
                self.add([side], [seg], [], None, span)
            self.parts[-1].notes.extend(notes)
            self.last_sides = sides
            return
        self.add(sides, segs, notes, label, span)

    def inverse(self, s: int, e: int) -> bool:
        """Read the clauses that name the feature before the side; False when the clause is none.

        Rule BOUND_LIST: "以A为东界、以B为南界" (、 between whole bound clauses) is read
        piece by piece.  Rule BOUND: "以A为北界", "园区以A为北界", "A为北界", "A河为东边界和南
        边界", "以A为东、南边界".  Rule INVERSE: "A路以南、B路以北…区域", with a lead-in
        ("本区位于…", "规划范围是指…", "本地块为…") kept as the preamble.
        """
        text = self.text[s:e]
        if "、" in text:
            pieces = self._split_top(s, e, "、")
            if len(pieces) > 1:
                forms = [self._bound_form(ps, pe) for ps, pe in pieces]
                if all(f is not None for f in forms):
                    for form in forms:
                        self._apply_bound(form)  # type: ignore[arg-type]
                    return True
        form = self._bound_form(s, e)
        if form is not None:
            return self._apply_bound(form)
        lead = _LEAD_VERB.match(text)
        if lead:
            starts = [lead.end()]
        else:
            starts = [m.end() for m in _LEAD_ANY.finditer(text) if m.end() <= 24] + [0]
        for start in starts:
            self._inverse_notes = []
            items = self._inverse_items(text, start, s, lead is not None or start > 0)
            if items is None:
                continue
            found = []
            for cs, ce, d in items:
                segs, notes = self.chain(cs, ce)
                if not segs:
                    break
                found.append((cs, ce, d, segs, notes))
            else:
                if start > 0 and not lead:
                    self.preamble.append(self._clean_prefix(text[:start]))
                for cs, ce, d, segs, notes in found:
                    self.add([lx.OPPOSITE[lx.SIDE_OF_CHAR[d]]], segs, notes, None, (cs, ce))
                self.parts[-1].notes.extend(n for n in self._inverse_notes if n)
                return True
        return False

    def _inverse_items(self, text: str, pos: int, s: int, led: bool) -> list[tuple[int, int, str]] | None:
        """Items "A路以南" of an inverse clause from ``pos``; None when the text is not one."""
        tail = _REGION_TAIL.search(text, pos)
        end = tail.start() if tail else len(text)
        items: list[tuple[int, int, str]] = []
        item_re = _INV_ITEM_SIDEWORD if led else None
        while pos < end:
            m = _INV_ITEM.match(text, pos, end)
            if m is None or not self._inverse_item_ok(m, end):
                m = item_re.match(text, pos, end) if item_re else None
                if m is None or not self._inverse_item_ok(m, end):
                    return None
            items.append((s + m.start("chain"), s + m.end("chain"), m.group("dir")))
            if m.group("note"):
                self._inverse_notes.append(m.group("note").strip())
            pos = m.end()
            join = _INV_JOIN.match(text, pos, end)
            if join:
                pos = join.end()
        return items or None

    def _split_top(self, s: int, e: int, sep: str) -> list[tuple[int, int]]:
        """Spans of text[s:e] cut at ``sep`` outside brackets."""
        out, depth, start = [], 0, s
        for i in range(s, e):
            ch = self.text[i]
            if ch in lx.OPEN_BRACKETS:
                depth += 1
            elif ch in lx.CLOSE_BRACKETS:
                depth -= 1
            elif ch == sep and depth == 0:
                out.append((start, i))
                start = i + 1
        out.append((start, e))
        return [p for p in (self._strip(a, b) for a, b in out) if p[0] < p[1]]

    def _bound_form(self, s: int, e: int) -> tuple[list[str], int, int, str, tuple[int, int]] | None:
        """Match rule BOUND on text[s:e]: (sides, chain start, chain end, lead-in, span)."""
        text = self.text[s:e]
        m = _YI_FORM.match(text)
        if m is None and not text.startswith("以"):
            m = _WEI_FORM.match(text)
        if m is None:
            return None
        pre = m.groupdict().get("pre") or ""
        if pre and (lx.ends_like_feature(pre) or _FWD.search(pre)):
            return None
        try:
            sides = self._sides_of(m.group("dirs"), None, (s, e))
        except SizhiParseError:
            return None
        return sides, s + m.start("chain"), s + m.end("chain"), pre, (s, e)

    def _apply_bound(self, form: tuple[list[str], int, int, str, tuple[int, int]]) -> bool:
        sides, cs, ce, pre, span = form
        segs, notes = self.chain(cs, ce)
        if not segs:
            return False
        if pre:
            self.preamble.append(self._clean_prefix(pre))
        self.add(sides, segs, notes, None, span)
        return True

    @staticmethod
    def _inverse_item_ok(m: re.Match[str], end: int) -> bool:
        """An inverse item must end at a joiner or at the end of the clause."""
        rest = m.string[m.end():end]
        return rest == "" or bool(_INV_JOIN.match(rest))

    def continuation(self, s: int, e: int) -> None:
        """Rule CONTINUATION: features after a comma belong to the previous side; else a NOTE."""
        try:
            segs, notes = self.chain(s, e)
        except SizhiParseError:
            segs, notes = [], []
        if segs and self.last_sides and all(seg.unnamed or lx.looks_like_feature(seg.name) for seg in segs):
            part = self.parts[-1]
            for side in self.last_sides:
                part.sides.setdefault(side, []).extend(segs)
            part.notes.extend(notes)
        else:
            self.parts[-1].notes.append(self.text[s:e])

    def _new_part_if_needed(self, sides: list[str], label: str | None) -> None:
        part = self.parts[-1]
        if label is not None:
            if part.has_sides():
                self.parts.append(_PartState(label=label))
            else:
                part.label = label
        elif any(side in part.sides for side in sides):
            self.parts.append(_PartState())

    def add(self, sides: list[str], segs: list[Segment], notes: list[str], label: str | None, span: tuple[int, int]) -> None:
        self._new_part_if_needed(sides, label)
        part = self.parts[-1]
        for side in sides:
            part.sides.setdefault(side, []).extend(segs)
        part.notes.extend(notes)
        self.last_sides = sides

    # -- chains and features --------------------------------------------------
    def chain(self, s: int, e: int) -> tuple[list[Segment], list[str]]:
        """Rule CHAIN: segments of text[s:e] and the notes found in its brackets."""
        segs: list[Segment] = []
        notes: list[str] = []
        for ps, pe in self._pieces(s, e):
            piece_segs, piece_notes = self.piece(ps, pe)
            segs.extend(piece_segs)
            notes.extend(piece_notes)
        return segs, notes

    def _pieces(self, s: int, e: int) -> list[tuple[int, int]]:
        text = self.text
        pieces: list[tuple[int, int]] = []
        start, depth, i = s, 0, s
        while i < e:
            ch = text[i]
            if ch in lx.OPEN_BRACKETS:
                depth += 1
            elif ch in lx.CLOSE_BRACKETS:
                depth -= 1
            elif depth == 0:
                width = self._joiner_width(start, i, e)
                if width:
                    pieces.append((start, i))
                    start = i + width
                    i = start
                    continue
            i += 1
        pieces.append((start, e))
        return [p for p in (self._strip(a, b) for a, b in pieces) if p[0] < p[1]]

    def _joiner_width(self, start: int, i: int, e: int) -> int:
        """Rule JOINER: width of a separator at text[i] (0 when none) for a piece begun at ``start``."""
        text = self.text
        ch = text[i]
        before = text[start:i].strip()
        after = text[i + 1 : e]
        if ch in lx.DASHES:
            if not before and after[:1].isdigit():
                return 0  # a minus sign: "-5米等深线"
            return 1
        if ch in lx.ENUM_CHARS:
            return 1
        if ch == "一":
            if lx.ends_like_feature(before) and not lx.continues_name(after):
                return 1
            return 0
        for word in lx.ENUM_WORDS:
            if text.startswith(word, i) and i + len(word) <= e:
                rest = text[i + len(word) : e]
                nxt = re.split(f"[{re.escape(lx.DASHES)}、/]", rest)[0]
                if (
                    lx.ends_like_feature(before)
                    and len(nxt) >= 2
                    and not (rest[:1] in lx.NAME_CONTINUATION_CHARS or rest[:1].isdigit())
                    and not (word == "和" and rest[0] in _HE_NAME_CHARS and not before.startswith(rest[:2]))
                ):
                    return len(word)
                return 0
        return 0

    def piece(self, s: int, e: int) -> tuple[list[Segment], list[str]]:
        """Rule PIECE: one piece between joiners, one or more FEATUREs; BRACKETs give aliases or notes."""
        text = self.text
        core_chars: list[str] = []
        raw_chars: list[str] = []
        core_pos: list[int] = []
        brackets: list[tuple[int, str, int, int]] = []  # (core index, content, start, end)
        depth, open_at = 0, -1
        for i in range(s, e):
            ch = text[i]
            if ch in lx.OPEN_BRACKETS:
                if depth == 0:
                    open_at = i
                depth += 1
            elif ch in lx.CLOSE_BRACKETS:
                depth -= 1
                if depth == 0:
                    brackets.append((len(core_chars), text[open_at + 1 : i].strip(), open_at, i + 1))
            elif depth == 0 and ch not in lx.QUOTES and not ch.isspace():
                core_chars.append(ch)
                raw_chars.append(self.raw[i])
                core_pos.append(i)
        core = "".join(core_chars)
        self._raw_core = "".join(raw_chars)
        aliases_at: list[tuple[int, str]] = []
        notes: list[str] = []
        for idx, content, bs, be in brackets:
            alias = _ALIAS_PREFIX.sub("", content)
            if alias and not _AREA_WORDS.search(alias) and (lx.ROAD_CODE.fullmatch(alias) or lx.looks_like_feature(alias)):
                written = self.raw[bs + 1 : be - 1].strip()  # the alias as written (traditional kept)
                written = _ALIAS_PREFIX.sub("", written) if len(written) == len(content) else alias
                aliases_at.append((idx, written if lx.normalise(written) == alias else alias))
            elif content:
                notes.append(content)
        if not core:
            return [], notes
        segs = self._features(core, core_pos, s, e)
        if aliases_at:
            segs = self._attach_aliases(segs, aliases_at, core_pos)
        return segs, notes

    def _attach_aliases(self, segs: list[Segment], aliases_at: list[tuple[int, str]], core_pos: list[int]) -> list[Segment]:
        out = list(segs)
        for idx, alias in aliases_at:
            pos = core_pos[idx - 1] if idx > 0 else core_pos[0]
            target = len(out) - 1
            for k, seg in enumerate(out):
                if seg.span is not None and seg.span[0] <= pos < seg.span[1] + 1:
                    target = k
                    break
            seg = out[target]
            if alias not in seg.aliases and alias != seg.name:
                out[target] = Segment(
                    name=seg.name,
                    kind=seg.kind,
                    offset=seg.offset,
                    aliases=seg.aliases + (alias,),
                    unnamed_feature=seg.unnamed_feature,
                    as_written=seg.as_written,
                    span=seg.span,
                )
        return out

    def _features(self, core: str, core_pos: list[int], s: int, e: int) -> list[Segment]:
        """Rule PIECE continued: cut ``core`` after each OFFSET; a GENERIC word after one is unnamed."""
        segs: list[Segment] = []
        pos = 0
        n = len(core)
        while pos < n:
            m = self._next_offset(core, pos)
            if m is None:
                segs.append(self._feature(core, core_pos, pos, n, None, None))
                break
            offset = Offset(
                direction=lx.SIDE_OF_CHAR[m.group("dir")],  # type: ignore[arg-type]
                meters=lx.parse_number(m.group("num")) * lx.UNIT_FACTORS[m.group("unit")],
                approx=bool(m.group("approx1") or m.group("approx2") or m.group("approx3")),
            )
            rest = core[m.end():]
            unnamed = None
            end = m.end()
            for word in lx.GENERIC_AFTER_OFFSET:
                if rest == word or (len(word) >= 2 and rest.startswith(word) and len(rest) - len(word) >= 3):
                    unnamed = word if word not in ("处", "一线", "线") else None
                    end = m.end() + len(word)
                    break
            segs.append(self._feature(core, core_pos, pos, m.start(), offset, unnamed, end))
            pos = end
        return segs

    @staticmethod
    def _next_offset(core: str, pos: int) -> re.Match[str] | None:
        for m in _OFFSET.finditer(core, pos):
            if m.start() > pos:
                try:
                    lx.parse_number(m.group("num"))
                except ValueError:
                    continue
                return m
        return None

    def _feature(
        self,
        core: str,
        core_pos: list[int],
        start: int,
        end: int,
        offset: Offset | None,
        unnamed: str | None,
        span_end: int | None = None,
    ) -> Segment:
        """Rule FEATURE: NAME with its DESCRIPTOR, SIDE_SUFFIX and closing words removed."""
        name = core[start:end]
        raw_core = self._raw_core
        span = (core_pos[start], core_pos[(span_end or end) - 1] + 1)
        if offset is None:
            offset, name = self._side_suffix(name)
        written = name
        name = _REGION_TAIL.sub("", name) if _REGION_TAIL.search(name) and len(_REGION_TAIL.sub("", name)) >= 2 else name
        name = re.sub(r"(?:一线|为界|为止|沿线)$", "", name) or name
        name = re.sub(r"^(?:至|到)", "", name) or name
        name = _strip_descriptor(name)
        name = _strip_line_word(name)
        name = _DOUBLED.sub(r"\1", name)
        if not name:
            raise self.error("缺少要素名称 (feature name missing before offset)", span[0], span[1])
        bad = _BAD_CHAR.search(name[1:] if re.match(r"-\d", name) else name)
        if bad is not None:
            raise self.error(f"要素名称含有无法识别的字符 {bad.group()!r} (unexpected character in feature name)", span[0], span[1])
        if not re.search(r"[\u3400-\u9fffA-Za-z0-9]", name):
            raise self.error("要素名称无效 (not a feature name)", span[0], span[1])
        kind = lx.classify(name)
        # Names as written (traditional characters kept): the same characters of the raw text.
        at = core.find(name, start, max(end, start + len(name)))
        if at >= 0 and len(raw_core) == len(core):
            name = raw_core[at : at + len(name)]
        at_w = core.find(written, start)
        if at_w >= 0 and len(raw_core) == len(core):
            written = raw_core[at_w : at_w + len(written)]
        return Segment(
            name=name,
            kind=kind,  # type: ignore[arg-type]
            offset=offset,
            unnamed_feature=unnamed,
            as_written=written if written != name else None,
            span=span,
        )

    @staticmethod
    def _side_suffix(name: str) -> tuple[Offset | None, str]:
        """Rule SIDE_SUFFIX: an offset without distance written after the name.

        "A路以北", "A路北侧", "A河西岸", "A河西岸线", "A路南侧绿化带", "甲公司东边界"
        (the name keeps its feature, the side goes to the offset); a bare trailing direction
        ("A路南", "某厂西") when what precedes it is a complete feature or a site
        (厂, 村, 公司 …).
        """
        gen = _SIDE_GENERIC.search(name)
        if gen is not None and gen.start() >= 2:
            return Offset(direction=lx.SIDE_OF_CHAR[gen.group("d")]), name[: gen.start()]  # type: ignore[arg-type]
        nd = _NODIST.search(name)
        if nd is not None and nd.start() > 0:
            d = nd.group("d1") or nd.group("d2")
            return Offset(direction=lx.SIDE_OF_CHAR[d]), name[: nd.start()]  # type: ignore[arg-type]
        bare = _BARE_DIR.search(name)
        if bare is not None and bare.start() > 0:
            before = name[: bare.start()]
            if lx.ends_like_feature(before) or (len(before) >= 2 and _SITE_END.search(before)):
                return Offset(direction=lx.SIDE_OF_CHAR[bare.group("d")]), before  # type: ignore[arg-type]
        return None, name


def _strip_line_word(name: str) -> str:
    """Rule LINE_WORD: drop the line of a feature after its name ("A路道路中心线", "B河蓝线",
    "C路规划红线", "D铁路防护绿地" → the feature itself)."""
    m = _LINE_WORD.search(name)
    if m is None or m.start() < 2:
        return name
    rest = name[: m.start()]
    return rest if lx.looks_like_feature(rest) and not lx.is_generic_name(rest) else name


def _strip_descriptor(name: str) -> str:
    """Rule DESCRIPTOR: drop a class word before a real name ("城市主干道复兴大道" → "复兴大道")."""
    m = _DESCRIPTOR.match(name)
    if m is None:
        return name
    rest = name[m.end():]
    if len(rest) >= 2 and lx.looks_like_feature(rest) and not lx.is_generic_name(rest):
        return rest
    return name


def parse(text: str) -> Sizhi:
    """Parse a 四至 description.

    Parameters
    ----------
    text
        The description as published, e.g. "东至人民北路,南至文汇路,西至河道一文汇路北80米一
        龙源路,北至广富林路", possibly with a lead-in sentence and several parts.

    Returns
    -------
    Sizhi
        Parts with their segments in the order written; ``.to_dict()`` gives the JSON
        shape of issue 3.

    Raises
    ------
    SizhiParseError
        When the text has no side marker or holds something unreadable; the error
        carries the character span ``(start, end)`` and the offending text.
    """
    if not isinstance(text, str):
        raise SizhiParseError("四至必须是文本 (text must be a string)", start=0, end=0, text="")
    if not text.strip():
        raise SizhiParseError("四至为空 (empty text)", start=0, end=len(text), text=text)
    try:
        return _Reader(text).read()
    except SizhiParseError:
        raise
    except (ValueError, IndexError, KeyError, re.error) as exc:  # a grammar gap must not crash callers
        raise SizhiParseError(f"无法解析 (unreadable text: {exc})", start=0, end=len(text), text=text) from exc
