"""亩均论英雄-style classes: units scored on 亩均 figures and sorted into A–D by percentile.

The scheme is data (:class:`ClassScheme`): which numerators are scored over which basis,
their weights, their benchmarks (a fixed value in 万元/亩, or the mean of the scored units
times ``benchmark_factor``), the percentile bands and what to do with a missing figure.
The default (:data:`DEFAULT_SCHEME`) is the one the briefing reports use::

    亩均产值 (output) weight 0.6, 亩均税收 (tax) weight 0.4, over 管辖面积 (published area);
    benchmarks = the mean of the scored park blocks in the year (a score of 1 is an average block);
    A = top 20 %, B = 20–60 %, C = 60–95 %, D = bottom 5 %; a block missing a figure is not scored.

For example, with output 0.6 and tax 0.4, a block at 1.5× the mean 亩均产值 and 0.5× the mean
亩均税收 scores 0.6 × 1.5 + 0.4 × 0.5 = 1.1.  The 亩均 figures come from
:func:`~gis_service.answers.density.answer_density`, one question per scored numerator.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from gis_service.answers.density import DensityQuestion, answer_density
from gis_service.answers.records import records
from gis_service.answers.vocabulary import PARK, check_numerator
from gis_service.errors import InputError
from gis_service.lists import parse_list
from gis_service.metrics.bases import BASIS_LABELS_ZH, PUBLISHED_AREA, check_basis
from gis_service.metrics.classify import DEFAULT_BANDS, ClassBand, ScoreIndicator, mu_jun_classes
from gis_service.metrics.density import NUMERATORS
from gis_service.store.readers import read_parks

#: at most this many scored indicators in one scheme (a bound on request size)
MAX_INDICATORS = 10
#: at most this many classes (bands) in one scheme
MAX_BANDS = 10


@dataclass(frozen=True)
class SchemeIndicator:
    """A scored numerator: its 亩均 figure (万元/亩) over the scheme's basis, weighted.

    ``benchmark`` in 万元/亩; ``None`` = the mean of the scored units × the scheme's factor.
    """

    numerator: str
    weight: float
    benchmark: float | None = None

    @property
    def column(self) -> str:
        return f"mu_jun_{self.numerator}_wan_per_mu"

    @property
    def label_zh(self) -> str:
        return "亩均" + NUMERATORS[self.numerator].label_zh.split("(")[0]


@dataclass(frozen=True)
class ClassScheme:
    """Weights, benchmarks and bands of a classification (see the module docstring)."""

    indicators: tuple[SchemeIndicator, ...] = (SchemeIndicator("output", 0.6), SchemeIndicator("tax", 0.4))
    basis: str = PUBLISHED_AREA
    bands: tuple[ClassBand, ...] = DEFAULT_BANDS
    benchmark_factor: float = 1.0
    missing: str = "no_score"

    def __post_init__(self) -> None:
        if not self.indicators:
            raise InputError("scheme: no indicator to score")
        if len(self.indicators) > MAX_INDICATORS:
            raise InputError(f"scheme: at most {MAX_INDICATORS} indicators, got {len(self.indicators)}")
        numerators = [i.numerator for i in self.indicators]
        if len(set(numerators)) != len(numerators):
            raise InputError(f"scheme: an indicator is given twice: {', '.join(numerators)}")
        for ind in self.indicators:
            check_numerator(ind.numerator)
            if NUMERATORS[ind.numerator].kind != "money":
                raise InputError(f"scheme: {ind.numerator!r} is a count; 亩均 figures are money per 亩")
            ScoreIndicator(ind.column, ind.weight, ind.benchmark or 1.0)  # validates weight and benchmark
        check_basis(self.basis)
        if not self.benchmark_factor > 0:
            raise InputError(f"scheme: benchmark_factor must be > 0, got {self.benchmark_factor}")
        if self.missing not in ("no_score", "reweight"):
            raise InputError(f"scheme: missing must be 'no_score' or 'reweight', got {self.missing!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "indicators": [
                {"numerator": i.numerator, "label_zh": i.label_zh, "weight": i.weight,
                 "benchmark_wan_per_mu": i.benchmark, "column": i.column}
                for i in self.indicators
            ],
            "basis": self.basis,
            "basis_label": BASIS_LABELS_ZH[self.basis],
            "bands": [{"class": b.label, "upper_share": b.upper_share} for b in self.bands],
            "benchmark_rule": (
                f"a benchmark left empty is {self.benchmark_factor:g} × the mean of the scored units' 亩均 figure"
            ),
            "benchmark_factor": self.benchmark_factor,
            "missing": self.missing,
            "score": "Σ weight × (亩均 figure / benchmark), weights normalised to sum to 1",
        }


DEFAULT_SCHEME = ClassScheme()


def parse_indicator(spec: str) -> SchemeIndicator:
    """``output:0.6`` or ``tax:0.4:12.5`` (numerator:weight[:benchmark 万元/亩]) as an indicator."""
    parts = spec.split(":")
    if len(parts) not in (2, 3):
        raise InputError(f"indicator {spec!r}: expected numerator:weight[:benchmark], e.g. output:0.6")
    try:
        weight = float(parts[1])
        benchmark = float(parts[2]) if len(parts) == 3 and parts[2] else None
    except ValueError:
        raise InputError(f"indicator {spec!r}: weight and benchmark must be numbers") from None
    return SchemeIndicator(check_numerator(parts[0].strip()), weight, benchmark)


def parse_bands(spec: str) -> tuple[ClassBand, ...]:
    """``A:0.2,B:0.6,C:0.95,D:1`` (class:upper share counted from the top) as bands."""
    bands = []
    for item in parse_list("bands", spec, max_items=MAX_BANDS):
        label, _, share = item.partition(":")
        try:
            bands.append(ClassBand(label.strip(), float(share)))
        except ValueError:
            raise InputError(f"bands: {item!r} is not class:share, e.g. A:0.2") from None
    return tuple(bands)


def scheme_from(
    indicators: Sequence[str] = (), *, basis: str | None = None, bands: str | None = None,
    benchmark_factor: float | None = None, missing: str | None = None,
) -> ClassScheme:
    """A scheme from the texts a user types (CLI options, query parameters); defaults otherwise."""
    return ClassScheme(
        indicators=tuple(parse_indicator(s) for s in indicators) or DEFAULT_SCHEME.indicators,
        basis=basis or DEFAULT_SCHEME.basis,
        bands=parse_bands(bands) if bands else DEFAULT_SCHEME.bands,
        benchmark_factor=benchmark_factor if benchmark_factor is not None else DEFAULT_SCHEME.benchmark_factor,
        missing=missing or DEFAULT_SCHEME.missing,
    )


@dataclass(frozen=True)
class ClassesAnswer:
    """One row per scored unit (figures, ratios, score, rank, class) and the scheme used."""

    rows: pd.DataFrame
    scheme: ClassScheme
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"meta": self.meta, "scheme": self.scheme.to_dict(), "rows": records(self.rows)}


CLASS_COLUMNS_HEAD = ["unit_id", "unit_code", "unit_name", "level", "year"]


def answer_classes(
    engine: Engine, *, year: int | None = None, level: str = PARK, scheme: ClassScheme = DEFAULT_SCHEME
) -> ClassesAnswer:
    """Score and class every unit of ``level`` (park level: the blocks, not the parent park,
    which is their union) in ``year`` on ``scheme``."""
    answers = [
        answer_density(engine, DensityQuestion(year=year, numerator=i.numerator, basis=scheme.basis, level=level))
        for i in scheme.indicators
    ]
    first = answers[0]
    wide = first.rows[CLASS_COLUMNS_HEAD].copy()
    for ind, answer in zip(scheme.indicators, answers):
        wide[ind.column] = wide["unit_id"].map(dict(zip(answer.rows["unit_id"], answer.rows["mu_jun_wan_per_mu"])))
    if level == PARK:
        wide = wide[~wide["unit_id"].isin(_parent_parks(engine))]
    scored = [_score_indicator(ind, wide, scheme) for ind in scheme.indicators]
    classes = mu_jun_classes(wide, scored, bands=scheme.bands, missing=scheme.missing)
    rows = wide.merge(classes, on="unit_id").sort_values(["rank", "unit_id"], na_position="last")
    meta = {
        "year": first.question.year,
        "level": level,
        "benchmarks_wan_per_mu": {ind.numerator: s.benchmark for ind, s in zip(scheme.indicators, scored)},
        "sources": sorted({s for a in answers for s in a.meta["sources"]["figures_and_areas"]}),
        "figure_year_rule": first.meta["figure_year_rule"],
    }
    return ClassesAnswer(rows=rows.reset_index(drop=True), scheme=scheme, meta=meta)


def _score_indicator(ind: SchemeIndicator, wide: pd.DataFrame, scheme: ClassScheme) -> ScoreIndicator:
    if ind.benchmark is not None:
        return ScoreIndicator(ind.column, ind.weight, ind.benchmark, ind.label_zh, "万元/亩")
    mean = pd.to_numeric(wide[ind.column], errors="coerce").mean()
    if pd.isna(mean) or mean <= 0:
        raise InputError(
            f"scheme: no unit has a {ind.label_zh} over {BASIS_LABELS_ZH[scheme.basis]} to derive a benchmark from; "
            "give the benchmark (numerator:weight:benchmark)"
        )
    return ScoreIndicator(ind.column, ind.weight, float(mean) * scheme.benchmark_factor, ind.label_zh, "万元/亩")


def _parent_parks(engine: Engine) -> set[int]:
    parks = read_parks(engine)
    return set(parks["parent_id"].dropna().astype(int))
