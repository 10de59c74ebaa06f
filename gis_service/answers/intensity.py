"""The land-intensity answer (开发区土地集约利用评价): every park or zone, every indicator, scored.

The one place the question is answered: ``gis-service intensity``, ``GET /metrics/intensity``,
the map view ``/maps/intensity`` and the Python API (``gs.intensity``) call
:func:`answer_intensity` and only render its :class:`IntensityAnswer`.

1. the indicators are measured, both levels in one pass, by
   :func:`gis_service.metrics.intensity.measure_intensity_levels` (land in force for the
   year, buildings of the latest import at or before it, the year's figures, refused when
   a park has two of one metric in a year and apportioned to zones as the density answer
   apportions them; every value with its numerator, denominator, units and sources);
2. the zone type (工业主导型/产城融合型), sub-scores, the 集约度 score and the rank come from a
   scoring configuration held as data (:func:`~gis_service.metrics.intensity.load_score_config`):
   the shipped one is an EXAMPLE (示例, 非官方), and the meta says so.

Answers are kept until the stored data changes (:class:`~gis_service.store.versions.DataMemo`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from gis_service.answers.records import plain, records
from gis_service.errors import InputError
from gis_service.metrics.intensity import (
    INDICATORS,
    LEVEL_LABELS_ZH,
    PARK_LEVEL,
    PROCEDURE,
    QUANTITIES,
    IntensityResult,
    ScoreConfig,
    check_level,
    load_score_config,
    measure_intensity_levels,
    score_rows,
)
from gis_service.store.versions import DataMemo

_MEMO = DataMemo(max_entries=16)

#: the keys of an intensity row, in order (CLI JSON, API JSON, CSV/XLSX)
INTENSITY_ROW_COLUMNS: list[str] = [
    "unit_id", "unit_code", "unit_name", "unit_kind", "level", "year", "boundary_id",
    *[i.key for i in INDICATORS], "residential_land_share_pct",
    "zone_type", "zone_type_reason", "intensity_score", "rank", "sub_scores", "score_missing",
    "partial_score", "weight_covered_pct", "uses_synthetic_data",
    "n_buildings", "n_estimated", "n_split",
]


@dataclass(frozen=True)
class IntensityQuestion:
    """Every unit of ``level`` (``park``: parks and blocks; ``zone``: every zone of table ``zone``
    ∩ the parks, figures apportioned from the parks) in ``year``,
    scored with the configuration at ``scores`` (default: the shipped EXAMPLE)."""

    year: int
    level: str = PARK_LEVEL
    scores: str | None = None


@dataclass(frozen=True)
class IntensityAnswer:
    """The rows (one per unit, :data:`INTENSITY_ROW_COLUMNS`), the details (one per unit and
    indicator: value, numerator, denominator, units, sources, missing reason) and the meta."""

    question: IntensityQuestion
    rows: pd.DataFrame
    details: pd.DataFrame
    meta: dict[str, Any]

    def records(self) -> list[dict[str, Any]]:
        """The rows as JSON-ready dicts (missing is ``None``)."""
        return records(self.rows)

    def to_dict(self) -> dict[str, Any]:
        """``{"meta", "rows", "details"}``: what ``--json`` prints and the API returns."""
        return {"meta": self.meta, "rows": self.records(), "details": records(self.details)}


def answer_intensity(engine: Engine, question: IntensityQuestion) -> IntensityAnswer:
    """The land-intensity answer (see the module docstring).  Both levels are measured in one
    pass and kept together: asking for one level after the other measures once."""
    check_level(question.level)
    if not 1949 <= int(question.year) <= 2100:
        raise InputError(f"year: {question.year} is not a data year")
    config = load_score_config(Path(question.scores) if question.scores else None)

    def scored() -> IntensityAnswer:
        measured = _MEMO.get_or_compute(engine, ("intensity-measured", question.year),
                                        lambda: measure_intensity_levels(engine, year=question.year))
        return _answer(question, config, measured[question.level])

    return _MEMO.get_or_compute(engine, ("intensity", question), scored)


def compute_intensity(engine: Engine, question: IntensityQuestion) -> IntensityAnswer:
    """:func:`answer_intensity` without the cache: always asks the database."""
    return compute_intensity_levels(engine, year=question.year, scores=question.scores)[check_level(question.level)]


def compute_intensity_levels(engine: Engine, *, year: int, scores: str | None = None) -> dict[str, IntensityAnswer]:
    """Both levels' answers, without the cache, from one measuring pass (benchmarks time this)."""
    config = load_score_config(Path(scores) if scores else None)
    measured = measure_intensity_levels(engine, year=year)
    return {level: _answer(IntensityQuestion(year=year, level=level, scores=scores), config, result)
            for level, result in measured.items()}


def _answer(question: IntensityQuestion, config: ScoreConfig, measured: IntensityResult) -> IntensityAnswer:
    rows = score_rows(measured.rows, config) if not measured.rows.empty else measured.rows
    rows = rows.reindex(columns=INTENSITY_ROW_COLUMNS)
    rows = rows.astype(object).where(rows.notna(), None)
    synthetic = bool(rows["uses_synthetic_data"].fillna(False).astype(bool).any()) if not rows.empty else False
    return IntensityAnswer(question, rows, measured.details, _meta(question, config, measured.vintage, synthetic))


def _meta(question: IntensityQuestion, config: ScoreConfig, vintage: dict[str, Any], synthetic: bool) -> dict[str, Any]:
    return plain({
        "question": {"year": question.year, "level": question.level, "level_label": LEVEL_LABELS_ZH[question.level]},
        "uses_synthetic_data": synthetic,
        "procedure": PROCEDURE,
        "indicators": [
            {"key": i.key, "label_zh": i.label_zh, "family_zh": i.family_zh, "unit": i.unit,
             "numerator": {"key": i.numerator, "label_zh": QUANTITIES[i.numerator][0], "unit": QUANTITIES[i.numerator][1]},
             "denominator": {"key": i.denominator, "label_zh": QUANTITIES[i.denominator][0], "unit": QUANTITIES[i.denominator][1]},
             "definition_zh": i.definition_zh, "note_zh": i.note_zh, "confirmed": i.confirmed,
             "confirmed_by": i.confirmed_by or None, "differs_zh": i.differs_zh or None}
            for i in INDICATORS
        ],
        "unconfirmed_definitions": [i.key for i in INDICATORS if not i.confirmed] + ["zone_type_rule"],
        "unconfirmed_note": ("the procedure's own text could not be retrieved: no definition is confirmed against it; "
                             "confirmed_by names the document quoting the procedure where a definition was read, "
                             "differs_zh how the platform departs from it (then it stays unconfirmed); the others follow "
                             "common practice (see gis_service.metrics.intensity)"),
        "scores": {"config": config.source, "label": config.label, "is_example": config.is_example,
                   "type_rule": config.type_rule, "weights": config.weights,
                   "method": "sub-score = min(value / ideal, 1) × 100 (ideal / value when lower is better); "
                             "集约度 = weighted mean of the sub-scores, only when every weighted indicator is present "
                             "(score_missing lists the missing ones; then intensity_score and rank are null and "
                             "partial_score is the mean over the present ones, covering weight_covered_pct of the weight, "
                             "never ranked)"},
        "vintage": vintage,
        "building_rule": "a building across a unit's boundary counts by the share of its footprint inside (EPSG:4549)",
        "missing_rule": "a missing input gives a missing indicator with missing_reason in details, never 0",
    })
