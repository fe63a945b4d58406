"""Recognize the protector (加固) of a hardened Android package, and what the package leaves unread.

A hardened APK's manifest names the protector's stub as its application class; the stub decrypts the
app's real DEX at run time, so text its code shows cannot be read here. The catalog
(scanner/facts/data/protectors.json, each entry with its public sources) lists each protector's stubs and
payload files. Recognition asks evidence that holds together: the application class, or a superclass a
DEX file of the package defines (Legu 4.x subclasses its stub in the app's own package), is a stub, and
a payload is present or the app's own components are missing from the readable DEX. File names alone
never suffice, and a package whose every component is in its DEX has readable code, whatever it names.
"""

from __future__ import annotations

import fnmatch
import functools
from dataclasses import dataclass

from scanner.catalogs import load
from scanner.i18n import joined, msg
from scanner.model import AndroidCode, Anomaly, AnomalyKind, Facts, Location, Package, Protection

EVERYWHERE = msg("in any text of the package")
SUPERCLASS_STEPS = 8
MAX_EVIDENCE_FILES = 3


@dataclass(frozen=True, slots=True)
class Protector:
    """One catalog entry."""

    id: str
    name: str
    name_en: str
    stubs: tuple[str, ...]
    payloads: tuple[str, ...]


@functools.cache
def protectors() -> tuple[Protector, ...]:
    """The catalog's protectors, in catalog order."""
    return tuple(Protector(p["id"], p["name"], p["name_en"], tuple(p["stubs"]), tuple(p["payloads"]))
                 for p in load("protectors")["protectors"])


def protection(package: Package) -> Protection | None:
    """The protector whose stub the package runs, when the evidence holds together; else None."""
    code = package.code
    if code is None or not code.application:
        return None
    chain = application_chain(code)
    # Globs name members of an APK; an APK set names them within their APK (base.apk!lib/…).
    members = [(m, m.rsplit("!", 1)[-1]) for m in package.members]
    for entry in protectors():
        stub = next((c for c in chain if is_stub(c, entry.stubs)), None)
        if stub is None:
            continue
        payloads = [m for m, inner in members if any(fnmatch.fnmatchcase(inner, g) for g in entry.payloads)]
        own = [c for c in code.components if not c.startswith(_package_of(stub) + ".")]
        missing = [c for c in own if c not in dict(code.defined)] if code.complete else []
        if code.complete and own and not missing:
            return None  # the app's own code is all there to read: whatever it names, it is not hidden
        if not payloads and not missing:
            return None
        return Protection(entry.id, entry.name, entry.name_en, stub, tuple(payloads), tuple(missing),
                          _evidence(code.application, stub, payloads, missing, own),
                          Location("AndroidManifest.xml", "manifest", "application@android:name"))
    return None


def application_chain(code: AndroidCode) -> tuple[str, ...]:
    """The application class and its superclasses as far as the DEX files define them."""
    supers = dict(code.defined)
    chain = [code.application]
    while len(chain) <= SUPERCLASS_STEPS and supers.get(chain[-1]) and supers[chain[-1]] not in chain:
        chain.append(supers[chain[-1]])
    return tuple(chain)


def is_stub(name: str, stubs: tuple[str, ...]) -> bool:
    """Whether a class name is one of the stubs (a stub ending in ``*`` is a prefix followed by digits:
    360 names its stub ``StubApp`` plus a number per build)."""
    for stub in stubs:
        if stub.endswith("*"):
            rest = name[len(stub) - 1:]
            if name.startswith(stub[:-1]) and (not rest or rest.isdigit()):
                return True
        elif name == stub:
            return True
    return False


def encrypted_members(package: Package, facts: Facts) -> tuple[Anomaly, ...]:
    """The members that are encrypted (an App Store binary, a payload decrypted at run time), but for
    the payloads the protector's evidence names already."""
    payloads = set(facts.protection.payloads) if facts.protection else set()
    return tuple(a for a in package.anomalies if a.kind is AnomalyKind.ENCRYPTED and a.member not in payloads)


def unread(package: Package, facts: Facts) -> tuple[str, ...]:
    """What could not be read, each as a clause, for the rules that say where they searched: the code a
    protector encrypted, and the encrypted members."""
    parts = [msg("the app's code is encrypted by {name}", name=facts.protection.name)] if facts.protection else []
    parts.extend(msg("{member} is encrypted", member=a.member) for a in encrypted_members(package, facts))
    return tuple(parts)


def searched(package: Package, facts: Facts) -> str:
    """Where a search for the filing number or link went: every text, or the readable parts only, with
    what was not read named (FIL001, LNK001: "could not verify" is not "non-compliant")."""
    parts = unread(package, facts)
    if not parts:
        return EVERYWHERE
    if len(parts) == 1:
        return msg("in the readable parts of the package ({part} and could not be read)", part=parts[0])
    return msg("in the readable parts of the package ({parts}: they could not be read)", parts=joined(parts))


def _package_of(name: str) -> str:
    return name.rsplit(".", 1)[0] if "." in name else name


def _evidence(application: str, stub: str, payloads: list[str], missing: list[str], own: list[str]
              ) -> tuple[str, ...]:
    head = application if stub == application else f"{application} extends {stub}"
    found = [f"application class {head}", *payloads[:MAX_EVIDENCE_FILES]]
    if len(payloads) > MAX_EVIDENCE_FILES:
        found.append(f"{len(payloads) - MAX_EVIDENCE_FILES} more payload files")
    if missing:
        found.append(f"{len(missing)} of {len(own)} components the manifest names are in no DEX file "
                     f"({missing[0]})")
    return tuple(found)
