"""Canonical text of a parsed 四至: ``parse(format_sizhi(x)) == x``.

The canonical form is the plainest one the parser reads: the lead-in, then each
part as "[label]东至A—B,南至C,西至D,北至E" with sides in the order 东南西北 (then the
diagonals), features joined by "—", offsets written "A路东约200米" / "A路以北",
aliases in brackets after the name, part notes as a trailing bracket, parts joined
by ";".  Inverse phrasing ("A路以南") is written forward ("北至A路").
"""

from __future__ import annotations

from gis_service.sizhi import lexicon as lx
from gis_service.sizhi.model import DIAGONAL_SIDES, SIDES, Offset, Part, Segment, Sizhi


def format_offset(offset: Offset) -> str:
    """Offset words: "北80米", "东约200米", "以北" (no distance)."""
    char = lx.CHAR_OF_SIDE[offset.direction]
    if offset.meters is None:
        return f"以{char}"
    approx = "约" if offset.approx else ""
    return f"{char}{approx}{lx.format_number(offset.meters)}米"


def format_segment(seg: Segment) -> str:
    """One feature as written canonically ("沈海高速公路(G15)", "鼎兴路东约200米道路")."""
    text = seg.name + "".join(f"({alias})" for alias in seg.aliases)
    if seg.offset is not None:
        text += format_offset(seg.offset)
        if seg.unnamed_feature:
            text += seg.unnamed_feature
    return text


def _side_order(part: Part, previous: Part | None) -> list[str]:
    order = [side for side in (*SIDES, *DIAGONAL_SIDES) if part.side(side)]
    if previous is not None and part.label is None:
        # An unlabelled part is recognised by a side that repeats the previous part's:
        # write such a side first so the parser starts the new part there.
        shared = [side for side in order if previous.side(side)]
        if shared:
            order.remove(shared[0])
            order.insert(0, shared[0])
    return order


def format_part(part: Part, previous: Part | None = None) -> str:
    """A part as "[label]东至…,南至…,西至…,北至…" with its notes in a trailing bracket."""
    clauses = []
    for side in _side_order(part, previous):
        char = lx.CHAR_OF_SIDE.get(side) or lx.CHARS_OF_DIAGONAL[side]
        chain = "—".join(format_segment(seg) for seg in part.side(side))
        clauses.append(f"{char}至{chain}")
    text = (part.label or "") + ",".join(clauses)
    for note in part.notes:
        text += f"({note})"
    return text


def format_sizhi(sizhi: Sizhi) -> str:
    """Canonical text of ``sizhi``; parsing it gives back an equal structure."""
    parts = []
    previous: Part | None = None
    for part in sizhi.parts:
        parts.append(format_part(part, previous))
        previous = part
    body = ";".join(parts)
    return f"{sizhi.preamble},{body}" if sizhi.preamble else body
