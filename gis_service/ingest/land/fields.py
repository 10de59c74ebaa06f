"""Finding the fields an office's file names in its own way (DLBM, 地类编码, 电子监管号…).

Each logical field has the names real files use for it, matched case-insensitively and
ignoring full-width brackets and spaces; an option names any other field.  A field named
by an option that the file lacks is an error naming the fields the file has.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from gis_service.ingest.errors import UnknownReferenceError

_FOLD = str.maketrans({"（": "(", "）": ")", " ": "", "\u3000": "", "_": ""})


def _folded(name: str) -> str:
    return name.translate(_FOLD).lower()


def find_field(fields: Sequence[str], candidates: Sequence[str]) -> str | None:
    """The first of ``candidates`` the file has (its own spelling), or ``None``."""
    by_fold = {_folded(f): f for f in fields}
    return next((by_fold[_folded(c)] for c in candidates if _folded(c) in by_fold), None)


def resolve_fields(
    fields: Sequence[str],
    known: Mapping[str, Sequence[str]],
    given: Mapping[str, str],
    *,
    required: Sequence[str],
    label: str,
) -> dict[str, str | None]:
    """Map each logical field to the file's field: ``given`` (options) first, then ``known`` names.

    Raises :class:`UnknownReferenceError` for an option naming a field the file lacks, an
    option for an unknown logical field, or a required field that was not found.
    """
    for key, name in given.items():
        if key not in known:
            raise UnknownReferenceError(f"{label}: unknown field option {key!r}; options: {', '.join(known)}")
        if find_field(fields, [name]) is None:
            raise UnknownReferenceError(f"{label}: no field {name!r} (for {key}); fields are {', '.join(fields)}")
    out: dict[str, str | None] = {
        key: find_field(fields, [given[key]]) if key in given else find_field(fields, names) for key, names in known.items()
    }
    missing = [k for k in required if out[k] is None]
    if missing:
        expected = "; ".join(f"{k}: {' / '.join(known[k])}" for k in missing)
        raise UnknownReferenceError(
            f"{label}: fields not found ({expected}); the file has {', '.join(fields)}; "
            "name them with --field KEY=FIELD"
        )
    return out


_OPTION = re.compile(r"^\s*([a-z_]+)\s*=\s*(.+?)\s*$")


def parse_field_options(options: Sequence[str]) -> dict[str, str]:
    """``["code=YDDM", "name=YDMC"]`` → ``{"code": "YDDM", "name": "YDMC"}``."""
    out: dict[str, str] = {}
    for option in options:
        match = _OPTION.match(option)
        if not match:
            raise UnknownReferenceError(f"--field {option!r}: expected KEY=FIELD, e.g. code=DLBM")
        out[match.group(1)] = match.group(2)
    return out
