"""Loading the reference layers and figures into PostGIS.

:func:`load_sample` loads the whole sample dataset (``data/``) in ONE transaction;
:func:`load_layer` loads one layer file, so that a planning office can replace any
sample layer with its own (surveyed) file through the same validation.

Both are idempotent: rows are upserted by their natural key (district adcode, town
name, zone code, road name, park code, (park, valid_from) for boundaries, (scope,
year, metric, projection) for indicators, target code), an unchanged row is not
touched, and ids stay the same.  A park boundary version older than one stored since (by
``gis-service import boundaries``) is skipped, and said so in the report.  Any error rolls the whole transaction back and is
raised as :class:`~gis_service.errors.InputError` naming file, feature/line and reason
(:class:`~gis_service.errors.DatabaseUnavailableError` when the database became unavailable,
see :mod:`~gis_service.ingest.database_errors`).

This module only orchestrates: which files make the sample dataset, in which order,
and the transaction (a savepoint per layer).  Reading and checking a file is
:mod:`~gis_service.ingest.sources`; writing a layer is
:mod:`~gis_service.ingest.geo_layers` (vector layers) or
:mod:`~gis_service.ingest.csv_layers` (tabular layers), with the upsert helpers of
:mod:`~gis_service.ingest.upserts`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text

from gis_service import audit
from gis_service.errors import InputError
from gis_service.ingest import csv_layers, geo_layers
from gis_service.ingest.archive import check_upload_size
from gis_service.ingest.catalog import METRICS_FILE, SAMPLE_DATA_DIR, read_metric_catalogue
from gis_service.ingest.database_errors import database_errors
from gis_service.ingest.indicators import write_indicator_file
from gis_service.ingest.limits import ImportLimits
from gis_service.ingest.upserts import LayerResult
from gis_service.ingest.vector import ReadOptions


@dataclass
class LoadReport:
    """The result of :func:`load_sample`: one entry per layer, in load order.

    ``skipped`` says what was not loaded and why: an optional file that is absent, or a park
    boundary of the sample older than a version stored since (an import of the park's newer
    boundary is kept, never reopened or overwritten by the sample).
    """

    layers: list[LayerResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return sum(r.changed for r in self.layers)

    def to_dict(self) -> dict[str, Any]:
        return {
            "layers": [
                {"layer": r.layer, "file": r.file, "inserted": r.inserted, "updated": r.updated,
                 "unchanged": r.unchanged, "deleted": r.deleted, "skipped": list(r.skipped)}
                for r in self.layers
            ],
            "skipped": list(self.skipped),
        }


#: layer name -> file of the sample dataset (relative to the data directory), in load order.
SAMPLE_FILES: dict[str, Path] = {
    "district": Path("boundaries/songjiang_district.geojson"),
    "towns": Path("boundaries/towns.geojson"),
    "zones": Path("boundaries/zones.geojson"),
    "zone_town": Path("layers/zone_town.csv"),
    "roads": Path("layers/roads.geojson"),
    "parks": Path("layers/parks.csv"),
    "park_boundaries": Path("boundaries/park_blocks.geojson"),
    "indicators": Path("layers/indicators.csv"),
    "targets": Path("layers/targets.csv"),
}
#: Layers that may be absent from a data directory (the park polygons are built later).
OPTIONAL_LAYERS = frozenset({"park_boundaries"})


def load_sample(engine: Engine, data_dir: Path | None = None, *, actor: str = "load-sample") -> LoadReport:
    """Load every layer of a data directory in one transaction.

    A first load (no park stored yet) writes no audit row: it creates, it changes nothing.  A
    load over stored data is audited like any import: one row per stored value it inserts,
    changes or deletes (reference tables and figures), by ``actor``, so that reloading the sample
    over an officer's edit leaves a trace.

    Parameters
    ----------
    engine
        Engine on a migrated database.
    data_dir
        Directory laid out like ``data/`` (default: the repository's sample data).

    Raises
    ------
    InputError
        A file is missing or broken; nothing is written.
    DatabaseUnavailableError
        The database became unavailable during the load (HTTP 503): nothing to fix in the
        file, retry later.
    """
    data_dir = Path(data_dir) if data_dir is not None else SAMPLE_DATA_DIR
    catalogue_path = data_dir / METRICS_FILE
    report = LoadReport()
    with database_errors(str(data_dir)), engine.begin() as conn:
        first_load = not conn.execute(text("SELECT EXISTS (SELECT 1 FROM park)")).scalar()
        # figures are audited by their own write path (given an actor); the rest by snapshots
        tables = () if first_load else sorted(audit.AUDITABLE_TABLES - {"indicator"})
        before = {table: audit.snapshot(conn, table) for table in tables}
        for layer, rel in SAMPLE_FILES.items():
            path = data_dir / rel
            if layer in OPTIONAL_LAYERS and not path.exists():
                report.skipped.append(f"{layer}: {rel} not found")
                continue
            result = _load(conn, layer, path, metrics_file=catalogue_path, actor=None if first_load else actor)
            report.layers.append(result)
            report.skipped.extend(f"{layer}: {why}" for why in result.skipped)
        for table in tables:
            audit.record_changes(conn, before[table], actor=actor, table_name=table)
    return report


def load_layer(
    engine: Engine | Connection,
    layer: str,
    path: Path,
    *,
    source_crs: str | None = None,
    replace: bool = False,
    metrics_file: Path | None = None,
    options: ReadOptions | None = None,
    actor: str | None = None,
) -> LayerResult:
    """Load one layer file (a planning office's own data, or a sample file).

    Parameters
    ----------
    layer
        One of :data:`SAMPLE_FILES` (``district``, ``towns``, ``zones``, ``zone_town``,
        ``roads``, ``parks``, ``park_boundaries``, ``indicators``, ``targets``).
    path
        The file; same properties/columns as the sample file of that layer.
    source_crs
        ``"gcj02"`` when the geometries come from Amap (GCJ-02); otherwise the
        file's declared CRS (transformed to EPSG:4326).
    replace
        Also delete the rows of this layer whose natural key is not in the file
        (towns/zones/roads/zone_town/targets only); for indicators, delete only the stored
        figures of the cells the file leaves empty (see :func:`write_indicator_file`).
    metrics_file
        Metric catalogue for indicators/targets (default: the sample catalogue).
    options
        Vector reading options (GCJ-02 flag, repair flag, limits; see
        :class:`~gis_service.ingest.vector.ReadOptions`); ``source_crs`` overrides its own.
    actor
        Who writes, for the audit rows of the figures (indicators); ``None``: no audit rows.

    Raises
    ------
    InputError
        The file is broken (file, feature/line and reason); nothing is written.
    DatabaseUnavailableError
        The database became unavailable during the load (HTTP 503): nothing to fix in the
        file, retry later.
    """
    kwargs: dict[str, Any] = {"source_crs": source_crs, "replace": replace, "metrics_file": metrics_file, "options": options,
                              "actor": actor}
    if isinstance(engine, Connection):
        return _load(engine, layer, Path(path), **kwargs)
    with database_errors(Path(path).name), engine.begin() as conn:
        return _load(conn, layer, Path(path), **kwargs)


def _load(
    conn: Connection,
    layer: str,
    path: Path,
    *,
    source_crs: str | None = None,
    replace: bool = False,
    metrics_file: Path | None = None,
    options: ReadOptions | None = None,
    actor: str | None = None,
) -> LayerResult:
    if layer not in LAYER_WRITERS:
        raise InputError(f"unknown layer {layer!r}; expected one of {', '.join(LAYER_WRITERS)}")
    result = LayerResult(layer=layer, file=path.name)
    options = options or ReadOptions()
    if source_crs is not None:
        options = dataclasses.replace(options, source_crs=source_crs)
    if path.is_file():
        check_upload_size(path, options.limits)
    kwargs: dict[str, Any] = {"options": options} if layer in _GEO_LAYERS else {}
    catalogue = metrics_file if metrics_file and metrics_file.exists() else None
    if layer == "targets":
        kwargs["metrics"] = read_metric_catalogue(catalogue)
    if layer == "indicators":
        kwargs |= {"metrics_file": catalogue, "limits": options.limits, "actor": actor}
    # A savepoint, so a failing layer never half-applies.  What the database refuses that the
    # file validation did not catch is reported by file (and row) without internals; an outage
    # is DatabaseUnavailableError; any other database error is a fault of the service.
    with database_errors(path.name), conn.begin_nested():
        LAYER_WRITERS[layer](conn, path, result, replace=replace, **kwargs)
    return result


def load_indicator_layer(
    conn: Connection, path: Path, result: LayerResult, *, replace: bool, metrics_file: Path | None,
    limits: ImportLimits, actor: str | None,
) -> None:
    """The indicators layer: the one validated write path of figures (:func:`write_indicator_file`)."""
    written = write_indicator_file(conn, path, actor=actor, limits=limits, metrics_file=metrics_file, replace=replace)
    result.inserted, result.updated = written.inserted, written.updated
    result.unchanged, result.deleted = written.unchanged, written.deleted


#: layer name -> the function that writes a file of that layer (in a transaction of the caller's)
LAYER_WRITERS: dict[str, Callable[..., None]] = {
    "district": geo_layers.load_district,
    "towns": geo_layers.load_towns,
    "zones": geo_layers.load_zones,
    "zone_town": csv_layers.load_zone_town,
    "roads": geo_layers.load_roads,
    "parks": csv_layers.load_parks,
    "park_boundaries": geo_layers.load_park_boundaries,
    "indicators": load_indicator_layer,
    "targets": csv_layers.load_targets,
}
_GEO_LAYERS = frozenset({"district", "towns", "zones", "roads", "park_boundaries"})
