"""四至 (four-sided limits) engine: parse, format, verify and build park boundaries.

A 四至 describes an area by what bounds it on each side ("东至人民北路,南至文汇路,
西至河道—文汇路北80米—龙源路,北至广富林路").  This package turns such text into
structure (:func:`parse`), back into canonical text (:func:`format`), checks a drawn
boundary against it over a roads layer (:func:`verify`) and builds a boundary from
it (:func:`build`).  It knows nothing of the web, the CLI or the database.
"""

from __future__ import annotations

from gis_service.sizhi.build import BuildResult, build
from gis_service.sizhi.errors import SizhiBuildError, SizhiParseError, SizhiVerifyError
from gis_service.sizhi.formatter import format_sizhi
from gis_service.sizhi.lexicon import classify
from gis_service.sizhi.matching import match_features, name_keys
from gis_service.sizhi.model import Offset, Part, Segment, Sizhi
from gis_service.sizhi.parser import parse
from gis_service.sizhi.verify import VerifyReport, verify
from gis_service.sizhi.stored import verify_stored_park

format = format_sizhi  # noqa: A001 - the public name the issue asks for

__all__ = [
    "BuildResult",
    "Offset",
    "Part",
    "Segment",
    "Sizhi",
    "SizhiBuildError",
    "SizhiParseError",
    "SizhiVerifyError",
    "VerifyReport",
    "build",
    "classify",
    "format",
    "format_sizhi",
    "match_features",
    "name_keys",
    "parse",
    "verify",
    "verify_stored_park",
]
