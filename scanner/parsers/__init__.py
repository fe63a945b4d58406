"""The parsers: one module per format and the table that maps each detected format to its parser.

Detection is by content, never by file name: each row's ``sniff`` looks at a Probe (the first bytes,
the member names of a zip, whether the path is a folder), and the first row that recognizes the path
parses it. Adding a format is one module (``sniff`` + ``parse``, the contract in
scanner.parsers.common) and one row here. No parser module imports from this package's ``__init__``:
what they share lives in scanner.parsers.common.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import cast

from scanner.i18n import msg
from scanner.model import Package, ParseOptions
from scanner.parsers import apk
from scanner.parsers.common import PackageEncrypted, PackageUnreadable, Probe, Source, file_sha256, probe
from scanner.parsers.zipread import shared_directories

__all__ = [
    "PACKAGE_FORMATS",
    "Format",
    "PackageEncrypted",
    "PackageUnreadable",
    "Source",
    "detect",
    "file_sha256",
    "is_package_folder",
    "package_sources",
    "parse",
    "shared_directories",
]

HARMONY_MARKERS = ("config.json", "pack.info")


@dataclass(frozen=True, slots=True)
class Format:
    """One row of the table: a format, how to recognize it, how to read it, and (for a folder that can
    hold several apps) how to split it into one source per app."""

    name: str
    sniff: Callable[[Probe], bool]
    parse: Callable[[Source, ParseOptions], Package]
    split: Callable[[Source, ParseOptions], tuple[Source, ...]] | None = None
    module: str | None = None
    """The parser module a lazy row imports on first use (``_lazy``); None for a row given its functions."""


def _function(module: str, name: str) -> Callable[..., object]:
    return getattr(importlib.import_module(f"scanner.parsers.{module}"), name)


def _lazy(name: str, module: str, sniff: str = "sniff", parse: str = "parse",
          when: Callable[[Probe], bool] | None = None, split: bool = False) -> Format:
    """A row whose module is imported on first use: the rows after ``apk`` are never reached when
    scanning an APK (the commonest package), and the rows before it are asked only when ``when`` (what
    any package of theirs must be: a folder, not a zip) holds, so a scan does not pay for importing them."""
    return Format(name, _sniff_later(module, sniff, when), _parse_later(module, parse),
                  _split_later(module) if split else None, f"scanner.parsers.{module}")


def _sniff_later(module: str, name: str = "sniff", when: Callable[[Probe], bool] | None = None
                 ) -> Callable[[Probe], bool]:
    """A format's ``sniff``, its module imported on first use (see ``_lazy``)."""

    def sniff(found: Probe) -> bool:
        return (when is None or when(found)) and bool(_function(module, name)(found))

    return sniff


def _folder(found: Probe) -> bool:
    return found.is_dir


def _file_not_zip(found: Probe) -> bool:
    # wxapkg (0xBE … 0xED, or V1MMWX) and TPKG have magics of their own: a zip is never one of them.
    return not found.is_dir and found.zip_names is None


def _bundle_config(found: Probe) -> bool:
    # An App Bundle's root holds BundleConfig.pb (bundletool's format): a zip without it is never asked
    # for its modules, so detecting any other zip does not import the bundle reader (and protobuf).
    return found.zip_names is not None and "BundleConfig.pb" in found.zip_names


def _parse_later(module: str, name: str = "parse") -> Callable[[Source, ParseOptions], Package]:
    """A format's ``parse``, its module imported on first use (see ``_sniff_later``)."""

    def parse(source: Source, options: ParseOptions) -> Package:
        return cast(Package, _function(module, name)(source, options))

    return parse


def _split_later(module: str) -> Callable[[Source, ParseOptions], tuple[Source, ...]]:
    """A folder format's ``split``, its module imported on first use (see ``_sniff_later``)."""

    def split(source: Source, options: ParseOptions) -> tuple[Source, ...]:
        return cast(tuple[Source, ...], _function(module, "split")(source, options))

    return split


PACKAGE_FORMATS: tuple[Format, ...] = (
    _lazy("miniprogram-source", "miniprogram_dir", when=_folder),
    _lazy("miniprogram-unpacked", "miniprogram_unpacked", when=_folder),
    _lazy("wxapkg-folder", "wxapkg_folder", when=_folder, split=True),
    _lazy("wxapkg", "wxapkg", when=_file_not_zip),
    _lazy("tpkg", "tpkg", when=_file_not_zip),
    Format("apk", apk.sniff, apk.parse),
    _lazy("aab", "aab", when=_bundle_config),
    _lazy("apk-set", "bundle"),
    _lazy("hap", "hap"),
    _lazy("app-pack", "hap", "sniff_pack", "parse_pack"),
    _lazy("ipa", "ipa"),
    _lazy("rpk", "rpk"),
    _lazy("hermes", "hbc"),
)
"""In order: the first row whose ``sniff`` accepts a path reads it."""

LAZY_MODULES: tuple[str, ...] = tuple(dict.fromkeys(f.module for f in PACKAGE_FORMATS if f.module))
"""The parser modules the rows import on first use: a process that scans many packages of any format
(a batch's forkserver) imports them once, up front, instead of once per forked worker."""


def detect(path: str, formats: tuple[Format, ...] = PACKAGE_FORMATS) -> Format:
    """The format of ``path``, or PackageUnreadable saying what it is instead."""
    found = probe(path)
    for fmt in formats:
        if fmt.sniff(found):
            return fmt
    raise PackageUnreadable(_unsupported(found))


def _unsupported(found: Probe) -> str:
    if found.is_dir:
        return (msg("folder is neither a mini-program source project (app.json, project.config.json, pages.json …), "
                    "nor an unpacked mini-program (app-config.json with app-service.js or page-frame.html), nor a "
                    "folder of wxapkg packages"))
    if found.zip_names is not None:
        if found.zip_names & set(HARMONY_MARKERS):
            return msg("HarmonyOS FA-model package (config.json, HarmonyOS 2/3): not supported; stage-model packages "
                       "are")
        return msg("zip archive without AndroidManifest.xml or manifest.json: not an APK or quick app")
    return msg("not a supported package (starts with {value}: not a zip, wxapkg or TPKG)", value=found.head[:4].hex())


def is_package_folder(path: str, formats: tuple[Format, ...] = PACKAGE_FORMATS) -> bool:
    """Whether a folder is a package some format reads (the command line refuses other folders)."""
    try:
        detect(path, formats)
    except PackageUnreadable:
        return False
    return True


def package_sources(path: str, options: ParseOptions, formats: tuple[Format, ...] = PACKAGE_FORMATS
                    ) -> tuple[Source, ...]:
    """What one path given by the user holds: itself, or one source per app of a folder that holds
    several (the PC client's Applet folder). A path no format reads is one source (it fails in parse)."""
    try:
        fmt = detect(path, formats)
    except PackageUnreadable:
        return (Source(path),)
    found = Source(path, format=fmt.name)
    if fmt.split is None:
        return (found,)
    return tuple(replace(s, format=fmt.name) for s in fmt.split(found, options))


def parse(source: str | Source, options: ParseOptions | None = None,
          formats: tuple[Format, ...] = PACKAGE_FORMATS) -> Package:
    """Read a package; PackageUnreadable / PackageEncrypted for anything that cannot be read. The
    options carry the prefilter (scanner.engine.parse_options builds it from the catalogs)."""
    source = Source(source) if isinstance(source, str) else source
    options = options or ParseOptions()
    if options.prefilter is None:
        raise ValueError("ParseOptions.prefilter is not set (scanner.engine.parse_options builds it)")
    known = next((f for f in formats if f.name == source.format), None) if source.format else None
    with shared_directories():  # detection and the parser read the zip directory once between them
        return (known or detect(source.path, formats)).parse(source, options)
