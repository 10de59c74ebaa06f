"""Every notebook runs top to bottom against a fresh PostGIS loaded with the sample data.

The kernel runs as JupyterLab runs it: working directory ``notebooks/``, no ``GIS_DATABASE_URL``,
the managed cluster found through the settings (``gs.connect()``).  The session's cluster is named
by a ``GIS_DATA_DIR`` relative to the checkout, so the run fails if the data directory is ever
taken from the working directory again.  A cell that raises fails the test; and each notebook's
outputs must contain a figure that only a correct run prints.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"

#: notebook -> strings its outputs must contain (hand-checked against 004 附件 / 001 表1)
EXPECTED: dict[str, list[str]] = {
    # 临港松江科技城: 116 亿元 / 1.8 km² = 64.44; gap to 80 = 15.56
    "01_density_vs_target.ipynb": ["64.44", "15.56", "合成数据", "blocks at or above target on any basis: none"],
    # 临港 + 洞泾 + 7 % of 北区 in 产城融合示范片区; blocks' output 165+36.102+42.86+116+44.56+112 = 516.52
    "02_zones.ipynb": ["产城融合示范片区", "516.52", "合成数据"],
    # (80 / 64.444)^(1/5) - 1 = 4.42 %; 116 × 1.04^5 = 141.13
    "03_road_to_2025.ipynb": ["4.42", "output=141.13 亿元", "合成数据"],
    "04_sizhi_check.ipynb": ["环大学城科创园", "通过", "不符"],
    # blocks' areas sum to 29.22 km², the plan states 22.98 km²
    "05_data_check.ipynb": ["29.22", "22.98", "0 without a source"],
    # what-if: 116 × 1.3 / 1.8 = 83.78 (达标); 116 / 1.2 km² supplied = 96.67; 亩均 classes
    "06_whatif_and_classes.ipynb": ["83.78", "96.67", "A 类: 临港松江科技城", "64.44 亿元/km²,状态 未达标", "合成数据"],
}


def test_every_notebook_is_covered_and_stored_clean() -> None:
    found = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
    assert found == sorted(EXPECTED)
    for path in NOTEBOOKS.glob("*.ipynb"):
        book = nbformat.read(path, as_version=4)
        nbformat.validate(book)
        for cell in book.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, f"{path.name} stored with outputs"
        text = path.read_text(encoding="utf-8")
        for machine_path in ("/work/", "/tmp/", "/home/", "/root", "postgresql://", "postgresql+psycopg://"):
            assert machine_path not in text, f"{path.name} names {machine_path!r}"


def _text_of_outputs(book: nbformat.NotebookNode) -> str:
    parts: list[str] = []
    for cell in book.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            data = output.get("data", {})
            parts.append(data.get("text/plain", ""))
            parts.append(data.get("text/html", ""))
    return "\n".join(parts)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_notebook_runs(name: str, managed_kernel_env: dict[str, str]) -> None:
    book = nbformat.read(NOTEBOOKS / name, as_version=4)
    env = {**managed_kernel_env, "MPLBACKEND": "Agg"}
    # the kernel's working directory is the notebook's, as in JupyterLab
    client = NotebookClient(
        book, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    )
    client.execute(env=env)  # raises CellExecutionError naming the failing cell
    text = _text_of_outputs(book)
    for expected in EXPECTED[name]:
        assert expected in text, f"{name}: {expected!r} not in the outputs"
    assert "Traceback" not in json.dumps(book, ensure_ascii=False)
