"""Mini-program source projects (WeChat native, uni-app, Taro, Alipay, ByteDance), read as one
mini-program (folders of built wxapkg files: scanner.parsers.wxapkg_folder).

Config sources (filing-rules.md §3.2, §3.3): ``app.json`` / ``ext.json`` (WeChat, ByteDance, Alipay),
uni-app ``manifest.json`` → ``mp-weixin``, Taro ``src/app.config.{js,ts}`` (a JS object: only the two
privacy keys are read, by pattern). Files are read, never executed; dependency folders are skipped.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from collections.abc import Iterator
from typing import Any

from scanner.extract import textdecode
from scanner.files import read_capped
from scanner.i18n import msg
from scanner.model import (
    Anomaly,
    AnomalyKind,
    Limits,
    Location,
    Package,
    PackageInfo,
    PackageKind,
    ParseOptions,
    PrivacyConfig,
    Text,
)
from scanner.parsers import wxapkg
from scanner.parsers.common import Probe, Source

MARKERS = ("app.json", "project.config.json", "pages.json", "mini.project.json", "src/app.config.ts",
           "src/app.config.js", "src/pages.json")
SKIP_DIRS = frozenset({"node_modules", ".git", ".svn", ".hg", ".idea", ".vscode", "unpackage", "miniprogram_npm",
                       "__pycache__", ".hbuilderx"})
SOURCE_EXTENSIONS = frozenset({".js", ".ts", ".jsx", ".tsx", ".mjs", ".cjs", ".vue", ".nvue", ".wxml", ".axml",
                               ".ttml", ".swan", ".qml", ".json", ".html", ".wxs", ".sjs", ".txt", ".md"})
MAX_FILES = 20_000
MAX_FILE_BYTES = 16 * 1024 * 1024
_TARO_INFOS = re.compile(r"requiredPrivateInfos\s*:\s*\[([^\]]{0,2000})\]")
_TARO_DESC = re.compile(r"""['"]?(scope\.\w+)['"]?\s*:\s*\{\s*desc\s*:\s*(['"`])(.{0,500}?)\2""")
_QUOTED = re.compile(r"""['"`](\w+)['"`]""")


def is_source_folder(path: str) -> bool:
    """A folder with a mini-program project's marker file."""
    return any(os.path.isfile(os.path.join(path, marker)) for marker in MARKERS)


def walk(root: str) -> Iterator[str]:
    """The regular files of a folder, in a stable order. A symlink that leads outside the folder and a
    FIFO, socket or device are never yielded: a package is what its folder holds, and reading a special
    file can wait forever or never end (/dev/zero)."""
    count = 0
    inside = os.path.realpath(root)
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        for name in sorted(files):
            count += 1
            if count > MAX_FILES:
                return
            path = os.path.join(folder, name)
            if _regular_inside(path, inside):
                yield path


def _regular_inside(path: str, root: str) -> bool:
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return False
    except OSError:
        return False
    if not os.path.islink(path) and not os.path.islink(os.path.dirname(path)):
        return True
    real = os.path.realpath(path)
    return os.path.commonpath((real, root)) == root


def sniff(probe: Probe) -> bool:
    """A folder with a project marker file."""
    return probe.is_dir and is_source_folder(probe.path)


def parse(source: Source, options: ParseOptions) -> Package:
    """A mini-program source project."""
    path = source.path
    texts, anomalies = read_pages(path, options.limits)
    project = json_file(path, "project.config.json") or {}
    manifest = json_file(path, "manifest.json") or json_file(path, "src/manifest.json")
    weixin = manifest.get("mp-weixin") if isinstance(manifest, dict) else None
    info = PackageInfo(
        path=path, format="miniprogram-source", sha256=digest([]),
        app_id=_first_str(project.get("appid"), (weixin or {}).get("appid") if isinstance(weixin, dict) else None,
                          project.get("tt_appid")),
        app_name=_first_str(project.get("projectname"), (manifest or {}).get("name")),
        version=_first_str((manifest or {}).get("versionName")),
    )
    return Package(info, PackageKind.MINIPROGRAM, (), tuple(texts), tuple(anomalies), _source_privacy(path, weixin))


def _source_privacy(path: str, weixin: object) -> PrivacyConfig | None:
    for rel in ("app.json", "ext.json", "src/app.json", "miniprogram/app.json"):
        config = json_file(path, rel)
        if config is not None:
            return wxapkg.config_from_json(config, rel)
    if isinstance(weixin, dict):
        return wxapkg.config_from_json(weixin, "manifest.json (mp-weixin)")
    for rel in ("src/app.config.ts", "src/app.config.js"):
        text = read_text(os.path.join(path, rel))
        if text is not None:
            return _taro_privacy(text, rel)
    return None


def _taro_privacy(source: str, member: str) -> PrivacyConfig:
    """Taro's app.config is code; the two keys are literal in practice, so they are read by pattern."""
    infos_match = _TARO_INFOS.search(source)
    infos = tuple(_QUOTED.findall(infos_match.group(1))) if infos_match else ()
    descs = tuple((m.group(1), m.group(3)) for m in _TARO_DESC.finditer(source))
    return PrivacyConfig(member, infos, descs)


def read_pages(path: str, limits: Limits) -> tuple[list[Text], list[Anomaly]]:
    """Every source file of a folder as a page, under the package cap as a zip's members are: past it
    the rest is not read (PKG003)."""
    texts: list[Text] = []
    spent = 0
    for file_path in walk(path):
        rel = os.path.relpath(file_path, path).replace(os.sep, "/")
        if os.path.splitext(rel)[1].lower() not in SOURCE_EXTENSIONS:
            continue
        text = read_text(file_path)
        if not text:
            continue
        spent += len(text)
        if spent > limits.package_bytes:
            return texts, [Anomaly(AnomalyKind.LIMIT, rel, msg("the folder's files pass the {package_bytes}-byte "
                                                               "package cap: from here on not read",
                                                               package_bytes=limits.package_bytes))]
        texts.append(Text(text, Location(rel, "page", "")))
    return texts, []


def read_text(file_path: str) -> str | None:
    """A regular file's text, at most MAX_FILE_BYTES read whatever its size claims (a device such as
    /dev/zero claims none and never ends; a FIFO would wait for ever: neither is opened)."""
    try:
        data = read_capped(file_path, MAX_FILE_BYTES)  # OSError for what is not a regular file
    except OSError:
        return None
    return None if data is None else textdecode.file_text(file_path, data)


MAX_JSON_BYTES = 1 << 20
"""A project's JSON config files (app.json, manifest.json …) run to a few KB."""


def json_file(root: str, rel: str) -> dict[str, Any] | None:
    """A JSON object from a config file of the folder (comments allowed, as uni-app writes them); None
    when it is missing, not an object, larger than MAX_JSON_BYTES, or not inside the folder."""
    file_path = os.path.join(root, rel)
    if not _regular_inside(file_path, os.path.realpath(root)) or os.path.getsize(file_path) > MAX_JSON_BYTES:
        return None
    text = read_text(file_path)
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        try:
            value = json.loads(_strip_json_comments(text))
        except (ValueError, RecursionError):
            return None
    except RecursionError:
        return None
    return value if isinstance(value, dict) else None


def _strip_json_comments(text: str) -> str:
    """uni-app's manifest.json and pages.json allow // and /* */ comments (outside strings). One pass:
    a pattern with a lazy /* … */ and a string alternative rescanned to the end for every unclosed one
    (a file of "/*" repeated was quadratic)."""
    out: list[str] = []
    i, n, start = 0, len(text), 0
    while i < n:
        ch = text[i]
        if ch == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            i = j + 1
        elif text.startswith("//", i) or text.startswith("/*", i):
            out.append(text[start:i])
            close = text.find("\n", i) if text[i + 1] == "/" else text.find("*/", i + 2)
            i = n if close < 0 else (close if text[i + 1] == "/" else close + 2)
            start = i
        else:
            i += 1
    out.append(text[start:])
    return "".join(out)


def _first_str(*values: object) -> str | None:
    for value in values:
        if isinstance(value, str) and value:
            return value
    return None


def digest(files: list[str]) -> str:
    """A folder's identity: the hash of its packages' hashes (empty for a source tree)."""
    sha = hashlib.sha256()
    for file_path in files:
        with open(file_path, "rb") as handle:
            sha.update(hashlib.file_digest(handle, "sha256").digest())
    return sha.hexdigest()
