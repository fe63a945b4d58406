"""Mini-programs unpacked from a wxapkg into a folder (by the common unpackers): the compiled package's
files, ``app-config.json``, ``app-service.js`` (sometimes split per page) and ``page-frame.html``, but
no ``app.json``. Read as the package they came from: the same texts and the same privacy keys of the
compiled app config (filing-rules.md §3.2: requiredPrivateInfos, permission.scope.*.desc).
"""

from __future__ import annotations

import os

from scanner.model import Package, PackageInfo, PackageKind, ParseOptions
from scanner.parsers import miniprogram_dir, wxapkg
from scanner.parsers.common import Probe, Source

CONFIG = "app-config.json"
CODE_MARKERS = ("app-service.js", "page-frame.html", "appservice.app.js", "app-wxss.js")


def is_unpacked(path: str) -> bool:
    """A folder with the compiled app config and the compiled code of a mini-program."""
    return os.path.isfile(os.path.join(path, CONFIG)) and any(
        os.path.isfile(os.path.join(path, marker)) for marker in CODE_MARKERS)


def sniff(probe: Probe) -> bool:
    """An unpacked mini-program folder (a source project, with app.json, is read as the source)."""
    return probe.is_dir and is_unpacked(probe.path) and not miniprogram_dir.is_source_folder(probe.path)


def parse(source: Source, options: ParseOptions) -> Package:
    """Every text file of the folder as a page, and the privacy keys of app-config.json."""
    path = source.path
    texts, anomalies = miniprogram_dir.read_pages(path, options.limits)
    config = miniprogram_dir.json_file(path, CONFIG)
    privacy = wxapkg.config_from_json(config, CONFIG) if config is not None else None
    # Unpackers name the folder for the package, and the PC client's appid is in its path.
    appid = wxapkg.appid_from_path(os.path.abspath(path))
    info = PackageInfo(path=path, format="miniprogram-unpacked", sha256=miniprogram_dir.digest([]), app_id=appid)
    return Package(info, PackageKind.MINIPROGRAM, (), tuple(texts), tuple(anomalies), privacy)
