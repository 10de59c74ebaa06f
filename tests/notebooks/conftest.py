"""A database loaded with the sample data, and the environment of a user of the managed cluster."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url

from gis_service.db.cluster import LocalCluster
from gis_service.ingest import load_sample

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def sample_url(make_database: Callable[[], str]) -> str:
    """URL of a database of the session's cluster loaded with the sample data."""
    url = make_database()
    engine = create_engine(url)
    try:
        load_sample(engine)
    finally:
        engine.dispose()
    return url


@pytest.fixture(scope="session")
def managed_kernel_env(pg_cluster: LocalCluster, sample_url: str) -> dict[str, str]:
    """The environment of a user of the managed cluster as JupyterLab gives it to a kernel: no
    ``GIS_DATABASE_URL``, and the session's cluster named by a ``GIS_DATA_DIR`` *relative* to the
    checkout, so it is found only if the settings never take it from the working directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIS_")}
    env.update(
        GIS_DATA_DIR=os.path.relpath(pg_cluster.root.parent, ROOT),  # the cluster lives in <data dir>/pg
        GIS_PG_PORT=str(pg_cluster.port),
        GIS_PG_DATABASE=str(make_url(sample_url).database),
        # the package from this checkout, whatever the working directory
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    )
    assert not Path(env["GIS_DATA_DIR"]).is_absolute()
    return env
