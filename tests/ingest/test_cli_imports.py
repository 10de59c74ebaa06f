"""``gis-service import ...`` as a user runs it: success prints counts, errors exit 2 with the message."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, text

from gis_service.ingest import load_sample
from tests.ingest.helpers import box, feature


def gis(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIS_")}
    env["GIS_DATABASE_URL"] = url
    env["COLUMNS"] = "250"
    return subprocess.run([sys.executable, "-m", "gis_service", *args], capture_output=True, text=True, env=env, timeout=300)


def test_import_commands(db_url: str, tmp_path: Path) -> None:
    engine = create_engine(db_url)
    load_sample(engine)
    figures = tmp_path / "figures.csv"
    figures.write_text("园区,年份,产值(万元)\nsj_west,2021,1700000\n", encoding="utf-8")
    ok = gis("import", "indicators", str(figures), "--source", "园区年报2021", "--actor", "经委", "--json", url=db_url)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["inserted"] == 1

    bad = tmp_path / "bad.csv"
    bad.write_text("园区,年份,产值(公顷)\nsj_west,2021,1\n", encoding="utf-8")
    failed = gis("import", "indicators", str(bad), "--source", "x", url=db_url)
    assert failed.returncode == 2
    assert "bad.csv: line 2: output: unit '公顷' does not match metric output" in failed.stderr
    assert "Traceback" not in failed.stderr

    blocks = tmp_path / "blocks.geojson"
    blocks.write_text(json.dumps({"type": "FeatureCollection",
                                  "features": [feature(box(121.20, 31.04, 121.23, 31.06), 园区="环大学城科创园")]},
                                 ensure_ascii=False), encoding="utf-8")
    done = gis("import", "boundaries", str(blocks), "--park-field", "园区", "--valid-from", "2022-01-01",
               "--source", "批复", "--quality", "surveyed", "--json", url=db_url)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) | {"file": "blocks.geojson"} == {
        "file": "blocks.geojson", "crs": "EPSG:4326", "inserted": 1, "closed": 1, "unchanged": 0, "repaired": 0}
    refused = gis("import", "layer", "park_boundaries", str(blocks), url=db_url)
    assert refused.returncode == 2 and "versioned" in refused.stderr
    with engine.connect() as conn:
        actors = conn.execute(text("SELECT DISTINCT actor FROM audit_log ORDER BY actor")).scalars().all()
    assert actors[0] == "cli:" + __import__("getpass").getuser() and "经委" in actors
    engine.dispose()
