"""Folders of built wxapkg files: a main package with its subpackages and plugins is one mini-program.

The PC client keeps every app it opened under ``…/Applet/{appid}/{version}/``: a folder with several
appids is split into one source per app (``split``), each scanned as its own mini-program.
"""

from __future__ import annotations

import os
from dataclasses import replace

from scanner.i18n import msg
from scanner.model import Anomaly, Package, PackageInfo, PackageKind, ParseOptions, PrivacyConfig, Text
from scanner.parsers import wxapkg
from scanner.parsers.common import PackageUnreadable, Probe, Source
from scanner.parsers.miniprogram_dir import digest, walk


def sniff(probe: Probe) -> bool:
    """A folder that holds wxapkg files (by content)."""
    return probe.is_dir and bool(wxapkg_files(probe.path))


def wxapkg_files(path: str) -> list[str]:
    """The wxapkg packages (by content) directly inside or below a folder, in a stable order."""
    found = []
    for file_path in walk(path):
        try:
            with open(file_path, "rb") as handle:
                head = handle.read(14)
        except OSError:
            continue
        if wxapkg.is_wxapkg(head):
            found.append(file_path)
    return found


def split(source: Source, options: ParseOptions) -> tuple[Source, ...]:
    """One source per mini-program of the folder (one for the whole folder when it holds one app)."""
    groups = app_groups(wxapkg_files(source.path), options.wxid)
    if len(groups) <= 1:
        return (source,)
    return tuple(Source(source.path, tuple(files), appid) for appid, files in groups)


def app_groups(files: list[str], wxid: str | None) -> list[tuple[str | None, list[str]]]:
    """The wxapkg files of a folder by mini-program: the PC client keeps each app under
    ``…/Applet/{appid}/``, so the appid in each file's path groups a main package with its subpackages
    and plugins. ``--wxid`` says the whole folder is one app. Files without an appid in their path
    form one group of their own."""
    if wxid:
        return [(wxid, files)]
    groups: dict[str | None, list[str]] = {}
    for file_path in files:
        groups.setdefault(wxapkg.appid_from_path(file_path), []).append(file_path)
    return list(groups.items())


def parse(source: Source, options: ParseOptions) -> Package:
    """Main package, subpackages and plugins as one mini-program: one result, texts from all."""
    path = source.path
    files = list(source.members) or wxapkg_files(path)
    wxid = source.appid or options.wxid
    texts: list[Text] = []
    anomalies: list[Anomaly] = []
    privacy: PrivacyConfig | None = None
    appid = wxid
    for file_path in files:
        try:
            data, found_appid = wxapkg.load(file_path, wxid, options.limits)
        except PackageUnreadable as exc:  # name the file: a folder holds many
            raise type(exc)(msg("{file}: {reason}", file=os.path.relpath(file_path, path), reason=exc.message)) from exc
        appid = appid or found_appid
        prefix = os.path.relpath(file_path, path).replace(os.sep, "/") + "!"
        entries, found = wxapkg.readable(wxapkg.read_index(data), len(data), options.limits)
        anomalies.extend(replace(a, member=prefix + a.member) for a in found)
        texts.extend(wxapkg.member_texts(data, entries, prefix))
        privacy = privacy or wxapkg.privacy_config(data, entries, prefix)
    info = PackageInfo(path=path, format="wxapkg-folder", sha256=digest(files), app_id=appid)
    return Package(info, PackageKind.MINIPROGRAM, (), tuple(texts), tuple(anomalies), privacy)
