"""Griffe extension for the docs build: a numpy ``Returns`` section griffe would misread is a warning.

In numpy style every unindented line of ``Returns`` starts a new returned value, so a description
wrapped without indentation turns into several nameless, undescribed "values" (one table row per
line on the site) without griffe saying anything.  Reported as a warning, it fails
``mkdocs build --strict`` like any other docstring problem.
"""

from __future__ import annotations

from typing import Any

import griffe


class ReturnsCheck(griffe.Extension):
    def on_function(self, *, func: griffe.Function, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        if func.docstring is None:
            return
        for section in func.docstring.parse("numpy"):
            kinds = (griffe.DocstringSectionKind.returns, griffe.DocstringSectionKind.yields)
            if section.kind in kinds and len(section.value) > 1 and any(not v.description for v in section.value):
                griffe.logger.warning(
                    f"{func.relative_filepath}:{func.docstring.lineno}: {func.path}: the {section.kind.value} "
                    "section lists several values without descriptions; indent the lines that continue one"
                )
