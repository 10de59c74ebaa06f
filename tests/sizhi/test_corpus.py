"""Accuracy of the 四至 parser on the hand-checked corpus (issue 14), with floors.

The corpus (``tests/sizhi/corpus/*.yaml``, 421 descriptions in 14 classes, "mixed" combining several) is scored by side:
exact feature names, and names + kind + offset.  The floors are the issue's goals; the
per-class floors keep one class from sinking behind a good total.  Run
``python -m tests.sizhi.corpus_score -v`` for the table and the misses.
"""

from __future__ import annotations

import pytest

from tests.sizhi.corpus_score import Score, load_corpus, report, score

CASES = load_corpus()
CLASSES = sorted({c.klass for c in CASES})
#: The classes of issue 14 plus the grammar of the first 四至 issue ("base").
EXPECTED_CLASSES = {
    "base", "lead_in", "dunhao_sides", "verbs", "inverse_lead", "yi_wei_jie", "suffixes", "whitespace",
    "traditional", "multi_feature", "prefixes", "pinyin", "special_sides", "mixed",
}


@pytest.fixture(scope="module")
def scores() -> dict[str, Score]:
    return score(CASES)


def test_corpus_is_large_and_covers_every_class() -> None:
    assert len(CASES) >= 300
    assert set(CLASSES) == EXPECTED_CLASSES
    assert all(sum(c.klass == k for c in CASES) >= 20 for k in EXPECTED_CLASSES)


def test_overall_floors(scores: dict[str, Score]) -> None:
    total = scores["all"]
    print("\n" + report(scores))
    assert total.pct("names") >= 95.0, report(scores)
    assert total.pct("full") >= 90.0, report(scores)


@pytest.mark.parametrize("klass", sorted(EXPECTED_CLASSES))
def test_class_floor(scores: dict[str, Score], klass: str) -> None:
    s = scores[klass]
    detail = "\n".join(s.misses[:20])
    assert s.pct("names") >= 95.0, f"{klass}: names {s.pct('names'):.1f} %\n{detail}"
    assert s.pct("full") >= 90.0, f"{klass}: full {s.pct('full'):.1f} %\n{detail}"


def test_scorer_counts_a_rejected_text_as_wrong_on_every_side() -> None:
    from tests.sizhi.corpus_score import Case, Feature

    case = Case("base", "没有四至", {"east": [Feature("甲路", "road", None)], "west": [Feature("乙路", "road", None)]})
    s = score([case])["all"]
    assert (s.sides, s.names, s.full) == (2, 0, 0)


def test_scorer_counts_a_spurious_side() -> None:
    from tests.sizhi.corpus_score import Case, Feature

    case = Case("base", "东至甲路,西至乙路", {"east": [Feature("甲路", "road", None)]})
    s = score([case])["all"]
    assert (s.sides, s.names) == (2, 1)
