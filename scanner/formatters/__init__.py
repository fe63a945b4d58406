"""Formatters: pure functions from the Report to text (habit 7). Registry of the built-in formats."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from scanner.model import Report


@dataclass(frozen=True, slots=True)
class FormatOptions:
    """Presentation choices that are not part of the model."""

    color: bool = False
    width: int = 80


Formatter = Callable[[Report, FormatOptions], str]


def get(name: str) -> Formatter:
    """The formatter for a format name (imported on use, so start-up stays light)."""
    if name == "json":
        from scanner.formatters import json_report

        return json_report.render
    if name == "text":
        from scanner.formatters import text

        return text.render
    raise KeyError(name)


FORMATS = ("text", "json")
