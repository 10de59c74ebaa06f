"""The cyclic collector waits while a land-intensity measurement runs, and only then."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from gis_service.metrics import intensity
from gis_service.metrics.gc_pause import gc_paused
from gis_service.metrics.intensity import measure_intensity_levels
from tests.metrics.intensity_fixture import YEAR, load_fixture


@pytest.fixture()
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    gc.enable() if was else gc.disable()


def test_the_collector_is_off_inside_and_back_on_after(collector_on: None) -> None:
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_nested_pause_does_not_switch_the_collector_back_on_early(collector_on: None) -> None:
    with gc_paused():
        with gc_paused():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()


def test_an_error_inside_still_switches_the_collector_back_on(collector_on: None) -> None:
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    was = gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable() if was else gc.disable()


def test_two_threads_share_one_pause(collector_on: None) -> None:
    # thread A pauses, thread B pauses and ends first: the collector stays off until A ends
    a_inside, b_done, a_may_end = threading.Event(), threading.Event(), threading.Event()
    seen: list[bool] = []

    def a() -> None:
        with gc_paused():
            a_inside.set()
            b_done.wait(5)
            seen.append(gc.isenabled())
            a_may_end.wait(5)

    def b() -> None:
        a_inside.wait(5)
        with gc_paused():
            pass
        b_done.set()

    ta, tb = threading.Thread(target=a), threading.Thread(target=b)
    ta.start(), tb.start()
    tb.join(5)
    a_may_end.set()
    ta.join(5)
    assert seen == [False]
    assert gc.isenabled()


def test_a_measurement_runs_no_automatic_collection(
    engine: Engine, tmp_path: Path, collector_on: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_fixture(engine, tmp_path)
    measure_intensity_levels(engine, year=YEAR)  # warm: imports, compiled statements
    measuring = threading.Event()
    measure = intensity._measure_levels

    def marked(*args: Any) -> Any:
        measuring.set()
        try:
            return measure(*args)
        finally:
            measuring.clear()  # the collection that follows the pause is not counted

    collections: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start" and measuring.is_set():
            collections.append(info["generation"])

    monkeypatch.setattr(intensity, "_measure_levels", marked)
    thresholds = gc.get_threshold()
    gc.callbacks.append(count)
    gc.set_threshold(50)  # so that even the small fixture makes enough objects to start collections
    try:
        measure_intensity_levels(engine, year=YEAR)
    finally:
        gc.callbacks.remove(count)
        gc.set_threshold(*thresholds)
    assert collections == []
    assert gc.isenabled()
