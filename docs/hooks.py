"""MkDocs hook: the reference pages and the notebook pages, generated at build time.

One page per module named in ``gis_service._EXPORTS`` (plus the package itself, for
``connect``), listing exactly the names the package exports from it, and one page per
``notebooks/*.ipynb`` (rendered, not run, by mkdocs-jupyter). A new public module or a new
notebook therefore appears on the site without editing anything here or in mkdocs.yml.
The home page's ``<!-- reference-list -->`` and ``<!-- notebook-list -->`` markers are
replaced by links to those pages.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
import re
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files
from mkdocs.structure.nav import Navigation, Section
from mkdocs.structure.pages import Page

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"


def public_modules() -> dict[str, list[tuple[str, str]]]:
    """Module -> [(public name, name in the module)], in the order of ``_EXPORTS``."""
    import gis_service  # the package's own table, so the site cannot drift from the API

    modules: dict[str, list[tuple[str, str]]] = {"gis_service": [("connect", "connect")]}
    for public, module in gis_service._EXPORTS.items():
        modules.setdefault(module, []).append((public, gis_service._RENAMED.get(public, public)))
    return modules


def module_summary(module: str) -> str:
    """First line of the module's docstring."""
    doc = inspect.getdoc(importlib.import_module(module)) or ""
    return doc.splitlines()[0] if doc else ""


def shadowed_by_submodule(module: str, own: str) -> str | None:
    """Where ``module.own`` is defined when a submodule of the same name hides it.

    ``gis_service.sizhi`` imports the function ``verify`` from its submodule ``verify``:
    Python's attribute is the function, but griffe's member of that name is the submodule,
    so the page documents the function at the path where it is defined instead.
    """
    try:
        if importlib.util.find_spec(f"{module}.{own}") is None:
            return None
    except ModuleNotFoundError:  # ``module`` is not a package: no submodules
        return None
    obj = getattr(importlib.import_module(module), own)
    return None if inspect.ismodule(obj) else f"{obj.__module__}.{obj.__qualname__}"


def module_page(module: str, names: list[tuple[str, str]]) -> str:
    exported = ", ".join(
        f"`gs.{public}`" + ("" if public == own else f" (`{own}` here)") for public, own in names
    )
    direct = [own for _, own in names if shadowed_by_submodule(module, own) is None]
    members = "\n".join(f"        - {own}" for own in direct)
    page = f"# `{module}`\n\n导出为 / exported as: {exported}\n\n::: {module}\n    options:\n"
    page += f"      members:\n{members}\n" if direct else "      members: false\n"
    for _, own in names:
        if (defined := shadowed_by_submodule(module, own)) is not None:
            page += f"\n::: {defined}\n    options:\n      show_root_heading: true\n"
    return page


def notebook_title(path: Path) -> str:
    """The notebook's first heading (the page title mkdocs-jupyter will use)."""
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return path.stem


# before mkdocs-jupyter's own on_files, which turns the .ipynb files into pages
@event_priority(100)
def on_files(files: Files, config: MkDocsConfig) -> Files:
    for module, names in public_modules().items():
        files.append(File.generated(config, f"reference/{module}.md", content=module_page(module, names)))
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        files.append(
            File(
                path.relative_to(ROOT).as_posix(),
                src_dir=str(ROOT),
                dest_dir=config.site_dir,
                use_directory_urls=config.use_directory_urls,
            )
        )
    return files


def on_nav(nav: Navigation, config: MkDocsConfig, files: Files) -> Navigation:
    """Reference before notebooks; modules in the order of ``_EXPORTS`` (the package first)."""
    order = list(public_modules())
    titles = {"reference": "模块参考 / Reference", "notebooks": "笔记本 / Notebooks"}
    sections = {}
    for item in nav.items:
        if isinstance(item, Section) and item.children and isinstance(item.children[0], Page):
            folder = item.children[0].file.src_uri.split("/")[0]
            if folder in titles:
                item.title = titles[folder]
                sections[folder] = item
    if "reference" in sections:
        sections["reference"].children.sort(
            key=lambda page: order.index(page.file.src_uri.removeprefix("reference/").removesuffix(".md"))
        )
    rank = {id(sections[f]): i for i, f in enumerate(["reference", "notebooks"]) if f in sections}
    nav.items.sort(key=lambda item: rank.get(id(item), -1))  # stable: the home page stays first
    return nav


# a Sphinx role in a docstring (:func:`~gis_service.metrics.density_table`), as Markdown renders it
SPHINX_ROLE = re.compile(r":(?:mod|func|class|meth|attr|data|exc|obj):<code>(~?)([\w.]+)</code>")


def on_page_content(html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Sphinx roles in docstrings become cross-references (plain code when the target has no page).

    The docstrings are written for Sphinx and IDEs alike; rather than rewrite them, the roles are
    turned into autorefs, which mkdocs-autorefs resolves after every page is rendered.  A bare name
    is looked up in the page's module first.
    """
    module = page.file.src_uri.removeprefix("reference/").removesuffix(".md")

    def autoref(match: re.Match[str]) -> str:
        tilde, target = match.groups()
        identifier = target if "." in target or module == page.file.src_uri else f"{module}.{target}"
        shown = target.rsplit(".", 1)[-1] if tilde else target
        return f'<autoref identifier="{identifier}" optional><code>{shown}</code></autoref>'

    return SPHINX_ROLE.sub(autoref, html)


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    if page.file.src_uri != "index.md":
        return markdown
    reference = "\n".join(
        f"- [`{module}`](reference/{module}.md) — {module_summary(module)}" for module in public_modules()
    )
    notebooks = "\n".join(
        f"- [{notebook_title(path)}](notebooks/{path.name})" for path in sorted(NOTEBOOKS.glob("*.ipynb"))
    )
    return markdown.replace("<!-- reference-list -->", reference).replace("<!-- notebook-list -->", notebooks)
