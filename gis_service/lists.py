"""The one parser of list parameters: comma-separated text or repeated values, deduplicated, bounded.

Every list a user types (``layers=towns,parks``, ``indicator=…&indicator=…``, ``field=…``,
``bands=A:0.2,…``; the same options of the CLI) goes through :func:`parse_list`, so that a
value repeated a thousand times costs one item, and a list never has more items than its
vocabulary or its bound.  Errors name the parameter, e.g. ``layers: at most 6 values, got 9``.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from gis_service.errors import InputError

#: unknown values quoted in an error, at most
_SHOWN = 5


def parse_list(
    name: str, raw: str | Sequence[str] | None, *, max_items: int, allowed: Collection[str] | None = None,
    min_items: int = 0,
) -> list[str]:
    """The distinct items of parameter ``name``, in their first order.

    ``raw`` is one text or several (a repeated parameter); each is split on commas and its items
    stripped; empty items are dropped.

    Raises
    ------
    InputError
        Naming ``name``: fewer than ``min_items`` or more than ``max_items`` distinct items, or an
        item outside ``allowed`` (when given; the message lists the allowed values).
    """
    texts = [raw] if isinstance(raw, str) else list(raw or ())
    items = list(dict.fromkeys(part.strip() for text in texts for part in text.split(",") if part.strip()))
    vocabulary = f"; allowed: {', '.join(allowed)}" if allowed is not None else ""
    if len(items) > max_items:
        raise InputError(f"{name}: at most {max_items} distinct values, got {len(items)}{vocabulary}")
    if len(items) < min_items:
        raise InputError(f"{name}: at least {min_items} value(s) needed, got {len(items)}{vocabulary}")
    unknown = [item for item in items if allowed is not None and item not in allowed]
    if unknown:
        shown = ", ".join(repr(u[:40]) for u in unknown[:_SHOWN]) + (" …" if len(unknown) > _SHOWN else "")
        raise InputError(f"{name}: unknown value(s) {shown}{vocabulary}")
    return items
