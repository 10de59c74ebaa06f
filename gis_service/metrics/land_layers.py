"""Which kind of land record makes each parcel basis: the one rule, for every path.

Land comes in three layers (``land_parcel.layer``):

``survey``
    patches (图斑) of a land-use survey snapshot (三调 / 年度国土变更调查): what the land *is*;
``supply``
    parcels of land supply records (供地结果公告): what was *supplied* for which use, when;
``register``
    a parcel register an office keeps itself (a land-use code and a supply flag).

The rule
    - 工业用地 (``industrial_land``) and 建设用地/建成土地 (``built_up_land``) of year *Y* come
      from the survey snapshot in force in *Y* — the latest snapshot of a year at or before
      *Y* (:mod:`gis_service.store.land`) — and from the register when there is no such
      snapshot;
    - 已供应工业用地 (``supplied_industrial_land``) of year *Y* comes from the supply records
      when any are loaded — parcels supplied for industrial use with a contract signed by
      31 December *Y* and not recovered (收回) by then — and from the register otherwise;
    - with neither, the basis is missing (never 0).

The layers are never added together: a survey patch and a supplied parcel cover the same
ground, and counting both would double the land.
"""

from __future__ import annotations

from collections.abc import Collection

from gis_service.metrics.bases import (
    BUILT_UP_LAND,
    INDUSTRIAL_LAND,
    SUPPLIED_INDUSTRIAL_LAND,
    check_basis,
)
from gis_service.metrics.errors import UnknownBasisError

SURVEY = "survey"
SUPPLY = "supply"
REGISTER = "register"
LAYERS: tuple[str, ...] = (SURVEY, SUPPLY, REGISTER)

#: Chinese names of the layers, for answers and pages
LAYER_LABELS_ZH: dict[str, str] = {SURVEY: "土地利用现状调查", SUPPLY: "供地记录", REGISTER: "地块登记"}

#: the layers that may make each parcel basis, most authoritative first
_PREFERENCE: dict[str, tuple[str, ...]] = {
    INDUSTRIAL_LAND: (SURVEY, REGISTER),
    BUILT_UP_LAND: (SURVEY, REGISTER),
    SUPPLIED_INDUSTRIAL_LAND: (SUPPLY, REGISTER),
}


def serving_layer(basis: str, present: Collection[str]) -> str | None:
    """The layer that makes ``basis``, given the layers ``present`` for the year; ``None``: none.

    ``present`` holds ``survey`` only when a snapshot is in force for the year.
    """
    check_basis(basis)
    if basis not in _PREFERENCE:
        raise UnknownBasisError(f"{basis!r} is not made of land parcels")
    return next((layer for layer in _PREFERENCE[basis] if layer in present), None)
