"""``gis-service load-sample`` and ``gis-service qa`` as a user runs them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from gis_service.ingest import SAMPLE_DATA_DIR


def gis(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIS_")}
    env["GIS_DATABASE_URL"] = url
    env["COLUMNS"] = "250"  # a wide terminal, so rich does not wrap words in the table
    return subprocess.run([sys.executable, "-m", "gis_service", *args], capture_output=True, text=True, env=env, timeout=300)


def test_load_sample_twice_then_qa_json(db_url: str) -> None:
    first = gis("load-sample", url=db_url)
    assert first.returncode == 0, first.stderr
    assert "songjiang_district.geojson" in first.stdout
    second = gis("load-sample", url=db_url)
    assert second.returncode == 0 and "0 rows changed" in second.stdout

    qa = gis("qa", "--json", url=db_url)
    assert qa.returncode == 0, qa.stderr
    report = json.loads(qa.stdout)
    area = next(c for c in report["checks"] if c["code"] == "block_area_sum")
    assert area["data"]["blocks_sum_km2"] == 29.22 and area["data"]["stated_total_km2"] == 22.98

    table = gis("qa", url=db_url)
    assert table.returncode == 0 and "莘莘学子创业园" in table.stdout and "55.47" in table.stdout


def test_broken_file_exits_2_with_file_and_feature(db_url: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(SAMPLE_DATA_DIR, data)
    roads = data / "layers" / "roads.geojson"
    doc = json.loads(roads.read_text(encoding="utf-8"))
    doc["features"][3]["properties"]["kind"] = "motorway"
    roads.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    out = gis("load-sample", "--data-dir", str(data), url=db_url)
    assert out.returncode == 2
    assert "roads.geojson: feature 3" in out.stderr and "'motorway'" in out.stderr
    assert "Traceback" not in out.stderr
