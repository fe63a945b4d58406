"""Reports of a batch store: HTML for reviewers, CSV and JSONL for spreadsheets and pipelines, the JSON
report (the same schema as ``scan --format json``) and SARIF (formatters only see the model).

The HTML report is one self-contained file (inline CSS and SVG, no network), rendered with Jinja2 with
autoescaping on: app names, paths and messages come from hostile packages and are only ever text.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

import jinja2
from markupsafe import Markup, escape

from scanner import __version__
from scanner.batch.store import StoredResult
from scanner.formatters import FormatOptions, LocatedOptions, json_report, sarif
from scanner.formatters.base import SEVERITY_LABELS
from scanner.formatters.json_report import from_result_dict, stored_message
from scanner.i18n import LANGUAGE_TAGS, Said, msg, said_in, say
from scanner.model import Report
from scanner.rules import CATALOGUE

REPORT_FORMATS = ("html", "csv", "jsonl", "json", "sarif")
SEVERITIES = ("error", "warning", "note")


@dataclass(frozen=True, slots=True)
class Row:
    """One package of the report, flattened for the table."""

    index: int
    status: str
    path: str
    paths: tuple[str, ...]
    sha256: str
    format: str
    app_id: str
    app_name: str
    version: str
    numbers: tuple[str, ...]
    links: tuple[str, ...]
    rules: tuple[str, ...]
    counts: dict[str, int]
    error: str
    seconds: float
    findings: tuple[dict[str, Any], ...]
    cert_md5: str = ""
    """The current signer's certificate MD5 (the filing form's); empty: unsigned, or a format without signing."""


def rows(stored: list[StoredResult]) -> list[Row]:
    out = []
    for index, item in enumerate(stored):
        result = item.result
        package, error, facts = result["package"], result["error"], result["facts"]
        counts = Counter(f["severity"] for f in result["findings"])
        status = ("aborted" if error and error["rule_id"] == "PKG006" else "unreadable" if error
                  else "findings" if result["findings"] else "clean")
        out.append(Row(index, status, package["path"], item.paths, item.sha256, package.get("format") or "",
                       package.get("app_id") or "", package.get("app_name") or "", package.get("version") or "",
                       tuple(n["value"] for n in facts["filing_numbers"]),
                       tuple(link["url"] for link in facts["filing_links"]),
                       _rules(result),
                       {s: counts.get(s, 0) for s in SEVERITIES},
                       _error_text(error) if error else "",
                       item.seconds, tuple(result["findings"]), _signer_md5(package.get("identity"))))
    return out


def _error_text(error: dict[str, Any]) -> str:
    """``RULE message``, in every language the store kept."""
    message = stored_message(error)
    if isinstance(message, Said):
        return said_in({lang: f"{error['rule_id']} {text}" for lang, text in message.texts})
    return f"{error['rule_id']} {message}"


def _signer_md5(identity: dict[str, Any] | None) -> str:
    signers = (identity or {}).get("signers") or []
    return str(signers[0]["certificate"]["md5"]) if signers else ""


def _rules(result: dict[str, Any]) -> tuple[str, ...]:
    found = {f["rule_id"] for f in result["findings"]}
    if result["error"]:
        found.add(result["error"]["rule_id"])
    return tuple(sorted(found))


def totals(table: list[Row]) -> dict[str, Any]:
    by_rule: Counter[str] = Counter()
    by_rule_severity: dict[str, Counter[str]] = {}
    by_severity: Counter[str] = Counter()
    failures: Counter[str] = Counter()
    reasons: dict[str, str] = {}
    for row in table:
        for finding in row.findings:
            by_rule[finding["rule_id"]] += 1
            by_rule_severity.setdefault(finding["rule_id"], Counter())[finding["severity"]] += 1
            by_severity[finding["severity"]] += 1
        if row.error:
            grouped = reason(row.error)
            failures[grouped] += 1
            reasons.setdefault(grouped, _reason_said(row.error, grouped))
    statuses = Counter(row.status for row in table)
    return {"packages": len(table), "statuses": dict(statuses), "by_rule": by_rule.most_common(),
            "by_rule_severity": {rule: [(s, n.get(s, 0)) for s in SEVERITIES] for rule, n in by_rule_severity.items()},
            "by_severity": [(s, by_severity.get(s, 0)) for s in SEVERITIES],
            "failures": [(reasons[r], n) for r, n in failures.most_common(20)],
            "with_number": sum(1 for r in table if r.numbers), "with_link": sum(1 for r in table if r.links)}


_DETAIL = re.compile(r"\s*[(（]((?:[A-Z]\w*(?:Error|Exception|Warning))?)[^()（）]*[)）]")
_COLON = re.compile(r": |：")


def _reason_said(error: str, english: str) -> str:
    if isinstance(error, Said):
        return said_in({lang: reason(text) for lang, text in error.texts})
    return english


def reason(error: str) -> str:
    """The class of a failure, for grouping: the rule id and the message without what is particular to
    one package (the parenthesized detail, bar an exception's class; what follows the first colon)."""
    rule, _, message = error.partition(" ")
    message = _DETAIL.sub(lambda m: f" ({m.group(1)})" if m.group(1) else "", message)
    return f"{rule} {_COLON.split(message)[0].strip()[:100]}"


def render(stored: list[StoredResult], fmt: str, runs: list[dict[str, Any]] | None = None,
           history: bool = False, lang: str = "en") -> str:
    """The report of stored results in one format; ``history``: one entry per result set, with its run.
    ``runs``: the store's runs, oldest first (the HTML report names the files the latest one skipped)."""
    if fmt == "html":
        return _html(stored, runs or [], lang)
    if fmt == "csv":
        return _csv(rows(stored), [item.run_id for item in stored] if history else None, lang)
    if fmt == "jsonl":
        return "".join(json.dumps(_with_paths(item, history), ensure_ascii=False) + "\n" for item in stored)
    if fmt == "json":
        return _json(stored, lang)
    if fmt == "sarif":
        return _sarif(stored, lang)
    raise ValueError(f"unknown report format {fmt!r} (one of {', '.join(REPORT_FORMATS)})")


def _csv(table: list[Row], run_ids: list[int] | None = None, lang: str = "en") -> str:
    """One row per package; the column names and statuses are keys (the same in every language), the
    error message is said in ``lang``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    header = ["path", "other_paths", "sha256", "status", "format", "app_id", "app_name", "version",
              "filing_numbers", "filing_links", "rules", "errors", "warnings", "notes", "error", "seconds", "cert_md5"]
    writer.writerow((["run"] if run_ids is not None else []) + header)
    for index, row in enumerate(table):
        cells = [row.path, " ".join(p for p in row.paths if p != row.path), row.sha256, row.status, row.format,
                 row.app_id, row.app_name, row.version, " ".join(row.numbers), " ".join(row.links),
                 " ".join(row.rules), row.counts["error"], row.counts["warning"], row.counts["note"],
                 say(row.error, lang), f"{row.seconds:.2f}", row.cert_md5]
        if run_ids is not None:
            cells.insert(0, run_ids[index])
        writer.writerow([_cell(str(cell)) for cell in cells])
    return buffer.getvalue()


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def _cell(value: str) -> str:
    """A spreadsheet cannot run a hostile value as a formula: every cell that starts as one (=, +, -, @,
    a tab or line break; the full-width forms Excel and WPS also read) is prefixed with ' (OWASP CSV
    injection). Plain numbers are left alone: a negative count is no formula."""
    if value[:1] in _FORMULA_START and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")


def _with_paths(item: StoredResult, history: bool = False) -> dict[str, Any]:
    """A stored result with every path its content was found under (a duplicate's too), and the run of
    the result set in a history."""
    package = {**item.result["package"], "paths": list(item.paths)}
    out = {**item.result, "package": package}
    if history:
        out["run"] = item.run_id
    return out


def _json(stored: list[StoredResult], lang: str = "en") -> str:
    """The same JSON report as ``scan --format json --show-suppressed`` (one envelope for both)."""
    return json_report.render(_report(stored), FormatOptions(show_suppressed=True, lang=lang))


def _report(stored: list[StoredResult]) -> Report:
    """The stored results as the model a formatter sees, each with every path its content was found under."""
    results = tuple(replace(from_result_dict(item.result), also_at=tuple(p for p in item.paths
                                                                         if p != item.result["package"]["path"]))
                    for item in stored)
    return Report(__version__, results, tuple(CATALOGUE.values()))


def _sarif(stored: list[StoredResult], lang: str = "en") -> str:
    return sarif.render(_report(stored), LocatedOptions(base_dir=os.getcwd(), lang=lang))


def _both(text: str) -> Markup:
    """Both languages of a text in the page; the page's switch shows one (CSS on ``html[data-lang]``)."""
    english, chinese = say(text, "en"), say(text, "zh")
    if english == chinese:
        return escape(english)
    return Markup('<span class="l-en" lang="en">{}</span><span class="l-zh" lang="zh-CN">{}</span>').format(
        english, chinese)


_STATUS_LABELS = {"clean": msg("clean"), "findings": msg("findings"), "unreadable": msg("unreadable"),
                  "aborted": msg("aborted")}


def _html(stored: list[StoredResult], runs: list[dict[str, Any]], lang: str = "en") -> str:
    environment = jinja2.Environment(loader=jinja2.PackageLoader("scanner.batch", "templates"),
                                     autoescape=True, undefined=jinja2.StrictUndefined)
    table = rows(stored)
    summary = totals(table)
    biggest = max([n for _rule, n in summary["by_rule"]] or [1])
    latest = runs[-1] if runs else {}
    skipped = {"other": latest.get("skipped") or 0, "special": latest.get("special") or 0,
               "examples": json.loads(latest.get("skipped_examples") or "[]")}
    return environment.get_template("report.html.j2").render(
        rows=table, totals=summary, runs=runs, version=__version__, biggest=biggest, skipped=skipped,
        colours={"error": "#cf222e", "warning": "#d4a72c", "note": "#0969da"},
        rules={rule_id: meta for rule_id, meta in CATALOGUE.items()},
        lang=lang, lang_tag=LANGUAGE_TAGS[lang], _=msg, both=_both, say=say,
        severity_labels={s.label: label for s, label in SEVERITY_LABELS.items()}, status_labels=_STATUS_LABELS,
        status_choices=[("", msg("all")), *_STATUS_LABELS.items()], stored_message=stored_message)
