"""Where a finding points for tools that want files: the package, or the source file a user edits."""

from __future__ import annotations

import os
import posixpath
from typing import TYPE_CHECKING
from urllib.parse import quote

from scanner.model import Location, ReportedFinding, ScanResult

if TYPE_CHECKING:
    from scanner.formatters.base import LocatedOptions



def relative(path: str, base_dir: str) -> str:
    """``path`` relative to ``base_dir`` with forward slashes."""
    return os.path.relpath(os.path.abspath(path), os.path.abspath(base_dir)).replace(os.sep, "/")


def uri(path: str) -> str:
    """A valid SARIF uri-reference for a relative path (spaces and non-ASCII percent-encoded)."""
    return quote(path, safe="/:@!$&'()*+,;=-._~")


def line_of(location: Location | None) -> int:
    """The 1-based line of a location, else 1 (SARIF and Code Quality need a line)."""
    return location.line if location is not None and location.line is not None else 1


def source_file(location: Location | None, source_root: str) -> str | None:
    """The Android source file behind a packaged member, when it can be known."""
    if location is None:
        return posixpath.join(source_root, "AndroidManifest.xml")
    member = location.member
    if member == "resources.arsc":
        qualifier = location.resource.qualifier if location.resource else "default"
        suffix = "" if qualifier in ("default", "any") else "-" + qualifier
        return posixpath.join(source_root, f"res/values{suffix}/strings.xml")
    if member == "AndroidManifest.xml" or member.startswith(("res/", "assets/")):
        return posixpath.join(source_root, member)
    return None


def artifact(result: ScanResult, location: Location | None, base_dir: str, source_root: str | None) -> str:
    """The file a finding points at, relative to ``base_dir``: a source project's own file, the Android
    source file under ``source_root``, else the package."""
    source_tree = result.info is not None and result.info.format == "miniprogram-source"
    if source_tree and location is not None:
        return relative(os.path.join(result.path, location.member), base_dir)
    if source_root and (mapped := source_file(location, source_root)):
        return relative(mapped, base_dir)
    return relative(result.path, base_dir)


def place(result: ScanResult, finding: ReportedFinding, options: LocatedOptions) -> tuple[str, int]:
    """(file relative to ``base_dir``, line) a finding points at: the line found in the source tree
    when ``--source-root`` found one, else the mapped file and the line its pointer names."""
    found = options.source_lines.get(finding.fingerprint)
    if found is not None:
        return relative(found[0], options.base_dir), found[1]
    return artifact(result, finding.location, options.base_dir, options.source_root), line_of(finding.location)
