"""PKG005 package-binary-encrypted: code of the package is encrypted and the text it shows could not be read.

"Could not verify", not "non-compliant": the rest of the package is scanned, and what could not be read
is said, so a number shown only by that code cannot be found and the scan is incomplete, not clean.

- iOS: an App Store build's executable carries ``LC_ENCRYPTION_INFO(_64)`` with ``cryptid`` 1
  (FairPlay); the encrypted range of its ``__TEXT`` segment, where string literals live, is unreadable
  without the device's key.
- Android, hardened (加固): the manifest's application class is a protector's stub (360加固, 腾讯乐固,
  梆梆, 爱加密, 百度 …) and the app's DEX ships encrypted in the protector's payload
  (scanner.facts.protection; the protectors and their evidence are in scanner/facts/data/protectors.json).
- Any package: a code file (``.dex``, ``.jar``, ``.apk``) that is neither DEX nor zip is a payload
  decrypted at run time.

Sources: <mach-o/loader.h> (``struct encryption_info_command``,
https://github.com/apple-oss-distributions/xnu/blob/main/EXTERNAL_HEADERS/mach-o/loader.h); APKiD's
packer rules (https://github.com/rednaga/APKiD/blob/master/apkid/rules/apk/packers.yara).

PASS: an .ipa exported from Xcode (cryptid 0); an APK as the build tools sign it.
FAIL: an .ipa downloaded from the App Store (cryptid 1); an APK whose manifest names
``com.tencent.StubShell.TxAppEntry`` and that ships ``lib/armeabi/libshella-2.8.so``.
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.facts.protection import encrypted_members
from scanner.i18n import N_, msg
from scanner.model import Facts, Finding, Location, Options, Package, RuleId, RuleMeta, Severity

RULE = RuleMeta(
    doc=__doc__ or "",
    id=RuleId("PKG005"),
    name="package-binary-encrypted",
    severity=Severity.ERROR,
    summary=N_("Code is encrypted (App Store FairPlay, a hardening protector, a payload decrypted at run time) "
    "and the text it shows could not be read: the scan is incomplete"),
    fix=N_("Scan the build before encryption: the .ipa Xcode exports, the APK before hardening (加固) or "
    "the protector's unprotected input; a reviewer checks the running app's about page for the rest."),
)


def check(package: Package, facts: Facts, options: Options) -> Iterator[Finding]:
    """One finding for a protector's stub, one per encrypted binary or payload it does not cover."""
    shield = facts.protection
    if shield is not None:
        shown = [shield.stub.rsplit(".", 1)[-1], *(p.rsplit("/", 1)[-1] for p in shield.payloads[:1])]
        yield Finding(RULE.id, msg("the app's code is encrypted by {name} ({name_en}: {shown}): text shown by code "
                                   "could not be read; resources were read",
                                   name=shield.name, name_en=shield.name_en, shown=", ".join(shown)),
                      shield.location, shield.evidence)
    for anomaly in encrypted_members(package, facts):
        yield Finding(RULE.id, msg("{member}: {detail}", member=anomaly.member, detail=anomaly.detail),
                      Location(anomaly.member, "native", ""),
                      (anomaly.detail,))
