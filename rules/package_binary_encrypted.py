"""PKG005 package-binary-encrypted: a binary of the package is encrypted and its text could not be read.

An App Store build's executable carries ``LC_ENCRYPTION_INFO(_64)`` with ``cryptid`` 1 (FairPlay): the
encrypted range of its ``__TEXT`` segment, where string literals live, is unreadable without the
device's key. The rest of the package is scanned, and what could not be read is said: a number shown
only by code in that binary cannot be found, so the scan is incomplete, not clean.

Sources: <mach-o/loader.h> (``struct encryption_info_command``,
https://github.com/apple-oss-distributions/xnu/blob/main/EXTERNAL_HEADERS/mach-o/loader.h).

PASS: an .ipa exported from Xcode (ad hoc, enterprise, development: cryptid 0).
FAIL: an .ipa downloaded from the App Store (cryptid 1).
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.model import AnomalyKind, Facts, Finding, Location, Options, Package, RuleId, RuleMeta, Severity

RULE = RuleMeta(
    doc=__doc__ or "",
    id=RuleId("PKG005"),
    name="package-binary-encrypted",
    severity=Severity.ERROR,
    summary="A binary is encrypted (App Store FairPlay) and its text could not be read: the scan is incomplete",
    fix="Scan the build before App Store encryption (the .ipa Xcode exports), or a decrypted binary.",
    formats=frozenset({"ipa"}),
)


def check(package: Package, facts: Facts, options: Options) -> Iterator[Finding]:
    """One finding per encrypted binary."""
    for anomaly in package.anomalies:
        if anomaly.kind is AnomalyKind.ENCRYPTED:
            yield Finding(RULE.id, f"{anomaly.member}: {anomaly.detail}", Location(anomaly.member, "native", ""),
                          (anomaly.detail,))
