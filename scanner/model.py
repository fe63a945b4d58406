"""The data model: frozen values that cross every boundary (parser -> rules -> engine -> formatters)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NewType

if TYPE_CHECKING:
    from scanner.extract.prefilter import Prefilter

RuleId = NewType("RuleId", str)


class Severity(enum.IntEnum):
    """Finding severity; the order is what ``--fail-on`` compares."""

    NOTE = 1
    WARNING = 2
    ERROR = 3

    @property
    def label(self) -> str:
        """The lower-case name used in reports and on the command line."""
        return self.name.lower()

    @classmethod
    def parse(cls, value: str) -> Severity:
        """Read ``error`` / ``warning`` / ``note``."""
        return cls[value.upper()]


class PackageKind(enum.Enum):
    """What kind of service the package is, which decides the filing-number suffix it needs."""

    APP = "app"
    MINIPROGRAM = "miniprogram"
    QUICKAPP = "quickapp"


class NumberKind(enum.StrEnum):
    """What a filing-number-shaped string is (the JSON report's ``kind``)."""

    APP = "app"
    MINIPROGRAM = "miniprogram"
    QUICKAPP = "quickapp"
    WEBSITE = "website"
    ENTITY = "entity"
    LICENCE = "licence"
    PUBLIC_SECURITY = "public-security"
    ALGORITHM = "algorithm"
    """An algorithm filing of the Cyberspace Administration (网信算备…号, https://beian.cac.gov.cn/)."""
    GENERATIVE_AI = "generative-ai"
    """A generative-AI service filing of the Cyberspace Administration (``Beijing-YunQue-20230821``)."""


class LinkStatus(enum.StrEnum):
    """The verdict on a filing-system link (the JSON report's ``status``)."""

    OFFICIAL = "official"
    OUTDATED = "outdated"
    WRONG_SITE = "wrong-site"


class AnomalyKind(enum.StrEnum):
    """What a parser met: a cap it enforced (PKG003), a structural trick or an unreadable part (PKG004),
    or something a reviewer should see that is not wrong in itself (PKG004 at note severity)."""

    LIMIT = "limit"
    STRUCTURE = "structure"
    UNREADABLE = "unreadable"
    NOTE = "note"
    ENCRYPTED = "encrypted"
    """A part the store encrypted (an App Store binary, cryptid 1): its text could not be read (PKG005)."""


@dataclass(frozen=True, slots=True)
class Resource:
    """The resource a text is the value of (``@string/about_icp [zh-rCN]``, ``@array/perms[2] [default]``)."""

    type: str
    key: str
    qualifier: str
    """The configuration (``zh-rCN``, ``default``)."""
    item: int | None = None
    """Position inside a bag (string-array / plurals), None for a plain value."""


@dataclass(frozen=True, slots=True)
class Location:
    """Where a text was found: the package member, the kind of surface, and the position inside it.

    The position is typed (a DEX string id, a byte offset, a line, the resource, the page module) and
    ``place`` says the rest in words; ``pointer`` renders them as the reports show them. The ids, offsets
    and lines change with every build, so a finding's fingerprint reads ``stable`` (the pointer without
    them: a rebuilt package keeps its findings' identities, detect-secrets' way), never the rendered text."""

    member: str
    """Path of the member inside the package, e.g. ``resources.arsc`` or ``assets/www/app.js``."""
    kind: str
    """Surface: ``resource``, ``layout``, ``xml``, ``manifest``, ``dex``, ``asset``, ``native``, ``page``."""
    place: str = ""
    """The position in words, after any id or offset: ``@string/about_icp [zh-rCN]``, `` in Lcom/a;->b()``,
    `` beside "关于"``, ``hermes string 12``."""
    string_id: int | None = None
    """A DEX string's index in ``string_ids`` (rendered ``string_ids[N]`` before ``place``)."""
    offset: int | None = None
    """A byte offset in a binary member (rendered ``offset N`` before ``place``)."""
    line: int | None = None
    """The 1-based line of the member (rendered ``, line N`` after ``place``)."""
    module: str | None = None
    """The compiled mini-program page module around the line (rendered ``, in MODULE`` after the line)."""
    resource: Resource | None = None
    """The resource the text is the value of (resources.arsc), for tools that map it to a source file."""
    lead: str = ""
    """Words before the id (``assembled from `` string_ids[3]+[4] …)."""

    @property
    def pointer(self) -> str:
        """The position as reports show it: ``string_ids[40213] in Lcom/a;->b()``, ``line 12``."""
        return self._rendered(True)

    @property
    def stable(self) -> str:
        """The pointer without the positions that change with every build (ids, offsets, lines), each
        separator left as it was."""
        return self._rendered(False)

    def _rendered(self, positions: bool) -> str:
        head = (f"string_ids[{self.string_id}]" if self.string_id is not None
                else f"offset {self.offset}" if self.offset is not None else "")
        text = self.lead + (head if positions else "") + self.place
        if self.line is not None:
            line = f"line {self.line}" if positions else ""
            text = f"{text}, {line}" if self.lead or head or self.place else line
        return f"{text}, in {self.module}" if self.module else text

    @classmethod
    def read(cls, member: str, kind: str, pointer: str) -> Location:
        """The inverse of ``pointer``, for a location read back from a JSON report (a batch judges stored
        results again): the positions its renderer writes, taken back as they were written."""
        string_id = offset = line = None
        module = None
        lead, found, rest = pointer.partition("string_ids[")
        body = pointer
        if found and rest.partition("]")[0].isdigit():
            digits, _, body = rest.partition("]")
            string_id = int(digits)
        else:
            lead = ""
            if body.startswith("offset ") and body[7:8].isdigit():
                digits = body[7:len(body) - len(body[7:].lstrip("0123456789"))]
                offset, body = int(digits), body[7 + len(digits):]
        before, marker, after = body.rpartition("line ")
        number, _, tail = after.partition(",")
        head = lead or string_id is not None or offset is not None
        if marker and number.isdigit() and (before.endswith(", ") or (not before and not head)) \
                and (not tail or tail.startswith(" in ")):
            line, body = int(number), before[:-2]
            module = tail[4:] or None
        return cls(member, kind, body, string_id, offset, line, module, lead=lead)

    def describe(self) -> str:
        """One-line human form."""
        return f"{self.member} ({self.pointer})" if self.pointer else self.member

    def __reduce__(self) -> tuple[type[Location], tuple[object, ...]]:
        # Pickled by the tens of thousands (a helper's or a batch worker's texts): the constructor and its
        # arguments load in half the time of the generic reduction of a slotted dataclass.
        return Location, (self.member, self.kind, self.place, self.string_id, self.offset, self.line, self.module,
                          self.resource, self.lead)


@dataclass(frozen=True, slots=True)
class Text:
    """One extracted string and where it came from. ``value`` is decoded but not normalized."""

    value: str
    location: Location
    line: int = 1
    """The line of the member where ``value`` starts (a window of a large file starts further down)."""
    parts: tuple[str, ...] = ()
    """For a text assembled from literal pieces (code that concatenates or formats them), the pieces in
    order; ``value`` is their join. Only what spans two pieces is new: the rest is in the pieces' own texts."""

    def __reduce__(self) -> tuple[type[Text], tuple[object, ...]]:
        return Text, (self.value, self.location, self.line, self.parts)  # as Location.__reduce__


@dataclass(frozen=True, slots=True)
class Certificate:
    """One X.509 certificate as a filing form and a reviewer read it (scanner.extract.certs describes it)."""

    subject: str
    """RFC 4514 form, as ``apksigner verify --print-certs`` prints the DN (``CN=Various Tu, C=CN``)."""
    issuer: str
    serial: str
    """Hexadecimal, as ``keytool`` prints it."""
    not_before: str
    """ISO 8601 (UTC); empty when the certificate does not say."""
    not_after: str
    md5: str
    """Of the certificate's DER bytes, 32 lower-case hex digits (the filing form's 证书MD5指纹)."""
    sha1: str
    sha256: str
    key_algorithm: str
    """``RSA``, ``EC``, ``DSA``, ``Ed25519`` …"""
    key_size: int | None
    public_key: str
    """The SubjectPublicKeyInfo, base64 (the body of ``openssl x509 -pubkey``: the filing form's 公钥)."""
    public_key_sha256: str
    """Of the SubjectPublicKeyInfo DER (``apksigner``'s "public key SHA-256 digest")."""


@dataclass(frozen=True, slots=True)
class Signer:
    """One signer of a package: the certificate it signs with and the schemes it signs under."""

    certificate: Certificate
    schemes: tuple[str, ...]
    """``v1`` ``v2`` ``v3`` ``v3.1`` (APK), ``rpk`` (quick app), ``hap`` (HarmonyOS), ``cms`` (iOS code signature)."""
    chain: tuple[Certificate, ...] = ()
    """The other certificates the signature carries (intermediate and root CAs)."""
    lineage: tuple[Certificate, ...] = ()
    """APK v3 key rotation: the earlier signing certificates, oldest first (the current one is not repeated)."""


@dataclass(frozen=True, slots=True)
class Profile:
    """A provisioning profile the package carries: HarmonyOS's signed profile, iOS ``embedded.mobileprovision``."""

    kind: str
    """``harmonyos`` or ``mobileprovision``."""
    bundle: str | None
    """The bundle it is issued for (``bundle-info.bundle-name``; the application-identifier without its team)."""
    team: str | None
    """``bundle-info.developer-id`` / ``TeamIdentifier``."""
    type: str | None
    """``debug`` / ``release`` (HarmonyOS), ``development`` / ``distribution`` (iOS, from its entitlements)."""
    name: str | None
    expires: str | None
    certificates: tuple[Certificate, ...]
    """The developer certificates it allows to sign (``development-certificate`` / ``distribution-certificate``,
    ``DeveloperCertificates``)."""


@dataclass(frozen=True, slots=True)
class Identity:
    """The App特征信息 a package carries: who signed it, under which schemes, with which profile."""

    platform: str
    """``android``, ``quickapp``, ``harmonyos`` or ``ios``: the platform a filing records it for."""
    schemes: tuple[str, ...]
    """Every scheme the package is signed under (empty: unsigned)."""
    signers: tuple[Signer, ...]
    profile: Profile | None = None
    notes: tuple[str, ...] = ()
    """What a reader of the identity must know (a bundle re-signed by its store, an unsigned module …)."""
    member: str = ""
    """Where the signature lives (``APK Signing Block``, ``META-INF/CERT.RSA``, ``Payload/X.app/X``)."""

    @property
    def signed(self) -> bool:
        return bool(self.signers)

    def certificates(self) -> tuple[Certificate, ...]:
        """Every certificate that identifies the app: the signers', their lineage and the profile's."""
        found = [c for s in self.signers for c in (s.certificate, *s.lineage)]
        found += self.profile.certificates if self.profile else ()
        return tuple({c.sha256: c for c in found}.values())


@dataclass(frozen=True, slots=True)
class PackageInfo:
    """Identity of a package as its own metadata states it."""

    path: str
    format: str
    sha256: str
    app_id: str | None = None
    app_name: str | None = None
    version: str | None = None
    version_code: str | None = None
    target_sdk: str | None = None
    identity: Identity | None = None
    """The signing identity, for the formats that are signed (APK, AAB, quick app, HarmonyOS, iOS)."""


@dataclass(frozen=True, slots=True)
class Anomaly:
    """Something odd a parser met (see AnomalyKind), in which member, and what."""

    kind: AnomalyKind
    member: str
    detail: str


@dataclass(frozen=True, slots=True)
class Limits:
    """Caps that keep a hostile package bounded (each configurable; each hit is a PKG003 finding)."""

    member_bytes: int = 512 * 1024 * 1024
    """Inflated bytes of one member."""
    package_bytes: int = 2 * 1024 * 1024 * 1024
    """Inflated bytes of all members together."""
    ratio: int = 200
    """Inflated : compressed ratio above which a member is a zip bomb (deflate's own maximum is 1032)."""
    ratio_floor_bytes: int = 8 * 1024 * 1024
    """The ratio is judged only past this many inflated bytes (small members compress freely)."""
    ratio_read_bytes: int = 32 * 1024 * 1024
    """A member past the ratio is still read up to this many inflated bytes, and reported as a note:
    legitimate assets compress that well too (a zero-filled SQLite template, a sparse file). Past it,
    the member is a zip bomb (PKG003); the absolute caps above stay the hard guard."""
    members: int = 100_000
    """Entries of one archive."""
    depth: int = 2
    """Nesting of packages inside packages (APK in an APK set, package in a folder)."""


@dataclass(frozen=True, slots=True)
class PrivacyConfig:
    """A mini-program's privacy declarations from app.json / app-config.json / ext.json (as written)."""

    member: str
    """The file they were read from."""
    required_private_infos: tuple[str, ...] = ()
    permission_descs: tuple[tuple[str, str], ...] = ()
    """(scope, desc) pairs of the ``permission`` object, e.g. ("scope.userLocation", "用于…")."""


@dataclass(frozen=True, slots=True)
class Purpose:
    """The purpose a package states for a permission in the platform's own place: a HarmonyOS
    ``requestPermissions[].reason`` (``$string:…``, resolved per qualifier), an iOS
    ``NS…UsageDescription`` (Info.plist, localized by ``InfoPlist.strings``)."""

    permission: str
    """``ohos.permission.CAMERA``; for iOS the purpose key itself (``NSCameraUsageDescription``)."""
    reference: str
    """As written: ``$string:camera_reason``, or the plist key; "" when no purpose is given."""
    values: tuple[tuple[str, str], ...]
    """(qualifier, text): ``base`` / ``zh_CN`` / ``en_US`` (HarmonyOS), ``Info.plist`` / ``zh-Hans`` (iOS)."""
    location: Location
    resolved: bool = True
    """False when the reference names no resource."""
    scene: str = ""
    """HarmonyOS ``usedScene.when`` (``inuse`` / ``always``), "" when not given."""


@dataclass(frozen=True, slots=True)
class DexFile:
    """One DEX file of an Android package: its size in strings and classes, as its header states."""

    member: str
    strings: int
    classes: int


@dataclass(frozen=True, slots=True)
class AndroidCode:
    """An Android package's code as its manifest names it and as its DEX files hold it (read by
    scanner.facts.protection: a hardened app names a protector's stub and ships the rest encrypted)."""

    application: str = ""
    """The manifest's ``application@android:name``, resolved against the package ("" when none)."""
    components: tuple[str, ...] = ()
    """Activity, service, receiver and provider classes the manifest names, resolved, in order."""
    defined: tuple[tuple[str, str], ...] = ()
    """(class, superclass) for each of those classes (and the application's superclasses) that a DEX
    file of the package defines."""
    dex: tuple[DexFile, ...] = ()
    """The DEX files whose classes were looked up."""
    complete: bool = True
    """False when some DEX file was too large or unreadable for the lookup: a class not in ``defined``
    may then still be in the package."""


@dataclass(frozen=True, slots=True)
class Package:
    """What a parser returns: identity, requested permissions and every text with its provenance."""

    info: PackageInfo
    kind: PackageKind
    permissions: tuple[str, ...] = ()
    texts: tuple[Text, ...] = ()
    anomalies: tuple[Anomaly, ...] = ()
    """What the parser met: caps enforced, structural tricks, parts it could not read."""
    privacy: PrivacyConfig | None = None
    """Mini-programs only: the privacy configuration, None when the package has no app config."""
    purposes: tuple[Purpose, ...] | None = None
    """HarmonyOS and iOS: the purpose each requested permission states (None: a platform without
    purpose strings, such as Android, whose permission scope is judged from the declaration texts)."""
    uses: tuple[tuple[str, str], ...] = ()
    """iOS: (purpose key, evidence) for what the binaries link or call (``CoreLocation`` linked …)."""
    locales: tuple[str, ...] = ()
    """The localizations the package ships (``zh-Hans``, ``en`` …), where the format lists them."""
    code: AndroidCode | None = None
    """Android: the code the manifest names and the DEX files hold (None for other platforms)."""
    members: tuple[str, ...] = ()
    """Names of the archive's files, where the format is an archive that names its own payloads (APK)."""


@dataclass(frozen=True, slots=True)
class FilingNumber:
    """A filing-number-shaped string: normalized, classified, validated, with every place it appears."""

    value: str
    raw: str
    kind: NumberKind
    valid: bool
    problem: str | None
    """Why it is malformed or a placeholder (None when valid)."""
    placeholder: bool
    in_context: bool
    locations: tuple[Location, ...]
    normalized: tuple[str, ...] = ()
    """What reading ``raw`` normalized (full-width forms, traditional characters, spaces …)."""
    written_as_issued: bool = True
    """False when ``raw`` spells the number wrongly (lower-case icp, 备案 inside …); ``value`` is then
    the number as the filing system writes it."""
    assembled_from: tuple[str, ...] = ()
    """When the number is found only by joining literal pieces that code loads together (never whole
    in one string), those pieces: a lower-confidence finding a reviewer should confirm."""

    @property
    def first_location(self) -> Location | None:
        """The first place it was found (None when it has no location)."""
        return self.locations[0] if self.locations else None


@dataclass(frozen=True, slots=True)
class FilingLink:
    """A reference to a filing-system host and its verdict."""

    url: str
    host: str
    status: LinkStatus
    reason: str
    locations: tuple[Location, ...]

    @property
    def first_location(self) -> Location | None:
        """The first place it was found (None when it has no location)."""
        return self.locations[0] if self.locations else None


@dataclass(frozen=True, slots=True)
class PermissionFacts:
    """Requested permissions against the in-package declaration texts."""

    requested: tuple[str, ...] = ()
    sensitive: tuple[str, ...] = ()
    declared: tuple[str, ...] = ()
    undeclared: tuple[str, ...] = ()
    has_declaration_text: bool = False


@dataclass(frozen=True, slots=True)
class ApiUse:
    """A mini-program privacy API the code calls, with its call sites."""

    api: str
    info: str
    """Privacy info type (Location, Album, Camera …)."""
    locations: tuple[Location, ...]


@dataclass(frozen=True, slots=True)
class PolicyLink:
    """A link to a privacy policy the package gives (a URL beside 隐私政策 / privacy, or named so)."""

    url: str
    location: Location


@dataclass(frozen=True, slots=True)
class Protection:
    """A protector (加固) whose stub replaced the app's code: the code it encrypted could not be read."""

    protector: str
    """The catalog id (``tencent-legu``)."""
    name: str
    """As the protector calls itself (``腾讯乐固``)."""
    name_en: str
    stub: str
    """The stub class the application class is or extends."""
    payloads: tuple[str, ...]
    """The protector's payload and loader files present (members)."""
    missing: tuple[str, ...]
    """The app's own components the manifest names that no DEX file of the package defines."""
    evidence: tuple[str, ...]
    """All of the above as sentences, for a reviewer."""
    location: Location


@dataclass(frozen=True, slots=True)
class Facts:
    """What the package shows, derived once from its texts and read by every rule."""

    filing_numbers: tuple[FilingNumber, ...] = ()
    filing_links: tuple[FilingLink, ...] = ()
    permissions: PermissionFacts = field(default_factory=PermissionFacts)
    api_uses: tuple[ApiUse, ...] = ()
    """Mini-programs: privacy APIs called (not part of the JSON report; MPP rules read it)."""
    kind: PackageKind = PackageKind.APP
    """The kind the package is judged as, worked out once (``--kind``, else the parser's)."""
    policy_links: tuple[PolicyLink, ...] = ()
    """Privacy policies the package links (most apps declare permission purposes there)."""
    policies_read: tuple[str, ...] = ()
    """The privacy policies whose text was read with the package (local files, fetched URLs)."""
    protection: Protection | None = None
    """Android: the protector whose stub the package carries, when the evidence holds together."""
    number_labels: tuple[Location, ...] = ()
    """Places that show a filing-number label with no number (``备案号：%s``): filled in at run time."""


@dataclass(frozen=True, slots=True)
class Anchors:
    """Fixed substrings that every text a rule can act on contains, from the catalogs: the parsers use
    them to skip what cannot matter (scanner.facts.anchors builds it; scanner.extract.anchors compiles it)."""

    numbers: tuple[str, ...]
    """In text, searched lower-cased (``icp``, ``公网安备``, ``b2-`` …)."""
    numbers_binary: tuple[str, ...]
    """In native libraries, as written (UTF-8)."""
    numbers_wide: tuple[str, ...]
    """In native libraries as UTF-16LE (ASCII anchors only)."""
    numbers_code: tuple[str, ...]
    """In DEX string data, lower-cased (the CJK parts 备 证 …)."""
    links: tuple[str, ...]
    """Of filing-system links (``beian``), any case."""
    markers: tuple[str, ...]
    """Of permission / privacy declarations (``权限``, ``privacy`` …)."""


@dataclass(frozen=True, slots=True)
class ParseOptions:
    """What the parsers read: keys, caps, and how much work a parse may spread (set by the caller)."""

    wxid: str | None = None
    """AppID that decrypts PC-client ``V1MMWX`` wxapkg packages (``--wxid``); else taken from the path."""
    limits: Limits = field(default_factory=Limits)
    """Caps on inflation, members and nesting (hostile packages)."""
    offload: bool = False
    """A parser may fork one helper process for its largest members. Set by scanner.concurrency: on for
    a single scan on a multi-core machine, off in a batch worker (one process per package already)."""
    prefilter: Prefilter | None = None
    """Which texts can matter to a rule (scanner.extract.prefilter; its ``fast`` off decodes everything,
    the reference the tests hold the fast paths to). None: the engine fills in the catalogs' own
    (scanner.engine.parse_options), once per run."""


@dataclass(frozen=True, slots=True)
class FactOptions:
    """What the facts stage reads: words the user adds to the catalogs (declared by FIL007 and PRM001)."""

    context_words: tuple[str, ...] = ()
    """Extra words that mark an about/settings place."""
    permission_synonyms: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """Extra names per permission: ((permission, (name, ...)), ...)."""


RuleValue = str | bool | int | tuple[str, ...] | tuple[tuple[str, str], ...] | tuple[tuple[str, tuple[str, ...]], ...]


class OptionStage(enum.Enum):
    """Which stage reads a rule option."""

    RULE = "rule"
    """The rule's own check, from RuleSettings."""
    FACTS = "facts"
    """The facts stage, as the FactOptions field the option names (``RuleOption.fact``)."""


class OptionValue(enum.Enum):
    """What a rule option's value is, beyond its JSON schema: checked and normalized when the config is
    read (scanner.config.NORMALIZERS holds one function for each)."""

    PLAIN = "plain"
    FILING_NUMBERS = "filing-numbers"
    """A list of filing numbers."""
    FILING_NUMBER_MAP = "filing-number-map"
    """App id -> filing number."""
    IDENTITIES = "identities"
    """``APP_ID[,CERT_MD5[,PUBLIC_KEY]]`` each."""
    IDENTITY_RECORDS = "identity-records"
    """Filing records with their certificate."""


@dataclass(frozen=True, slots=True)
class RuleOption:
    """One option a rule declares next to its RULE (yamllint's CONF / DEFAULT): its config key, the
    JSON schema of its value, its default, and which stage reads it."""

    name: str
    schema: dict[str, object]
    default: RuleValue
    description: str
    stage: OptionStage = OptionStage.RULE
    fact: str = ""
    """With ``OptionStage.FACTS``: the FactOptions field it fills (a test holds every one to a field)."""
    value: OptionValue = OptionValue.PLAIN
    top_level: bool = False
    """Also a top-level config key and command-line flag of the same name (``--expect-filing``)."""


@dataclass(frozen=True, slots=True)
class RuleSettings:
    """Per-rule option values the user set (defaults come from each rule's declarations)."""

    values: tuple[tuple[str, tuple[tuple[str, RuleValue], ...]], ...] = ()

    def get(self, rule_id: str, option: RuleOption) -> RuleValue:
        """The value of ``option`` for ``rule_id``: the user's, else the declared default."""
        for owner, pairs in self.values:
            if owner == rule_id:
                for name, value in pairs:
                    if name == option.name:
                        return value
        return option.default

    def strings(self, rule_id: str, option: RuleOption) -> tuple[str, ...]:
        """A list-of-strings option's value."""
        return tuple(str(v) for v in self._tuple(rule_id, option))

    def pairs(self, rule_id: str, option: RuleOption) -> tuple[tuple[str, str], ...]:
        """A table option's value as (key, value) pairs."""
        return tuple((str(item[0]), str(item[1])) for item in self._tuple(rule_id, option)
                     if isinstance(item, tuple) and len(item) == 2)

    def records(self, rule_id: str, option: RuleOption) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """A records option's value as (key, (field, ...)) pairs (``expect-identity``, filing records)."""
        return tuple((str(item[0]), tuple(str(v) for v in item[1])) for item in self._tuple(rule_id, option)
                     if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], tuple))

    def _tuple(self, rule_id: str, option: RuleOption) -> tuple[object, ...]:
        value = self.get(rule_id, option)
        return value if isinstance(value, tuple) else ()


@dataclass(frozen=True, slots=True)
class PolicySources:
    """Privacy policies read with the package: local files the user gave (already read: their texts),
    and whether the policies the package links are fetched, under which rules (scanner.privacy_policy)."""

    texts: tuple[Text, ...] = ()
    fetch: bool = False
    allowed_networks: tuple[str, ...] = ()
    """Networks (CIDR) a fetch may reach besides public addresses (a test server on 127.0.0.1)."""
    max_fetches: int = 2
    """Policy links fetched per package (the first ones found)."""


@dataclass(frozen=True, slots=True)
class Options:
    """What one scan is told, split by the stage that reads it."""

    kind: PackageKind | None = None
    """Overrides the kind the parser inferred (``--kind``)."""
    parse: ParseOptions = field(default_factory=ParseOptions)
    facts: FactOptions = field(default_factory=FactOptions)
    rules: RuleSettings = field(default_factory=RuleSettings)
    policies: PolicySources = field(default_factory=PolicySources)


@dataclass(frozen=True, slots=True)
class RuleMeta:
    """A rule's stable identity and documentation (public contract: ids never change)."""

    id: RuleId
    name: str
    severity: Severity
    summary: str
    fix: str
    severity_minor_kinds: Severity | None = None
    """Default severity for mini-programs and quick apps when it differs (FIL001, LNK001)."""
    kinds: frozenset[PackageKind] | None = None
    """The package kinds the rule applies to (None: every kind)."""
    doc: str = ""
    """The rule's user documentation (its module docstring: what, why, PASS/FAIL, sources)."""
    options: tuple[RuleOption, ...] = ()
    """The options the rule declares (config ``[rules.ID]`` keys besides enabled and severity)."""
    formats: frozenset[str] | None = None
    """The package formats the rule applies to (None: every format), e.g. the platforms with purpose strings."""

    def applies_to(self, kind: PackageKind, fmt: str = "") -> bool:
        """Whether the rule is checked for this kind and format of package."""
        return (self.kinds is None or kind in self.kinds) and (self.formats is None or fmt in self.formats)


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem a rule found. Rules leave ``severity`` as the rule's default; the engine stamps policy."""

    rule_id: RuleId
    message: str
    location: Location | None = None
    evidence: tuple[str, ...] = ()
    severity: Severity | None = None
    fix: str | None = None
    """How to fix this finding when it says more than the rule's general ``RuleMeta.fix``."""


@dataclass(frozen=True, slots=True)
class ReportedFinding:
    """A finding after the engine: final severity, rule name and a stable fingerprint."""

    rule_id: RuleId
    name: str
    severity: Severity
    message: str
    location: Location | None
    evidence: tuple[str, ...]
    fingerprint: str
    fix: str
    suppression: str | None = None
    """Why the finding is accepted ("suppressed: <reason>" / "baseline"); None for an active finding."""


@dataclass(frozen=True, slots=True)
class PackageError:
    """Why a package could not be scanned (PKG001 unreadable, PKG002 encrypted)."""

    rule_id: RuleId
    message: str


@dataclass(frozen=True, slots=True)
class ScanResult:
    """One package's outcome: either ``error`` is set, or ``info``/``facts``/``findings`` are."""

    path: str
    info: PackageInfo | None
    error: PackageError | None
    facts: Facts
    findings: tuple[ReportedFinding, ...]
    suppressed: tuple[ReportedFinding, ...] = ()
    """Findings accepted by a suppression or the baseline (counted, listed with --show-suppressed)."""
    checked: tuple[RuleId, ...] = ()
    """The rules that were checked on this package (enabled and applicable to its kind)."""
    kind: PackageKind | None = None
    """The kind the package was judged as (``--kind``, else the parser's), None when it was not read."""
    also_at: tuple[str, ...] = ()
    """Other paths the same content was found under (a batch's duplicates)."""


@dataclass(frozen=True, slots=True)
class Report:
    """Everything the formatters see."""

    tool_version: str
    results: tuple[ScanResult, ...]
    rules: tuple[RuleMeta, ...] = ()
    """The rule catalogue (for SARIF rule metadata, JUnit test cases, docs)."""
    notices: tuple[str, ...] = ()
    """Run-level messages for the user (e.g. an expired suppression)."""
