"""Signing blocks: where a package keeps the certificates that identify it (its App特征信息).

- **APK Signature Scheme v2 / v3 / v3.1** (https://source.android.com/docs/security/features/apksigning/v2,
  /v3, /v3-1): the APK Signing Block sits right before the central directory and reads, from its end,
  ``u64 size, "APK Sig Block 42"``; it starts with the same ``u64 size`` and holds ID-value pairs
  (``u64 length, u32 id, value``). The v2 (0x7109871a), v3 (0xf05368c0) and v3.1 (0x1b93ad61) values are a
  length-prefixed sequence of signers; a signer is its signed data (digests, certificates [v3: min and
  max SDK], additional attributes), then [v3: min and max SDK] its signatures and public key. Every
  length prefix is a u32, little-endian. v3's proof-of-rotation attribute (0x3ba06f8c) lists the signing
  certificates of the lineage, oldest first: ``u32 version``, then, to the attribute's end,
  length-prefixed levels of (length-prefixed signed data (length-prefixed certificate, u32 algorithm),
  u32 flags, u32 algorithm, length-prefixed signature).
- **Quick apps** (``.rpk``): ``META-INF/CERT`` is itself a zip whose block has the same layout with the
  magic ``RPK Sig Block 42``; its signers read as v2's.
- **HarmonyOS** (OpenHarmony developtools_hapsigner, "hap sign block"): the block ends with ``u32 count,
  u64 size, "<hap sign block>", u32 version`` and starts with ``count`` sub-block heads ``u32 type, u32
  length, u32 offset`` (offsets from the block's start): 0x20000000 the PKCS#7 signature, 0x20000002
  the signed provisioning profile, 0x20000003 properties.
- **iOS** (Apple's ``cs_blobs.h``, xnu ``osfmk/kern/cs_blobs.h``): ``LC_CODE_SIGNATURE`` points at an
  embedded-signature SuperBlob (big-endian ``0xfade0cc0, length, count``, then ``count`` index entries
  ``type, offset``); the entry of type 0x10000 is the CMS blob (``0xfade0b01, length``, then DER).

Parsing only: the certificates come back as DER bytes, described by scanner.extract.certs. Every length
is checked against what is left; anything that does not fit raises ``SigningError`` with what is wrong.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from scanner.i18n import msg

APK_MAGIC = b"APK Sig Block 42"
RPK_MAGIC = b"RPK Sig Block 42"
HAP_MAGIC = b"<hap sign block>"
V2, V3, V31 = 0x7109871A, 0xF05368C0, 0x1B93AD61
SCHEMES = {V2: "v2", V3: "v3", V31: "v3.1"}
ROTATION = 0x3BA06F8C
HAP_SIGNATURE, HAP_PROFILE, HAP_PROPERTY = 0x20000000, 0x20000002, 0x20000003
CS_SUPERBLOB, CS_CMS_BLOB, CS_SIGNATURE_SLOT = 0xFADE0CC0, 0xFADE0B01, 0x10000
MAX_BLOCK = 8 << 20
"""Bytes read before the central directory for a signing block (real ones are a few KB to a few hundred
KB with verity padding)."""
MAX_ITEMS = 64
"""Signers, certificates, pairs or sub-blocks read from one sequence (real ones hold one to three)."""


class SigningError(ValueError):
    """A signing block that does not parse, with what is wrong."""


@dataclass(frozen=True, slots=True)
class BlockSigner:
    """One signer of a v2/v3 block: its certificates (DER, the first is the signer's) and v3 lineage."""

    certificates: tuple[bytes, ...]
    lineage: tuple[bytes, ...] = ()


class _Cursor:
    """Length-prefixed little-endian fields over a memoryview, every read checked against the end."""

    def __init__(self, data: memoryview, what: str) -> None:
        self.data, self.at, self.what = data, 0, what

    def left(self) -> int:
        return len(self.data) - self.at

    def u32(self) -> int:
        if self.left() < 4:
            raise SigningError(msg("{what}: cut short", what=self.what))
        value: int = struct.unpack_from("<I", self.data, self.at)[0]
        self.at += 4
        return value

    def prefixed(self) -> _Cursor:
        size = self.u32()
        if size > self.left():
            raise SigningError(msg("{what}: a length of {size} bytes runs past the {value} left",
                                   what=self.what, size=size, value=self.left()))
        inner = _Cursor(self.data[self.at : self.at + size], self.what)
        self.at += size
        return inner

    def items(self) -> list[_Cursor]:
        """Every length-prefixed item of what is left (at most MAX_ITEMS)."""
        found: list[_Cursor] = []
        while self.left() and len(found) < MAX_ITEMS:
            found.append(self.prefixed())
        return found

    def rest(self) -> bytes:
        return bytes(self.data[self.at :])


FOOTER = 32
"""Bytes before the central directory that hold either footer (APK: size and magic; HAP: count, size,
magic, version): read first, so that only the block itself is read after."""


def block_length(tail: bytes, magic: bytes) -> int:
    """How many bytes before the central directory the block ending ``tail`` (its last FOOTER bytes)
    says it takes, capped at MAX_BLOCK (what is past the cap then fails to parse: SigningError); 0 when
    no block of that magic ends there."""
    if len(tail) < FOOTER:
        return 0
    if magic == HAP_MAGIC and tail[-20:-4] == HAP_MAGIC:
        size = struct.unpack_from("<Q", tail, len(tail) - 28)[0]
    elif magic != HAP_MAGIC and tail[-16:] == magic:
        size = struct.unpack_from("<Q", tail, len(tail) - 24)[0] + 8
    else:
        return 0
    return int(min(max(size, FOOTER), MAX_BLOCK))


def apk_block(before: bytes, magic: bytes = APK_MAGIC) -> dict[int, bytes] | None:
    """The ID-value pairs of the signing block that ends ``before`` (the bytes preceding the central
    directory), or None when there is no block (an unsigned or v1-only APK)."""
    if len(before) < 32 or before[-16:] != magic:
        return None
    size = struct.unpack_from("<Q", before, len(before) - 24)[0]
    if size < 24 or size + 8 > len(before):
        raise SigningError(msg("signing block of {size} bytes does not fit before the central directory", size=size))
    start = len(before) - size - 8
    if struct.unpack_from("<Q", before, start)[0] != size:
        raise SigningError(msg("signing block: its two size fields differ"))
    pairs: dict[int, bytes] = {}
    at, end = start + 8, len(before) - 24
    while at < end and len(pairs) < MAX_ITEMS:
        if at + 12 > end:
            raise SigningError(msg("signing block: a pair is cut short"))
        length = struct.unpack_from("<Q", before, at)[0]
        if length < 4 or at + 8 + length > end:
            raise SigningError(msg("signing block: a pair of {length} bytes runs past the block", length=length))
        pair_id = struct.unpack_from("<I", before, at + 8)[0]
        pairs.setdefault(pair_id, before[at + 12 : at + 8 + length])
        at += 8 + length
    return pairs


def block_signers(value: bytes, scheme: int) -> list[BlockSigner]:
    """The signers of a v2, v3 or v3.1 value (a quick app's reads as v2)."""
    v3 = scheme in (V3, V31)
    found: list[BlockSigner] = []
    for signer in _Cursor(memoryview(value), SCHEMES.get(scheme, "signing block")).prefixed().items():
        signed = signer.prefixed()
        signed.prefixed()  # digests
        certificates = tuple(c.rest() for c in signed.prefixed().items())
        lineage: tuple[bytes, ...] = ()
        if v3:
            signed.u32()
            signed.u32()
            for attribute in signed.prefixed().items() if signed.left() else ():
                if attribute.u32() == ROTATION:
                    lineage = _lineage(attribute)
        if not certificates:
            raise SigningError(msg("{what}: a signer without a certificate", what=signer.what))
        found.append(BlockSigner(certificates, lineage))
    return found


def _lineage(attribute: _Cursor) -> tuple[bytes, ...]:
    attribute.u32()  # version
    levels = []
    for level in attribute.items():
        signed = level.prefixed()
        levels.append(signed.prefixed().rest())
    return tuple(levels)


@dataclass(frozen=True, slots=True)
class HapBlock:
    """The sub-blocks of a hap sign block that identify the app."""

    signature: bytes | None
    profile: bytes | None
    version: int


def hap_block(before: bytes) -> HapBlock | None:
    """The hap sign block that ends ``before``, or None when there is none (an unsigned module)."""
    if len(before) < 32 or before[-20:-4] != HAP_MAGIC:
        return None
    count, size, _magic, version = struct.unpack_from("<IQ16sI", before, len(before) - 32)
    if size < 32 or size > len(before):
        raise SigningError(msg("hap sign block of {size} bytes does not fit before the central directory", size=size))
    start = len(before) - size
    if count > MAX_ITEMS or start + 12 * count > len(before) - 32:
        raise SigningError(msg("hap sign block: {count} sub-blocks do not fit", count=count))
    found: dict[int, bytes] = {}
    for i in range(count):
        kind, length, offset = struct.unpack_from("<III", before, start + 12 * i)
        if offset + length > size:
            raise SigningError(msg("hap sign block: sub-block {kind} runs past the block", kind=format(kind, '#x')))
        found.setdefault(kind, before[start + offset : start + offset + length])
    return HapBlock(found.get(HAP_SIGNATURE), found.get(HAP_PROFILE), version)


def code_signature_cms(data: bytes, offset: int, size: int) -> bytes | None:
    """The CMS signature (DER) of a Mach-O slice's embedded signature at ``offset``, or None when it
    has none (ad-hoc signed: the SuperBlob holds no CMS blob)."""
    end = min(len(data), offset + size)
    if offset < 0 or offset + 12 > end:
        raise SigningError(msg("code signature: outside the file"))
    magic, length, count = struct.unpack_from(">III", data, offset)
    if magic != CS_SUPERBLOB:
        raise SigningError(msg("code signature: magic {magic}, not an embedded-signature SuperBlob",
                               magic=format(magic, '#x')))
    end = min(end, offset + length)
    for i in range(min(count, MAX_ITEMS)):
        at = offset + 12 + 8 * i
        if at + 8 > end:
            raise SigningError(msg("code signature: its index runs past the SuperBlob"))
        kind, blob = struct.unpack_from(">II", data, at)
        if kind != CS_SIGNATURE_SLOT:
            continue
        start = offset + blob
        if start + 8 > end:
            raise SigningError(msg("code signature: the CMS blob lies outside the SuperBlob"))
        blob_magic, blob_length = struct.unpack_from(">II", data, start)
        if blob_magic != CS_CMS_BLOB or blob_length < 8 or start + blob_length > end:
            raise SigningError(msg("code signature: the CMS blob is malformed"))
        der = data[start + 8 : start + blob_length]
        return der or None
    return None
