"""The managed local cluster: create once, start, status, second start, stop, data kept."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from gis_service.db.cluster import LocalCluster, find_pg_bindir, require_postgis
from gis_service.errors import MissingSystemPackageError
from gis_service.testing import free_port


@pytest.fixture
def cluster() -> Iterator[LocalCluster]:
    root = Path(tempfile.mkdtemp(prefix="gis-cluster-"))
    root.chmod(0o755)
    c = LocalCluster(root / "pg", port=free_port(), database="lifecycle")
    yield c
    c.destroy()
    root.rmdir()


def test_lifecycle_start_status_restart_keeps_data(cluster: LocalCluster) -> None:
    assert not cluster.initialised
    assert cluster.status().running is False

    assert cluster.start() is True
    st = cluster.status()
    assert st.initialised and st.running and st.pid is not None
    assert cluster.start() is False, "a second start is harmless and reports 'already running'"

    dsn = cluster.url().replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(dsn, autocommit=True) as conn:
        assert conn.execute("SELECT postgis_lib_version()").fetchone()[0].startswith("3")
        conn.execute("CREATE TABLE kept (v int)")
        conn.execute("INSERT INTO kept VALUES (42)")

    assert cluster.stop() is True
    assert cluster.status().running is False
    assert cluster.stop() is False

    assert cluster.start() is True
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT v FROM kept").fetchone() == (42,)


@pytest.mark.skipif(os.geteuid() != 0, reason="the unprivileged-account path only applies to root")
def test_cluster_runs_under_unprivileged_account_when_root(cluster: LocalCluster) -> None:
    cluster.start()
    pid = cluster.status().pid
    uid = Path(f"/proc/{pid}").stat().st_uid
    assert uid != 0
    assert cluster.pgdata.stat().st_uid == uid


def test_password_auth_rejects_wrong_password(cluster: LocalCluster) -> None:
    cluster.start()
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(host=cluster.host, port=cluster.port, dbname="lifecycle", user="gis", password="wrong")


def test_missing_binaries_name_the_package(tmp_path: Path) -> None:
    with pytest.raises(MissingSystemPackageError) as info:
        find_pg_bindir(tmp_path / "nowhere")
    assert info.value.package == "postgresql"
    assert "apt-get install" in str(info.value)


def test_missing_postgis_names_the_package(tmp_path: Path) -> None:
    # Real server binaries, but in a directory whose share dir has no PostGIS extension.
    real = find_pg_bindir()
    fake = tmp_path / "bin"
    fake.mkdir()
    for exe in ("initdb", "pg_ctl", "postgres"):
        (fake / exe).symlink_to(real / exe)
    with pytest.raises(MissingSystemPackageError) as info:
        require_postgis(find_pg_bindir(fake))
    assert info.value.package.startswith("postgresql-") and info.value.package.endswith("-postgis-3")
    assert "apt-get install -y postgresql-" in str(info.value)
