"""The API reference site builds with warnings as errors and documents every public name.

The module list and the notebook list are read here, at test time, from the package's
``_EXPORTS`` and from ``notebooks/*.ipynb``: a new public module or notebook that the site does
not render fails this test.
"""

from __future__ import annotations

import html
import importlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import gis_service

ROOT = Path(__file__).resolve().parents[1]


def public_modules() -> dict[str, list[str]]:
    """Module -> the names it defines that ``gis_service`` exports (as the module spells them)."""
    modules: dict[str, list[str]] = {"gis_service": ["connect"]}
    for name, module in gis_service._EXPORTS.items():
        modules.setdefault(module, []).append(gis_service._RENAMED.get(name, name))
    return modules


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site_dir = tmp_path_factory.mktemp("site")
    # the worktree's package, not an installed copy, is what the hook and griffe read
    pythonpath = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": pythonpath, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(ROOT / "mkdocs.yml"),
         "--site-dir", str(site_dir)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}"
    return site_dir


def test_a_page_per_public_module_documents_each_public_name(site: Path) -> None:
    for module, names in public_modules().items():
        page = site / "reference" / module / "index.html"
        assert page.is_file(), f"no reference page for public module {module} (expected {page})"
        html = page.read_text(encoding="utf-8")
        for name in names:
            # each name is rendered under a heading whose anchor is its dotted path (where it is
            # exported, or where it is defined when a same-named submodule hides it there)
            obj = getattr(importlib.import_module(module), name)
            defined = f"{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', '')}"
            assert f'id="{module}.{name}"' in html or f'id="{defined}"' in html, (
                f"the {module} page does not document {name}"
            )


def test_each_notebook_is_rendered_without_being_run(site: Path) -> None:
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert notebooks, "no notebooks found"
    for nb in notebooks:
        page = site / "notebooks" / nb.stem / "index.html"
        assert page.is_file(), f"notebook {nb.name} has no page (expected {page})"
        article = page.read_text(encoding="utf-8").split("<article", 1)[-1]
        text = html.unescape(re.sub(r"<[^>]+>", "", article))
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code" and "".join(c["source"]).strip()]
        for source in code[:1] + code[-1:]:  # the page shows the notebook's code, first to last cell
            line = next(ln.strip() for ln in source.splitlines() if ln.strip())
            assert line in text, f"{nb.name}: the page does not show the code {line!r}"


def test_index_links_every_reference_page(site: Path) -> None:
    html = (site / "index.html").read_text(encoding="utf-8")
    for module in public_modules():
        assert f"reference/{module}/" in html, f"the home page does not link {module}"
