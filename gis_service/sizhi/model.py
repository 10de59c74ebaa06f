"""The parsed structure of a 四至 (four-sided limits) description.

A 四至 describes an area by what bounds it on each side: "东至人民北路,南至文汇路,
西至河道—文汇路北80米—龙源路,北至广富林路".  The structure here is what
:func:`gis_service.sizhi.parse` returns; ``to_dict()`` gives the JSON shape of issue 3::

    {"parts": [{"label": null | "洞泾部分",
                "east": [SEG, ...], "south": [...], "west": [...], "north": [...]}]}
    SEG = {"name": "文汇路", "kind": "road", "offset": null | {"direction": "north",
           "meters": 80 | null, "approx": false}}

Extra keys (allowed by the issue) are only written when they carry information:
``aliases``, ``unnamed``, ``along``, ``unnamed_feature``, ``as_written`` and ``span``
on a segment; ``notes`` and the diagonal sides (``northeast`` …) on a part;
``preamble`` at the top.

Equality ignores where a segment was written (``span``) and its raw spelling
(``as_written``), so ``parse(format(x)) == x`` compares meaning, not layout.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from gis_service.errors import InputError

Direction = Literal["east", "south", "west", "north"]
FeatureKind = Literal[
    "road",
    "expressway",
    "river",
    "railway",
    "planned_road",
    "development_boundary",
    "admin_boundary",
    "other",
]

#: The four sides in the order a 四至 is conventionally written and formatted.
SIDES: tuple[Direction, ...] = get_args(Direction)
#: Diagonal sides ("东北至…"), kept as extra keys of a part; build/verify ignore them.
DIAGONAL_SIDES: tuple[str, ...] = ("northeast", "southeast", "southwest", "northwest")
FEATURE_KINDS: tuple[str, ...] = get_args(FeatureKind)


def _number_out(value: float) -> int | float:
    """Whole metres as int (80, not 80.0) so the JSON reads as written."""
    return int(value) if float(value).is_integer() else float(value)


@dataclass(frozen=True)
class Offset:
    """Where the bounding line lies relative to the named feature.

    Parameters
    ----------
    direction
        Compass side of the feature on which the line lies ("文汇路北80米" → ``north``).
    meters
        Distance in metres from the feature, ``None`` when the text gives none
        ("以北", "南侧", "西岸": the feature itself bounds the area on that side).
    approx
        True when the distance is marked approximate (约, 左右, 余, 多).
    """

    direction: Direction
    meters: float | None = None
    approx: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "direction": self.direction,
            "meters": None if self.meters is None else _number_out(self.meters),
            "approx": self.approx,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Offset:
        direction = data.get("direction")
        if direction not in SIDES:
            raise InputError(f"offset direction must be one of {SIDES}, got {direction!r}")
        meters = data.get("meters")
        if meters is not None and (not isinstance(meters, (int, float)) or meters < 0):
            raise InputError(f"offset meters must be a non-negative number or null, got {meters!r}")
        return cls(direction=direction, meters=None if meters is None else float(meters), approx=bool(data.get("approx", False)))


@dataclass(frozen=True)
class Segment:
    """One bounding feature of a side, as written ("鼎兴路东约200米").

    ``name`` is the feature without its offset words; ``kind`` classifies it
    (see :func:`gis_service.sizhi.lexicon.classify`).  ``aliases`` are names given in
    parentheses ("沈海(G15)高速公路" → aliases ``("G15",)``).  ``unnamed_feature`` is an
    unnamed feature placed by the offset ("鼎兴路东约200米道路" → ``"道路"``).
    """

    name: str
    kind: FeatureKind
    offset: Offset | None = None
    aliases: tuple[str, ...] = ()
    unnamed_feature: str | None = None
    as_written: str | None = field(default=None, compare=False)
    span: tuple[int, int] | None = field(default=None, compare=False)

    @property
    def unnamed(self) -> bool:
        """True for a generic feature a roads layer cannot name (河道, 开发边界, 道路)."""
        from gis_service.sizhi.lexicon import is_generic_name

        return is_generic_name(self.name)

    @property
    def along(self) -> str | None:
        """The feature a named boundary follows ("G60高速开发边界" → "G60高速"), if any."""
        from gis_service.sizhi.lexicon import boundary_along

        return boundary_along(self.name, self.kind)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "offset": None if self.offset is None else self.offset.to_dict(),
        }
        if self.aliases:
            out["aliases"] = list(self.aliases)
        if self.unnamed:
            out["unnamed"] = True
        if self.along:
            out["along"] = self.along
        if self.unnamed_feature:
            out["unnamed_feature"] = self.unnamed_feature
        if self.as_written and self.as_written != self.name:
            out["as_written"] = self.as_written
        if self.span is not None:
            out["span"] = list(self.span)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Segment:
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            raise InputError(f"segment name must be a non-empty string, got {name!r}")
        kind = data.get("kind")
        if kind not in FEATURE_KINDS:
            raise InputError(f"segment {name!r}: kind must be one of {FEATURE_KINDS}, got {kind!r}")
        offset = data.get("offset")
        span = data.get("span")
        return cls(
            name=name,
            kind=kind,
            offset=None if offset is None else Offset.from_dict(offset),
            aliases=tuple(data.get("aliases") or ()),
            unnamed_feature=data.get("unnamed_feature"),
            as_written=data.get("as_written"),
            span=None if span is None else (int(span[0]), int(span[1])),
        )


@dataclass(frozen=True)
class Part:
    """One closed area of a 四至; most descriptions have one, 洞泾's has two."""

    label: str | None = None
    east: tuple[Segment, ...] = ()
    south: tuple[Segment, ...] = ()
    west: tuple[Segment, ...] = ()
    north: tuple[Segment, ...] = ()
    diagonals: tuple[tuple[str, tuple[Segment, ...]], ...] = ()
    notes: tuple[str, ...] = ()

    def side(self, direction: str) -> tuple[Segment, ...]:
        """Segments of a side (``east`` … or a diagonal such as ``northeast``)."""
        if direction in SIDES:
            return tuple(getattr(self, direction))
        return dict(self.diagonals).get(direction, ())

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"label": self.label}
        for side in SIDES:
            out[side] = [seg.to_dict() for seg in getattr(self, side)]
        for side, segs in self.diagonals:
            out[side] = [seg.to_dict() for seg in segs]
        if self.notes:
            out["notes"] = list(self.notes)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Part:
        if not isinstance(data, dict):
            raise InputError(f"a part must be an object, got {type(data).__name__}")

        def segs(key: str) -> tuple[Segment, ...]:
            value = data.get(key) or []
            if not isinstance(value, list):
                raise InputError(f"side {key!r} must be a list of segments")
            return tuple(Segment.from_dict(item) for item in value)

        diagonals = tuple((key, segs(key)) for key in DIAGONAL_SIDES if data.get(key))
        return cls(
            label=data.get("label"),
            east=segs("east"),
            south=segs("south"),
            west=segs("west"),
            north=segs("north"),
            diagonals=diagonals,
            notes=tuple(data.get("notes") or ()),
        )


@dataclass(frozen=True)
class Sizhi:
    """A parsed 四至: one or more parts, plus the lead-in sentence if any."""

    parts: tuple[Part, ...]
    preamble: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"parts": [part.to_dict() for part in self.parts]}
        if self.preamble:
            out["preamble"] = self.preamble
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Sizhi:
        if not isinstance(data, dict) or not isinstance(data.get("parts"), list):
            raise InputError("a 四至 must be an object with a 'parts' list")
        return cls(parts=tuple(Part.from_dict(p) for p in data["parts"]), preamble=data.get("preamble"))
