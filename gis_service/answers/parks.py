"""Parks with their answer: the boundary in force, the 四至 and the density row, for pages.

The maps, ``/parks`` and the OGC park items show the same rows as ``/metrics/density`` at
park level, joined to the parks' geometry and 四至: nothing is computed here.
"""

from __future__ import annotations

import geopandas as gpd
from sqlalchemy import Engine

from gis_service.answers.density import DensityAnswer, DensityQuestion, answer_density
from gis_service.answers.vocabulary import PARK
from gis_service.errors import InputError
from gis_service.sizhi.stored import sizhi_sides
from gis_service.store.readers import read_parks, read_sizhi
from gis_service.store.versions import DataMemo

#: park columns shown beside the answer
PARK_COLUMNS = ["kind", "parent_id", "parent_name", "geometry_quality", "method", "source_document", "source_section"]

_MEMO = DataMemo(max_entries=32)


def park_features(engine: Engine, question: DensityQuestion = DensityQuestion()) -> tuple[gpd.GeoDataFrame, DensityAnswer]:
    """One row per park (EPSG:4326): the answer's row, the park's columns, ``sizhi_text`` and
    ``sizhi_sides`` (side label → text); with the answer itself (for its meta)."""
    if question.level != PARK:
        raise InputError(f"level: park features are at park level, got {question.level!r}")
    answer = answer_density(engine, question)
    frame = _MEMO.get_or_compute(engine, ("park_features", answer.question),
                                 lambda: with_answer(park_frame(engine, answer.question.year), answer))
    return frame, answer


def park_frame(engine: Engine, year: int | None) -> gpd.GeoDataFrame:
    """The parks with the boundary in force in ``year`` and their 四至, keyed ``unit_id``: the
    part of :func:`park_features` that does not depend on the answer (a page can read and
    prepare it while the answer is computed)."""
    parks = read_parks(engine, year=year)
    out = parks[["park_id", "name", *PARK_COLUMNS, "geometry"]].rename(columns={"park_id": "unit_id"})
    sizhi = read_sizhi(engine).set_index("park_id")
    out["sizhi_text"] = out["unit_id"].map(sizhi["raw_text"]) if not sizhi.empty else None
    out["sizhi_sides"] = [sizhi_sides(sizhi["parsed"].get(pid)) if not sizhi.empty else {} for pid in out["unit_id"]]
    return gpd.GeoDataFrame(out, geometry="geometry", crs=parks.crs)


def with_answer(frame: gpd.GeoDataFrame, answer: DensityAnswer) -> gpd.GeoDataFrame:
    """``frame`` (from :func:`park_frame`) with each park's answer row joined (ROW_COLUMNS)."""
    return frame.merge(answer.rows, on="unit_id", how="left")
