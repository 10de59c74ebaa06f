"""Single edits by hand: one indicator's figure (with optimistic concurrency) and one plan target.

Imports of whole files live in :mod:`gis_service.ingest`; this module is for the one figure a
park manager corrects.  Every edit is one transaction that writes an audit row (who, before,
after) together with the change, so the audit log holds exactly the committed edits.

Optimistic concurrency: an indicator carries ``version`` (incremented by every write).  An
update names the version it was based on; when another edit came first the update is refused
with :class:`VersionConflictError`, which carries the current state, and nothing is written.
The row is locked (``SELECT ... FOR UPDATE``) and the ``UPDATE`` is conditional on the version
as well, so two concurrent edits can never both succeed on the same version.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, text

from gis_service import audit
from gis_service.errors import GisServiceError, InputError, NotFoundError
from gis_service.ingest.catalog import read_metric_catalogue
from gis_service.ingest.errors import NegativeValueError, UnknownReferenceError
# the importers' unit conversion, bounds and density checks: one place for every route
from gis_service.ingest.indicator_values import Figure, check_densities, checked_value, without_original
from gis_service.ingest.target_values import check_target  # the importers' rule for targets

#: Columns of an indicator that say where it belongs (fixed once created).
_SCOPES = ("district", "town", "zone", "park")


@dataclass(frozen=True)
class IndicatorState:
    """One stored figure (``value`` in ``unit``) and its version."""

    id: int
    scope_type: str
    scope_id: int
    year: int
    metric_code: str
    value: float
    unit: str
    is_projection: bool
    note: str | None
    source_document: str | None
    source_section: str | None
    version: int
    updated_at: dt.datetime

    @property
    def park_id(self) -> int | None:
        return self.scope_id if self.scope_type == "park" else None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class IndicatorChange:
    """New content of an indicator; ``None`` fields of a partial change keep their current value.

    ``value`` is in ``unit`` (any unit of the metric's kind: 亿元/万元/元, km²/公顷/亩...); it is
    stored converted to the catalogue unit with the value as given recorded in the note.
    """

    value: float | None = None
    unit: str | None = None
    note: str | None = None
    source_document: str | None = None
    source_section: str | None = None


class VersionConflictError(GisServiceError):
    """The indicator changed since the version the edit was based on (HTTP 412); ``current`` is its state now."""

    def __init__(self, current: IndicatorState, expected: list[int]) -> None:
        self.current, self.expected = current, expected
        named = " or ".join(str(v) for v in expected) or "the one given"
        super().__init__(
            f"indicator {current.id} is at version {current.version}, not {named}: "
            "someone else changed it; reload, check the current value and try again"
        )


_SELECT_INDICATOR = """
    SELECT id, district_id, town_id, zone_id, park_id, year, metric_code, value, unit, is_projection, note,
           source_document, source_section, version, updated_at
    FROM indicator WHERE id = :id
"""


def _state(row: Any) -> IndicatorState:
    scope_type = next(s for s in _SCOPES if getattr(row, f"{s}_id") is not None)
    return IndicatorState(
        id=row.id, scope_type=scope_type, scope_id=getattr(row, f"{scope_type}_id"), year=row.year,
        metric_code=row.metric_code, value=float(row.value), unit=row.unit, is_projection=row.is_projection,
        note=row.note, source_document=row.source_document, source_section=row.source_section,
        version=row.version, updated_at=row.updated_at,
    )


def read_indicator(engine: Engine, indicator_id: int) -> IndicatorState:
    """The indicator ``indicator_id``; raises :class:`NotFoundError`."""
    with engine.connect() as conn:
        row = conn.execute(text(_SELECT_INDICATOR), {"id": indicator_id}).one_or_none()
    if row is None:
        raise NotFoundError(f"no indicator with id {indicator_id}")
    return _state(row)


def _converted(current: IndicatorState, change: IndicatorChange, where: str) -> dict[str, Any]:
    """Value, unit and note to store: converted to the catalogue unit, sign and bounds checked."""
    if change.value is None:
        return {"value": Decimal(str(current.value)), "unit": current.unit,
                "note": (change.note or None) if change.note is not None else current.note}
    if not math.isfinite(change.value):
        raise InputError(f"{where}: value: not a finite number ({change.value})")
    unit = change.unit or current.unit
    note = (change.note or None) if change.note is not None else without_original(current.note)
    metric = read_metric_catalogue().get(current.metric_code)
    if metric is None:  # a metric outside the catalogue: no conversion possible, keep its unit
        if unit != current.unit:
            raise UnknownReferenceError(
                f"{where}: metric {current.metric_code!r} is not in the metric catalogue (metrics.csv); "
                f"its unit stays {current.unit!r}, got {unit!r}"
            )
        if change.value < 0:
            raise NegativeValueError(f"{where}: negative value {change.value} {unit}")
        return {"value": Decimal(f"{change.value:.12g}"), "unit": unit, "note": note}
    as_given = format(Decimal(repr(change.value)).normalize(), "f")  # 1050000, not 1050000.0 or 1.05e+06
    return checked_value(metric, as_given, unit, note, f"{where}: value")  # type: ignore[no-any-return]


def update_indicator(
    engine: Engine,
    indicator_id: int,
    change: IndicatorChange,
    *,
    expected_versions: Collection[int] | None,
    actor: str,
    authorize: Callable[[IndicatorState], None] | None = None,
) -> IndicatorState:
    """Apply ``change`` to an indicator if it is still at an expected version; returns the new state.

    Parameters
    ----------
    change
        New value (in ``change.unit``, default the stored unit) and provenance; ``None`` keeps a field.
    expected_versions
        The version(s) the client's ``If-Match`` names; ``None`` for ``If-Match: *`` (any version).
    actor
        Who edits (the audit log's ``actor``).
    authorize
        Called with the current state, under the row lock, before anything is written; raise to refuse.

    Raises
    ------
    NotFoundError
        No such indicator.
    VersionConflictError
        The indicator is at another version (carries the current state); nothing written.
    InputError
        Non-finite, negative or implausible value (bounds, and density against the stored figures of
        the same scope and year), unit of the wrong kind (the importers' checks); a blank source.
    """
    where = f"indicator {indicator_id}"
    with engine.begin() as conn:
        row = conn.execute(text(_SELECT_INDICATOR + " FOR UPDATE"), {"id": indicator_id}).one_or_none()
        if row is None:
            raise NotFoundError(f"no indicator with id {indicator_id}")
        current = _state(row)
        if authorize is not None:
            authorize(current)
        if expected_versions is not None and current.version not in expected_versions:
            raise VersionConflictError(current, sorted(expected_versions))
        new = _converted(current, change, where)
        if change.value is not None:  # a change of provenance only leaves the figures as they are
            check_densities(conn, [_figure(current, new, where)])
        source_document = _source_document(current, change, where)
        # "" clears an optional field, None keeps it
        source_section = (change.source_section or None) if change.source_section is not None else current.source_section
        updated = conn.execute(
            text(
                "UPDATE indicator SET value = :value, unit = :unit, note = :note, source_document = :doc, "
                "source_section = :sec, version = version + 1, updated_at = now() "
                "WHERE id = :id AND version = :expected RETURNING version"
            ),
            {**new, "doc": source_document, "sec": source_section, "id": indicator_id, "expected": current.version},
        ).one_or_none()
        if updated is None:  # cannot happen under the row lock; kept so a lost update is impossible by construction
            raise VersionConflictError(_state(conn.execute(text(_SELECT_INDICATOR), {"id": indicator_id}).one()),
                                       [current.version])
        after = _state(conn.execute(text(_SELECT_INDICATOR), {"id": indicator_id}).one())
        audit.record(conn, actor=actor, action="update", table_name="indicator", row_id=indicator_id,
                     before=_audited(current), after=_audited(after))
    return after


def _source_document(current: IndicatorState, change: IndicatorChange, where: str) -> str | None:
    """The source to store: the one given, else the stored one; a blank one is refused (every figure has a source)."""
    if change.source_document is None:
        return current.source_document
    if not change.source_document.strip():
        raise InputError(f"{where}: source_document is blank: every figure needs its source (文件名或文号)")
    return change.source_document.strip()


def _figure(current: IndicatorState, new: dict[str, Any], where: str) -> Figure:
    """The edited figure as the importers' density check sees it."""
    return Figure(f"{where}: value", current.scope_type, current.scope_id, f"{current.scope_type} {current.scope_id}",
                  current.year, current.is_projection, current.metric_code, float(new["value"]), new["unit"])


def _audited(state: IndicatorState) -> dict[str, Any]:
    return {k: v for k, v in state.to_dict().items() if k != "updated_at"}


# ----------------------------------------------------------------------------- targets
@dataclass(frozen=True)
class TargetFields:
    """A plan target as an administrator enters it (see :class:`gis_service.db.models.Target`)."""

    scope: str
    name: str
    metric_code: str
    year: int
    unit: str
    source_document: str
    value: float | None = None
    value_text: str | None = None
    category: str | None = None
    basis: str | None = None
    base_year: int | None = None
    base_value: float | None = None
    nature: str | None = None
    source_section: str | None = None
    note: str | None = None


_TARGET_COLUMNS = ("scope", "category", "name", "metric_code", "basis", "base_year", "base_value", "year", "value",
                   "value_text", "unit", "nature", "source_document", "source_section", "note")
# Built once from the constant column list above; values are always bound parameters.
# ON CONFLICT DO NOTHING: a create racing another create of the same code waits for it and
# then finds the row (and replaces it under lock), instead of failing on the unique key.
_INSERT_TARGET = (f"INSERT INTO target (code, {', '.join(_TARGET_COLUMNS)}) "
                  f"VALUES (:code, {', '.join(':' + c for c in _TARGET_COLUMNS)}) "
                  "ON CONFLICT (code) DO NOTHING RETURNING id")
_UPDATE_TARGET = f"UPDATE target SET {', '.join(f'{c} = :{c}' for c in _TARGET_COLUMNS)} WHERE code = :code"
_SELECT_TARGET = f"SELECT id, code, {', '.join(_TARGET_COLUMNS)} FROM target WHERE code = :code"


def _check_target(code: str, fields: TargetFields) -> None:
    check_target(asdict(fields) | {"code": code}, where=f"target {code!r}", catalogue=read_metric_catalogue())


def put_target(engine: Engine, code: str, fields: TargetFields, *, actor: str) -> tuple[dict[str, Any], bool]:
    """Create or replace the target ``code``; returns its stored row and whether it was created.

    Checked by :func:`gis_service.ingest.target_values.check_target` (the imports' rule).  The
    insert is the upsert's first half: when the code exists (or another create of it commits
    first) the row is locked, read for the audit and replaced.
    """
    _check_target(code, fields)
    params = {c: getattr(fields, c) for c in _TARGET_COLUMNS} | {"code": code}
    with engine.begin() as conn:
        created = conn.execute(text(_INSERT_TARGET), params).scalar() is not None
        before = None if created else _target_row(conn, code, lock=True)
        if before is not None:
            conn.execute(text(_UPDATE_TARGET), params)
        after = _target_row(conn, code, lock=False)
        assert after is not None
        audit.record(conn, actor=actor, action="create" if created else "update", table_name="target",
                     row_id=after["id"], before=before, after=after)
    return after, created


def _target_row(conn: Connection, code: str, *, lock: bool) -> dict[str, Any] | None:
    sql = _SELECT_TARGET + " FOR UPDATE" if lock else _SELECT_TARGET
    row = conn.execute(text(sql), {"code": code}).mappings().one_or_none()
    if row is None:
        return None
    return {k: float(v) if isinstance(v, Decimal) else v for k, v in row.items()}
