"""Tokenizer of 四至 texts: clean the text as written into the text the grammar reads.

The grammar (:mod:`gis_service.sizhi.parser`) reads a *cleaned* text.  Cleaning drops
what is not part of the description and keeps a map from every cleaned character back to
the original, so each span the parser reports indexes the text the user gave.  It keeps
two parallel strings of the same length:

``text``
    for matching: full-width forms folded, traditional characters simplified
    (:func:`gis_service.sizhi.lexicon.normalise`);
``raw``
    for names: full-width forms folded only, so "華興路" stays "華興路".

Rules, applied in one left-to-right scan (each is named in the code):

``PINYIN``
    a bracket of lower-case Latin letters right after a Chinese character is injected
    pinyin from copied web text ("區(qū)", "達(dá)") and is dropped.
``SPACE``
    a run of white space (spaces, ideographic spaces, tabs, line breaks) is dropped when it
    falls inside a name or a side marker ("东 至", "甲\\n路", "春 晖 路"); it is kept, as one
    separator, when what follows starts a side ("…甲路 南至乙路") or when it follows a
    complete feature and a new one of two or more characters starts after it.
``SIDE_COMMA``
    an enumeration comma 、 that ends a side and is followed by the next side marker
    ("东至甲路、南至乙河") becomes a clause separator; 、 between bare directions
    ("东、南至甲河") stays, it lists the sides of one marker.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from gis_service.sizhi import lexicon as lx

_SPACE_CHARS = " \t\r\n\u3000\u00a0\u2002\u2003\u2009\u200b\f\v"
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
#: Injected pinyin: lower-case Latin with or without tone marks, in brackets.
_PY = "[a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüêńňǹḿ]{1,7}"
_PINYIN = re.compile(rf"[(（]\s*{_PY}(?:[\s'’-]+{_PY}){{0,3}}\s*[)）]")
_TONED = re.compile(r"[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ]")
#: A list number before a description ("三、", "2、"): its 、 is not between sides.
_LIST_NUMBER = re.compile(r"[(（]?[一二三四五六七八九十\d]{1,3}[)）]?")
#: The start of a side marker, read on the text with spaces removed.
SIDE_START = re.compile(
    r"(?:[东南西北](?:[、和及与]?[东南西北]){0,3})(?:两|三|四)?(?:侧|面|边|部|端|缘|界)?(?:均|都|皆|分别)?"
    r"(?:至|到|临|靠|邻|接|抵|达|止|起|沿|依|通|濒|界|以|为|:|紧邻|毗邻|紧靠|临近|靠近)"
)


@dataclass(frozen=True)
class Cleaned:
    """A cleaned text: ``text`` (for matching), ``raw`` (for names) and the position map."""

    text: str
    raw: str
    pos: tuple[int, ...]  # pos[i]: index in the original of cleaned character i
    original_length: int

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original span of the cleaned span [start, end)."""
        n = len(self.pos)
        if n == 0:
            return 0, 0
        start = max(0, min(start, n))
        end = max(start, min(end, n))
        if start == end:
            at = self.pos[start] if start < n else self.original_length
            return at, at
        return self.pos[start], self.pos[end - 1] + 1


def _fold(ch: str) -> str:
    folded = unicodedata.normalize("NFKC", ch)
    return folded if len(folded) == 1 else ch


def _ends_feature(chars: list[str]) -> bool:
    """True when the cleaned text so far ends with a complete feature."""
    tail = "".join(chars[-12:])
    piece = re.split(r"[,;。:、\s" + re.escape(lx.DASHES) + "]", tail)[-1]
    return bool(piece) and lx.ends_like_feature(piece)


def _next_word(original: str, i: int) -> str:
    """The characters from ``i`` up to the next space or punctuation (normalised)."""
    m = re.match(r"[^\s,;。:、()（），；：" + re.escape(lx.DASHES) + "]*", original[i:])
    return lx.normalise(m.group()) if m else ""


#: Words that only finish a name broken by a space ("滨河 大道"), never start a feature.
_NAME_TAILS = frozenset({"路", "街", "道", "河", "江", "港", "浜", "泾", "桥", "大道", "大街", "公路", "高速", "东路", "西路", "南路", "北路", "中路", "支路", "一路", "二路", "三路"})


def _starts_new_feature(word: str) -> bool:
    return len(word) >= 2 and word not in _NAME_TAILS


def _pinyin_end(original: str, i: int) -> int | None:
    """Rule PINYIN: end of injected pinyin in brackets at ``i`` ("區(qū)"), or None."""
    if i == 0 or not _CJK.match(original[i - 1]):
        return None
    m = _PINYIN.match(original, i)
    return m.end() if m else None


#: Verbs after which a space never separates ("东至 甲路").
_VERB_CHARS = "至临到靠邻接抵达起沿依通濒为是"


def _space_separates(before: list[str], original: str, nxt: str, compact: str, at: int, j: int) -> bool:
    """Rule SPACE: does a run of white space before ``original[j]`` separate clauses?

    Yes when a side starts after it ("…甲路 南至…", but not "东 至": a direction then its
    verb) or when a complete feature ends before it and another feature starts after it
    ("甲路以南 乙路以西"); no inside a name ("甲 路", "滨河 大道") or after a verb.
    """
    if not before:
        return False
    prev = before[-1]
    if prev in lx.CLAUSE_SEPARATORS or prev in "、:" or nxt in lx.CLAUSE_SEPARATORS or nxt in "、:":
        return False
    if SIDE_START.match(compact, at) is not None:
        return not (prev in lx.SIDE_OF_CHAR and nxt in _VERB_CHARS + "界以")
    if prev in _VERB_CHARS:
        return False
    return _ends_feature(before) and _starts_new_feature(_next_word(original, j))


def _comma_separates(before_chars: list[str], compact: str, at: int) -> bool:
    """Rule SIDE_COMMA: does 、 end a side (the next side marker follows it)?"""
    if SIDE_START.match(compact, at) is None:
        return False
    before = re.split(r"[,;。:\s]", "".join(before_chars))[-1]
    if re.fullmatch(r"[东南西北、和及与]*", before):  # "东、南至…": the sides of one marker
        return False
    if re.search(r"[为以][东南西北]$", before):  # "以A为东、南边界"
        return False
    return not _LIST_NUMBER.fullmatch(before)  # "三、东至…"


def clean(original: str) -> Cleaned:
    """Apply the PINYIN, SPACE and SIDE_COMMA rules; see the module docstring."""
    text_chars: list[str] = []
    raw_chars: list[str] = []
    pos: list[int] = []
    simplified = lx.normalise(original)
    compact = re.sub(f"[{_SPACE_CHARS}]", "", simplified)
    # compact_at[i]: index in ``compact`` of the first non-space character at or after i
    compact_at: list[int] = []
    k = 0
    for ch in simplified:
        compact_at.append(k)
        if ch not in _SPACE_CHARS:
            k += 1
    compact_at.append(k)

    def emit(i: int, ch: str | None = None) -> None:
        raw = _fold(original[i]) if ch is None else ch
        text_chars.append(simplified[i] if ch is None else ch)
        raw_chars.append(raw)
        pos.append(i)

    i, n = 0, len(original)
    while i < n:
        ch = simplified[i]
        if ch in "(（":  # rule PINYIN
            end = _pinyin_end(original, i)
            if end is not None:
                i = end
                continue
        if ch in _SPACE_CHARS:  # rule SPACE
            j = i
            while j < n and simplified[j] in _SPACE_CHARS:
                j += 1
            if j < n and _space_separates(text_chars, original, simplified[j], compact, compact_at[j], j):
                emit(i, " ")
            i = j
            continue
        if ch == "、" and text_chars and _comma_separates(text_chars, compact, compact_at[i + 1]):  # rule SIDE_COMMA
            emit(i, ",")
            i += 1
            continue
        emit(i)
        i += 1
    return Cleaned("".join(text_chars), "".join(raw_chars), tuple(pos), n)
