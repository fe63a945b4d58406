"""JUnit XML (lxml): one testsuite per package, one testcase per rule checked; failures carry the
message and evidence. Read by GitLab ``artifacts:reports:junit`` and Jenkins test widgets."""

from __future__ import annotations

from lxml import etree

from scanner.formatters.base import FormatOptions, localized
from scanner.model import Report, ReportedFinding, RuleId, RuleMeta, ScanResult


def render(report: Report, options: FormatOptions) -> str:
    """The JUnit document as UTF-8 text with an XML declaration."""
    report = localized(report, options.lang)
    catalogue = {r.id: r for r in report.rules}

    root = etree.Element("testsuites", name="beian-scan")
    totals = [0, 0, 0]
    for result in report.results:
        suite = _suite(result, catalogue)
        root.append(suite)
        for i, key in enumerate(("tests", "failures", "errors")):
            totals[i] += int(suite.get(key, "0"))
    for key, value in zip(("tests", "failures", "errors"), totals, strict=True):
        root.set(key, str(value))
    return etree.tostring(root, pretty_print=True, xml_declaration=True, encoding="UTF-8").decode("utf-8")


def _suite(result: ScanResult, catalogue: dict[RuleId, RuleMeta]) -> etree._Element:
    name = result.info.app_id if result.info and result.info.app_id else result.path
    suite = etree.Element("testsuite", name=name)
    suite.set("file", result.path)
    if result.error is not None:
        case = etree.SubElement(suite, "testcase", classname=f"beian-scan.{name}", name=result.error.rule_id)
        error = etree.SubElement(case, "error", type=result.error.rule_id, message=result.error.message)
        error.text = result.error.message
        suite.attrib.update({"tests": "1", "failures": "0", "errors": "1", "skipped": "0"})
        return suite
    failures = 0
    for rule_id in result.checked:
        meta = catalogue[rule_id]
        case = etree.SubElement(suite, "testcase", classname=f"beian-scan.{name}", name=f"{rule_id} {meta.name}")
        found = [f for f in result.findings if f.rule_id == rule_id]
        if found:
            failures += 1
            failure = etree.SubElement(case, "failure", type=found[0].severity.label,
                                       message="; ".join(f.message for f in found))
            failure.text = "\n\n".join(_detail(f) for f in found)
    suite.attrib.update({"tests": str(len(result.checked)), "failures": str(failures), "errors": "0", "skipped": "0"})
    return suite


def _detail(finding: ReportedFinding) -> str:
    lines = [f"[{finding.severity.label}] {finding.message}"]
    if finding.location is not None:
        lines.append(f"where: {finding.location.describe()}")
    if finding.evidence:
        lines.append("evidence: " + "; ".join(finding.evidence))
    lines.append(f"fix: {finding.fix}")
    return "\n".join(lines)
