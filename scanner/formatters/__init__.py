"""The output formats: a typed table of render functions, each with the options class it takes.

A row names the format, the function that renders a Report with its options, the options class
(TextOptions for text, LocatedOptions for outputs that point into files, FormatOptions otherwise)
and a one-line description; the command line takes its ``--format`` choices from here. Each render
module is imported when its format is used, so start-up stays light.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from scanner.formatters.base import FormatOptions, LocatedOptions, Summary, TextOptions, summarize

if TYPE_CHECKING:
    from scanner.model import Report

__all__ = ["FORMATS", "FormatOptions", "LocatedOptions", "OutputFormat", "Summary", "TextOptions", "options_for",
           "summarize"]

OptionsT = TypeVar("OptionsT", bound=FormatOptions)


@dataclass(frozen=True, slots=True)
class OutputFormat(Generic[OptionsT]):
    """One output format."""

    name: str
    render: Callable[[Report, OptionsT], str]
    options: type[OptionsT]
    description: str


def _text(report: Report, options: TextOptions) -> str:
    from scanner.formatters import text

    return text.render(report, options)


def _json(report: Report, options: FormatOptions) -> str:
    from scanner.formatters import json_report

    return json_report.render(report, options)


def _sarif(report: Report, options: LocatedOptions) -> str:
    from scanner.formatters import sarif

    return sarif.render(report, options)


def _junit(report: Report, options: FormatOptions) -> str:
    from scanner.formatters import junit

    return junit.render(report, options)


def _codequality(report: Report, options: LocatedOptions) -> str:
    from scanner.formatters import codequality

    return codequality.render(report, options)


def _github(report: Report, options: LocatedOptions) -> str:
    from scanner.formatters import github

    return github.render(report, options)


FORMATS: dict[str, OutputFormat[Any]] = {f.name: f for f in (
    OutputFormat("text", _text, TextOptions, "the human report: each finding, where, how to fix it"),
    OutputFormat("json", _json, FormatOptions, "the public JSON report (scanner/schemas/report.schema.json)"),
    OutputFormat("sarif", _sarif, LocatedOptions, "SARIF 2.1.0 for code scanning"),
    OutputFormat("junit", _junit, FormatOptions, "JUnit XML: one test case per rule and package"),
    OutputFormat("codequality", _codequality, LocatedOptions, "GitLab Code Quality"),
    OutputFormat("github", _github, LocatedOptions, "GitHub Actions annotations"),
)}


def options_for(fmt: OutputFormat[OptionsT], values: Mapping[str, Any]) -> OptionsT:
    """The format's own options, taken from what the run knows (colour, width, paths …)."""
    return fmt.options(**{f.name: values[f.name] for f in fields(fmt.options) if f.name in values})
