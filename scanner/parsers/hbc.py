"""A Hermes bundle on its own (``index.android.bundle`` / ``main.jsbundle`` taken out of an app, as a
React Native build writes it): the string table is the app's text; there is no manifest, so no app id
and no permissions.

Format: scanner.extract.hermes (facebook/hermes BytecodeFileFormat.h, versions 59 to 99).
"""

from __future__ import annotations

import os

from scanner.extract import hermes
from scanner.i18n import msg
from scanner.model import Package, PackageInfo, PackageKind, ParseOptions
from scanner.parsers import surfaces
from scanner.parsers.common import PackageUnreadable, Probe, Source, file_sha256


def sniff(probe: Probe) -> bool:
    """A file that starts with the Hermes bytecode magic."""
    return not probe.is_dir and hermes.is_hermes(probe.head)


def parse(source: Source, options: ParseOptions) -> Package:
    """Read the bundle's string table (bounded by the member-size cap: it is read whole)."""
    path = source.path
    size = os.path.getsize(path)
    if size > options.limits.member_bytes:
        raise PackageUnreadable(msg("Hermes bundle of {size} bytes is over the {member_bytes}-byte cap",
                                    size=size, member_bytes=options.limits.member_bytes))
    with open(path, "rb") as handle:
        data = handle.read()
    name = os.path.basename(path)
    try:
        texts = tuple(surfaces.hermes_texts(name, data, surfaces.prefilter_of(options)))
    except hermes.HermesError as exc:
        raise PackageUnreadable(msg("Hermes bundle unreadable: {exc}", exc=exc)) from exc
    info = PackageInfo(path=path, format="hermes", sha256=file_sha256(path))
    return Package(info, PackageKind.APP, (), texts, ())
