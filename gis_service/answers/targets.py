"""The one target resolution: a stored ``target`` row made a :class:`TargetSpec`.

Every face asks for a target by code (default ``t001_09``: 001 表1 #9, 工业园区单位土地产值
(已供应工业用地) 80 亿元/km² by 2025, 预期性).  The stored row is the target: an admin's
edit shows in the CLI, the API, the maps and the reports alike.  A target that cannot be
compared with a density (no numeric value, no basis, a metric that is not a density of a
known numerator) is refused with :class:`TargetUnusableError` naming it.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine

from gis_service.errors import InputError, NotFoundError
from gis_service.metrics.density import NUMERATORS
from gis_service.metrics.targets import DEFAULT_TARGET, TargetSpec
from gis_service.store.readers import read_targets

DEFAULT_TARGET_CODE: str = DEFAULT_TARGET.code or "t001_09"


class TargetUnusableError(InputError):
    """A stored target that cannot be compared with a density; the message names it."""


def target_numerator(metric_code: str, code: str) -> str:
    """The numerator a target's metric is about: ``output_density_supplied_industrial`` → ``output``."""
    if metric_code in NUMERATORS:
        return metric_code
    for candidate in sorted(NUMERATORS, key=len, reverse=True):
        if metric_code.startswith(candidate + "_"):
            return candidate
    raise TargetUnusableError(
        f"target {code!r}: its metric {metric_code!r} is not a density of {', '.join(NUMERATORS)}"
    )


def resolve_target(engine: Engine, code: str | None = None) -> TargetSpec:
    """The stored target ``code`` (default :data:`DEFAULT_TARGET_CODE`) as a :class:`TargetSpec`.

    Raises NotFoundError for a code that is not stored (listing the density targets that
    are) and :class:`TargetUnusableError` for a stored target that cannot be compared.
    """
    wanted = code or DEFAULT_TARGET_CODE
    targets = read_targets(engine)
    rows = targets[targets["code"] == wanted]
    if rows.empty:
        usable = targets.loc[targets["basis"].notna(), "code"].astype(str).tolist()
        hint = "" if usable else " (no target is loaded: run `gis-service load-sample` or import targets)"
        raise NotFoundError(f"target: no target with code {wanted!r}; density targets: {', '.join(usable) or 'none'}{hint}")
    row = {k: (None if pd.isna(v) else v) for k, v in rows.iloc[0].to_dict().items()}  # NaN -> None
    try:
        return TargetSpec.from_row(row, metric=target_numerator(str(row["metric_code"]), wanted))
    except TargetUnusableError:
        raise
    except InputError as exc:
        raise TargetUnusableError(f"target {wanted!r} cannot be compared with a density: {exc}") from None
