"""The output formats: a typed table of render functions, each with the options class it takes.

A row names the format, the function that renders a Report with its options, the options class
(TextOptions for text, LocatedOptions for outputs that point into files, FormatOptions otherwise)
and a one-line description; the command line takes its ``--format`` choices from here. It imports
this table only when it scans or shows ``scan --help``, so ``--version`` stays light.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from scanner.formatters.base import FormatOptions, LocatedOptions, Summary, TextOptions, summarize

if TYPE_CHECKING:
    from scanner.model import Report

__all__ = ["OUTPUT_FORMATS", "FormatOptions", "LocatedOptions", "OutputFormat", "Summary", "TextOptions", "options_for",
           "summarize"]

OptionsT = TypeVar("OptionsT", bound=FormatOptions)


@dataclass(frozen=True, slots=True)
class OutputFormat(Generic[OptionsT]):
    """One output format."""

    name: str
    module: str
    """The module of this package whose ``render(report, options)`` writes the format: imported when the
    report is written, so a scan's start-up checks the names without loading six formatters."""
    options: type[OptionsT]
    description: str

    @property
    def render(self) -> Callable[[Report, OptionsT], str]:
        """The format's render function."""
        found: Callable[[Report, OptionsT], str] = importlib.import_module(f"{__name__}.{self.module}").render
        return found


OUTPUT_FORMATS: dict[str, OutputFormat[Any]] = {f.name: f for f in (
    OutputFormat("text", "text", TextOptions, "the human report: each finding, where, how to fix it"),
    OutputFormat("json", "json_report", FormatOptions, "the public JSON report (report.schema.json)"),
    OutputFormat("sarif", "sarif", LocatedOptions, "SARIF 2.1.0 for code scanning"),
    OutputFormat("junit", "junit", FormatOptions, "JUnit XML: one test case per rule and package"),
    OutputFormat("codequality", "codequality", LocatedOptions, "GitLab Code Quality"),
    OutputFormat("github", "github", LocatedOptions, "GitHub Actions annotations"),
)}


def options_for(fmt: OutputFormat[OptionsT], values: Mapping[str, Any]) -> OptionsT:
    """The format's own options, taken from what the run knows (colour, width, paths …)."""
    return fmt.options(**{f.name: values[f.name] for f in fields(fmt.options) if f.name in values})
