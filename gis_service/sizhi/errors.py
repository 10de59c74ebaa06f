"""Typed errors of the 四至 engine (all are :class:`gis_service.errors.InputError`)."""

from __future__ import annotations

from gis_service.errors import InputError


class SizhiParseError(InputError):
    """A 四至 text could not be read.

    Attributes
    ----------
    start, end
        Character span ``text[start:end]`` of the offending part (0-based, end exclusive).
    text
        The offending characters themselves.
    reason
        What is wrong, in Chinese and English.
    """

    def __init__(self, reason: str, *, start: int, end: int, text: str) -> None:
        self.reason, self.start, self.end, self.text = reason, start, end, text
        super().__init__(f"四至无法解析 (cannot parse 四至): {reason}; 位置 characters {start}-{end}: {text!r}")


class SizhiBuildError(InputError):
    """A boundary could not be built from a 四至 (sides do not close, feature missing…).

    ``side`` and ``feature`` name where the problem is, when it is at one place.
    """

    def __init__(self, reason: str, *, side: str | None = None, feature: str | None = None) -> None:
        self.reason, self.side, self.feature = reason, side, feature
        where = ""
        if side:
            where += f" [side {side}]"
        if feature:
            where += f" [feature {feature!r}]"
        super().__init__(f"四至无法构建边界 (cannot build boundary):{where} {reason}")


class SizhiVerifyError(InputError):
    """Inputs to verification are unusable (empty boundary, roads layer without names…)."""
