"""The one target resolution: a stored ``target`` row made a :class:`TargetSpec`.

Every face asks for a target by code (default ``t001_09``: 001 表1 #9, 工业园区单位土地产值
(已供应工业用地) 80 亿元/km² by 2025, 预期性).  The stored row is the target: an admin's
edit shows in the CLI, the API, the maps and the reports alike.  A target that cannot be
compared with a density (no numeric value, no basis, a metric that is not a density of a
known numerator, a money-per-area unit, a finite value > 0) is refused with
:class:`TargetUnusableError` naming it when asked for by code; as the default it is reported
(``TargetSpec.warnings``, ``meta.warnings``, ``qa``) and the published value stands in.
"""

from __future__ import annotations

import dataclasses

import pandas as pd
from sqlalchemy import Engine

from gis_service.errors import NotFoundError
from gis_service.metrics.targets import (
    DEFAULT_TARGET,
    TargetSpec,
    TargetUnusableError,
    density_target,
    target_numerator,
)
from gis_service.store.readers import read_targets

__all__ = ["DEFAULT_TARGET_CODE", "TargetUnusableError", "density_targets", "resolve_target", "target_numerator"]

DEFAULT_TARGET_CODE: str = DEFAULT_TARGET.code or "t001_09"


def resolve_target(engine: Engine, code: str | None = None) -> TargetSpec:
    """The stored target ``code`` (default :data:`DEFAULT_TARGET_CODE`) as a :class:`TargetSpec`.

    A code asked for (the ``target`` parameter) that is not stored raises NotFoundError, one
    that is no density target :class:`TargetUnusableError`; both name the parameter and the
    usable codes.  The default is never refused for what is stored: when its row cannot be
    compared, the published 001 表1 #9 value stands in and the spec's ``warnings`` say why,
    so one bad row cannot take every page down.
    """
    targets = read_targets(engine)
    wanted = code or DEFAULT_TARGET_CODE
    rows = targets[targets["code"] == wanted]
    if rows.empty:
        usable = ", ".join(density_targets(targets)) or "none"
        hint = "" if len(targets) else " (no target is loaded: run `gis-service load-sample` or import targets)"
        raise NotFoundError(f"target: no target with code {wanted!r}; density targets: {usable}{hint}")
    try:
        return density_target(rows.iloc[0].to_dict())
    except TargetUnusableError as exc:
        if code is not None:
            usable = ", ".join(density_targets(targets)) or "none"
            raise TargetUnusableError(f"target: {exc}; density targets: {usable}") from None
        warning = f"stored {exc}; the published value of {DEFAULT_TARGET.source} is used instead"
        return dataclasses.replace(DEFAULT_TARGET, warnings=(warning,))


def density_targets(targets: pd.DataFrame) -> list[str]:
    """Codes of the stored targets that can be compared with a density (``read_targets`` rows)."""
    usable = []
    for row in targets.to_dict("records"):
        try:
            density_target(row)
        except TargetUnusableError:
            continue
        usable.append(str(row["code"]))
    return usable
