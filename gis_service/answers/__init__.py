"""Answers: the questions users ask, answered once for every face.

The CLI, the REST API, the OGC items, the maps, the downloads, the reports and the
notebooks call these functions and only translate what they return:

- :func:`answer_density` — every park, town or zone against a target (:class:`DensityQuestion`
  in, :class:`DensityAnswer` out: rows in one vocabulary plus meta with sources and vintage);
- :func:`answer_whatif` — the same question with changes to figures or land (nothing stored);
- :func:`answer_classes` — 亩均论英雄-style A–D classes on a scheme given as data.

A new face builds a question, calls one of these and renders ``answer.rows`` /
``answer.to_dict()``; it never reads the database or computes a figure itself.
"""

from gis_service.answers.classes import DEFAULT_SCHEME, ClassesAnswer, ClassScheme, answer_classes
from gis_service.answers.changes import ChangeRequest, parse_change
from gis_service.answers.density import (
    DensityAnswer,
    DensityQuestion,
    WhatIfAnswer,
    answer_density,
    answer_whatif,
    latest_year,
)
from gis_service.answers.records import plain, records, strict_json
from gis_service.answers.targets import TargetUnusableError, resolve_target
from gis_service.answers.vocabulary import LEVELS, ROW_COLUMNS

__all__ = [
    "DEFAULT_SCHEME",
    "LEVELS",
    "ROW_COLUMNS",
    "ChangeRequest",
    "ClassScheme",
    "ClassesAnswer",
    "DensityAnswer",
    "DensityQuestion",
    "TargetUnusableError",
    "WhatIfAnswer",
    "answer_classes",
    "answer_density",
    "answer_whatif",
    "latest_year",
    "parse_change",
    "plain",
    "records",
    "resolve_target",
    "strict_json",
]
