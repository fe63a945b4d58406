"""PKG001 package-unreadable, PKG002 package-encrypted and PKG006 package-scan-aborted: the package could
not be scanned.

These are not checks of a package's content: the engine reports them when a parser refuses the input,
as an error result (exit code 3), never as a silent pass and never as a traceback.

PKG001 FAIL: a truncated APK, random bytes, a zip without AndroidManifest.xml.
PKG002 FAIL: a PC-client ``V1MMWX`` wxapkg scanned without its appid.
PKG006 FAIL: in a batch, a package whose scan ran past ``--timeout`` or ``--max-memory``, or whose worker
process died (the worker is replaced and the batch goes on).
"""

from __future__ import annotations

from scanner.i18n import N_
from scanner.model import RuleId, RuleMeta, Severity

UNREADABLE = RuleMeta(
    id=RuleId("PKG001"),
    doc=__doc__ or "",
    name="package-unreadable",
    severity=Severity.ERROR,
    summary=N_("Not a valid package of any supported format"),
    fix=N_("Check that the file is a complete, supported package (APK, wxapkg, rpk …)."),
)

ENCRYPTED = RuleMeta(
    id=RuleId("PKG002"),
    doc=__doc__ or "",
    name="package-encrypted",
    severity=Severity.ERROR,
    summary=N_("Encrypted package and no key"),
    fix=N_("Pass the key (for PC WeChat packages: --wxid wx…, the mini-program's appid)."),
)

ABORTED = RuleMeta(
    id=RuleId("PKG006"),
    doc=__doc__ or "",
    name="package-scan-aborted",
    severity=Severity.ERROR,
    summary=N_("The scan was stopped: time or memory limit, or the worker died"),
    fix=N_("Scan the package on its own to see why; raise --timeout / --max-memory if it is merely large."),
)
