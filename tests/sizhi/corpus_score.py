"""Score the 四至 parser on the hand-checked corpus in ``tests/sizhi/corpus/*.yaml``.

A *side* is one of the sides (east … north, and the diagonals) that either the expected
structure or the parse has.  It scores

- ``names`` when the parsed features of that side have exactly the expected names, in order;
- ``full`` when, in addition, every feature has the expected kind and offset
  (direction, metres, approximate).

A text the parser rejects scores zero on each of its expected sides.  Run as a script
(``python -m tests.sizhi.corpus_score``) to print the scores by class and the misses.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gis_service.sizhi import SizhiParseError, parse
from gis_service.sizhi.lexicon import normalise

CORPUS_DIR = Path(__file__).parent / "corpus"
SIDE_KEYS = {"e": "east", "s": "south", "w": "west", "n": "north",
             "ne": "northeast", "se": "southeast", "sw": "southwest", "nw": "northwest"}
KIND_CODES = {"r": "road", "x": "expressway", "w": "river", "rl": "railway", "p": "planned_road",
              "d": "development_boundary", "a": "admin_boundary", "o": "other"}
DIR_CODES = {"E": "east", "S": "south", "W": "west", "N": "north"}
_FEATURE = re.compile(r"^(?P<name>[^|@]+)(?:\|(?P<k1>[a-z]+))?(?:@(?P<dir>[ESWN])(?P<m>\d+(?:\.\d+)?)?(?P<approx>~)?)?(?:\|(?P<k2>[a-z]+))?$")


def default_kind(name: str) -> str:
    """The corpus's own kind rule by suffix (independent of the parser's classifier)."""
    n = normalise(name)
    if "开发边界" in n:
        return "development_boundary"
    if re.search(r"(?:村|镇|区|县|乡|市|省)界$|交界$", n):
        return "admin_boundary"
    if "高速" in n:
        return "expressway"
    if re.search(r"(?:铁路|专用线)$", n):
        return "railway"
    if n.startswith("规划") and n.endswith("路"):
        return "planned_road"
    if re.search(r"(?:路|街|大道|公路|国道|省道|县道)$", n) or re.match(r"(?:国道|省道|县道)[A-Z]?\d", n) or re.fullmatch(r"[GS]\d{3}", n):
        return "road"
    if re.search(r"(?:河|江|港|浜|泾|塘|渠|溪|沟|湖|浦|湾)$", n):
        return "river"
    return "other"


@dataclass(frozen=True)
class Feature:
    name: str
    kind: str
    offset: tuple[str, float | None, bool] | None

    @classmethod
    def parse_spec(cls, spec: str) -> Feature:
        m = _FEATURE.match(spec.strip())
        if m is None:
            raise ValueError(f"bad corpus feature {spec!r}")
        name = m.group("name")
        code = m.group("k1") or m.group("k2")
        kind = KIND_CODES[code] if code else default_kind(name)
        offset = None
        if m.group("dir"):
            offset = (DIR_CODES[m.group("dir")], float(m.group("m")) if m.group("m") else None, bool(m.group("approx")))
        return cls(name, kind, offset)


@dataclass
class Case:
    klass: str
    text: str
    sides: dict[str, list[Feature]]


@dataclass
class Score:
    sides: int = 0
    names: int = 0
    full: int = 0
    texts: int = 0
    texts_all_right: int = 0
    misses: list[str] = field(default_factory=list)

    def pct(self, attr: str) -> float:
        return 100.0 * getattr(self, attr) / self.sides if self.sides else 100.0


def load_corpus(directory: Path = CORPUS_DIR) -> list[Case]:
    cases: list[Case] = []
    for path in sorted(directory.glob("*.yaml")):
        data: dict[str, list[dict[str, Any]]] = yaml.safe_load(path.read_text(encoding="utf-8"))
        for klass, entries in data.items():
            for entry in entries:
                sides = {SIDE_KEYS[k]: [Feature.parse_spec(str(x)) for x in v] for k, v in entry.items() if k in SIDE_KEYS}
                cases.append(Case(klass, entry["t"], sides))
    return cases


def parsed_sides(text: str) -> dict[str, list[Feature]] | None:
    try:
        result = parse(text)
    except SizhiParseError:
        return None
    part = result.parts[0]
    out: dict[str, list[Feature]] = {}
    for side in SIDE_KEYS.values():
        segs = part.side(side)
        if segs:
            out[side] = [
                Feature(s.name, s.kind, None if s.offset is None else (s.offset.direction, s.offset.meters, s.offset.approx))
                for s in segs
            ]
    return out


def _names_equal(a: list[Feature], b: list[Feature]) -> bool:
    return [f.name for f in a] == [f.name for f in b]


def _full_equal(a: list[Feature], b: list[Feature]) -> bool:
    if not _names_equal(a, b):
        return False
    for x, y in zip(a, b):
        if x.kind != y.kind:
            return False
        if (x.offset is None) != (y.offset is None):
            return False
        if x.offset and y.offset:
            if x.offset[0] != y.offset[0] or x.offset[2] != y.offset[2]:
                return False
            if (x.offset[1] is None) != (y.offset[1] is None) or (x.offset[1] is not None and abs(x.offset[1] - y.offset[1]) > 1e-6):  # type: ignore[operator]
                return False
    return True


def _show(feats: list[Feature] | None) -> str:
    if feats is None:
        return "-"
    out = []
    for f in feats:
        t = f"{f.name}|{f.kind}"
        if f.offset:
            t += f"@{f.offset[0]}{'' if f.offset[1] is None else f'{f.offset[1]:g}'}{'~' if f.offset[2] else ''}"
        out.append(t)
    return "[" + ", ".join(out) + "]"


def score(cases: list[Case]) -> dict[str, Score]:
    """Scores by class, plus ``"all"``."""
    by: dict[str, Score] = {"all": Score()}
    for case in cases:
        got = parsed_sides(case.text)
        bucket = by.setdefault(case.klass, Score())
        sides = list(case.sides) if got is None else list(dict.fromkeys([*case.sides, *got]))
        all_right = True
        for side in sides:
            want = case.sides.get(side, [])
            have = None if got is None else got.get(side, [])
            names_ok = have is not None and _names_equal(want, have)
            full_ok = have is not None and _full_equal(want, have)
            for s in (bucket, by["all"]):
                s.sides += 1
                s.names += names_ok
                s.full += full_ok
            if not full_ok:
                all_right = False
                bucket.misses.append(f"{case.text!r} {side}: want {_show(want)} got {'PARSE ERROR' if got is None else _show(have)}")
        for s in (bucket, by["all"]):
            s.texts += 1
            s.texts_all_right += all_right
    return by


def report(by: dict[str, Score]) -> str:
    lines = [f"{'class':<16}{'texts':>6}{'sides':>7}{'names%':>8}{'full%':>8}{'texts ok%':>10}"]
    for klass, s in sorted(by.items(), key=lambda kv: (kv[0] == "all", kv[0])):
        lines.append(f"{klass:<16}{s.texts:>6}{s.sides:>7}{s.pct('names'):>8.1f}{s.pct('full'):>8.1f}"
                     f"{100.0 * s.texts_all_right / max(s.texts, 1):>10.1f}")
    return "\n".join(lines)


if __name__ == "__main__":
    result = score(load_corpus())
    print(report(result))
    if "-v" in sys.argv:
        for klass, s in result.items():
            if klass != "all":
                for miss in s.misses:
                    print(f"[{klass}] {miss}")
