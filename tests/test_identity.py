"""The filing identity (App特征信息): signing blocks and certificates read from real bytes, checked against
apksigner, the identity command, FIL009 through --expect-identity, and 20,000 fuzzed inputs per reader."""

from __future__ import annotations

import json
import random
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from scanner import engine
from scanner.config import Policy
from scanner.extract import certs, macho, signing
from scanner.facts.identity import Expected, key_bytes, md5_of, parse_spec, signed_as
from scanner.model import Anomaly, Options
from scanner.parsers import signatures, zipread

from conftest import APKS, CORPUS, ENTRY_POINT, FIXTURES, ROOT, venv_env

FIXTURES_KEY = "176db77bc9f378fa3110b6c31e084aae"
ROTATED_KEY = "509c7d81841691c59d4f835060aac70a"
HAPS = FIXTURES / "harmony" / "out"
IPAS = FIXTURES / "ios" / "out"


def _identity(path: Path):
    (result,) = engine.scan_target(str(path), Options(), Policy())
    assert result.error is None, result.error
    return result.info.identity


def _cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(ENTRY_POINT), *args], capture_output=True, text=True, timeout=300, cwd=cwd,
                          env=venv_env(), check=False)


class TestApk:
    def test_v1_only_is_read_from_the_pkcs7_signature_file(self):
        identity = _identity(APKS / "signed_v1_only.apk")
        assert identity.schemes == ("v1",) and identity.member == "META-INF/FIXTURES.RSA"
        (signer,) = identity.signers
        assert signer.certificate.md5 == FIXTURES_KEY and signer.certificate.subject == "CN=beian-scan fixtures"
        assert signer.certificate.key_algorithm == "RSA" and signer.certificate.key_size == 2048

    def test_v2_only_is_read_from_the_signing_block(self):
        identity = _identity(APKS / "signed_v2_only.apk")
        assert identity.schemes == ("v2",) and identity.member == signatures.BLOCK
        assert [s.certificate.md5 for s in identity.signers] == [FIXTURES_KEY]

    def test_v3_rotation_puts_the_current_signer_first_with_its_lineage(self):
        identity = _identity(APKS / "signed_v3_rotated.apk")
        current, older = identity.signers
        assert current.schemes == ("v3",) and current.certificate.md5 == ROTATED_KEY
        assert [c.md5 for c in current.lineage] == [FIXTURES_KEY]
        assert older.schemes == ("v1", "v2") and older.certificate.md5 == FIXTURES_KEY
        assert {c.md5 for c in identity.certificates()} == {ROTATED_KEY, FIXTURES_KEY}

    def test_an_unsigned_apk_says_so(self):
        path = CORPUS / "apk" / "androguard__androguard__tests_data_APK_TestActivity_unsigned.apk"
        if not path.exists():
            pytest.skip("shared corpus absent")
        identity = _identity(path)
        assert not identity.signed and identity.schemes == () and "unsigned" in identity.notes[0]

    def test_the_public_key_is_the_certificates_subject_public_key_info(self):
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization

        data = zipread.Reader(str(APKS / "signed_v1_only.apk"), Options().parse.limits)
        entry = next(e for e in zipread.directory(str(APKS / "signed_v1_only.apk"))[0] if e.name.endswith(".RSA"))
        der = certs.signed_data(bytes(data.read(entry).data)).signers[0]
        data.close()
        cert = x509.load_der_x509_certificate(der)
        spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                              serialization.PublicFormat.SubjectPublicKeyInfo)
        described = certs.describe(der)
        assert key_bytes(described.public_key) == spki
        assert described.serial == format(cert.serial_number, "x")
        assert described.not_after == cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ")

    def test_an_apk_set_carries_its_bases_identity(self, tmp_path):
        import zipfile

        path = tmp_path / "app.apks"
        with zipfile.ZipFile(path, "w") as archive:
            archive.write(APKS / "signed_v2_only.apk", "splits/base-master.apk")
        identity = _identity(path)
        assert [s.certificate.md5 for s in identity.signers] == [FIXTURES_KEY]


def _apksigner_signers(path: Path) -> list[tuple[str, str]] | None:
    """(MD5, SHA-256) of each signer apksigner prints, None when it does not verify the APK."""
    done = subprocess.run(["apksigner", "verify", "--print-certs", str(path)], capture_output=True, text=True,
                          timeout=120, check=False)
    if done.returncode != 0:
        return None
    md5 = re.findall(r"^Signer #\d+ certificate MD5 digest: (\w+)$", done.stdout, re.M)
    sha = re.findall(r"^Signer #\d+ certificate SHA-256 digest: (\w+)$", done.stdout, re.M)
    return list(zip(md5, sha, strict=True))


@pytest.mark.skipif(shutil.which("apksigner") is None, reason="Debian's apksigner is not installed")
def test_every_apk_apksigner_verifies_gives_apksigners_certificates():
    """The reference: apksigner verify --print-certs, on the corpus APKs (where present) and the fixtures."""
    paths = sorted((CORPUS / "apk").glob("*.apk")) if CORPUS.exists() else []
    paths += [APKS / f"{name}.apk" for name in ("compliant", "signed_v1_only", "signed_v3_rotated")]
    compared = 0
    for path in paths:
        expected = _apksigner_signers(path)
        if expected is None:
            continue
        (result,) = engine.scan_target(str(path), Options(), Policy())
        identity = result.info.identity
        # apksigner names the signers the newest scheme verifies; the current one is ours first.
        ours = [(s.certificate.md5, s.certificate.sha256) for s in identity.signers]
        assert ours[: len(expected)] == expected, path.name
        compared += 1
    assert compared >= (20 if CORPUS.exists() else 3)


@pytest.mark.skipif(not CORPUS.exists(), reason="shared corpus absent")
def test_via_is_signed_by_its_developer_in_both_builds():
    """Via 4.9.1 and 5.0.0 (just before and after its App filing): one developer certificate, v1 + v2."""
    for name in ("SimSinOS__android_packages_apps_Via__Via.apk__at_71a5a89_v4.9.1.apk",
                 "SimSinOS__android_packages_apps_Via__Via.apk__at_dde25dd_v5.0.0.apk"):
        identity = _identity(CORPUS / "apk" / name)
        assert identity.schemes == ("v1", "v2")
        assert identity.signers[0].certificate.md5 == "9830874658327c15600f6e4ea939c324"
        assert identity.signers[0].certificate.subject == "CN=Various Tu, L=广西, ST=广西, C=CN"


@pytest.mark.skipif(not CORPUS.exists(), reason="shared corpus absent")
def test_malformed_signatures_of_the_corpus_give_anomalies_never_a_crash():
    for path in sorted((CORPUS / "apk").glob("*.apk")):
        (result,) = engine.scan_target(str(path), Options(), Policy())
        assert result.error is None or result.error.rule_id == "PKG001", path.name
    # The apksig test APK whose zip is invalid for apksigner: its v3 lineage is still read.
    identity = _identity(CORPUS / "apk" /
                         "androguard__androguard__tests_data_APK_apksig_v1v2v3-with-rsa-2048-lineage-3-signers-"
                         "invalid-zip.apk")
    assert identity.signers[0].schemes == ("v3",) and len(identity.signers[0].lineage) == 2


class TestHarmonyAndIos:
    def test_a_hap_gives_the_certificate_it_was_signed_with_and_its_profile(self):
        from cryptography import x509

        pem = (FIXTURES / "keys" / "harmony.pem").read_bytes()
        signer_cert = x509.load_pem_x509_certificates(pem)[0]
        identity = _identity(HAPS / "compliant_v2_signed.hap")
        assert identity.platform == "harmonyos" and identity.schemes == ("hap",)
        (signer,) = identity.signers
        assert signer.certificate.sha256 == signer_cert.fingerprint(__import__("cryptography").hazmat.primitives
                                                                       .hashes.SHA256()).hex()
        assert [c.subject for c in signer.chain] == ["CN=beian-scan fixtures harmony CA, O=beian-scan fixtures, C=CN"]
        assert identity.profile.bundle == "com.example.demo" and identity.profile.type == "release"
        assert [c.md5 for c in identity.profile.certificates] == [signer.certificate.md5]

    def test_an_app_pack_is_signed_outside_its_modules(self):
        identity = _identity(HAPS / "demo.app")
        assert identity.signed and "only the .app file is signed" in identity.notes[0]

    def test_an_unsigned_hap_says_so(self):
        identity = _identity(HAPS / "no_number.hap")
        assert not identity.signed and identity.profile is None and "unsigned" in identity.notes[-1]

    def test_an_ipa_gives_the_code_signature_and_the_provisioning_profile(self):
        from cryptography import x509

        signer_cert = x509.load_pem_x509_certificates((FIXTURES / "keys" / "ios.pem").read_bytes())[0]
        identity = _identity(IPAS / "signed.ipa")
        assert identity.platform == "ios" and identity.schemes == ("cms",)
        assert identity.member == "Payload/Demo.app/Demo"
        (signer,) = identity.signers
        assert signer.certificate.serial == format(signer_cert.serial_number, "x")
        assert signer.certificate.subject.startswith("CN=iPhone Distribution: beian-scan fixtures (BEIANSCAN1)")
        profile = identity.profile
        assert (profile.kind, profile.bundle, profile.team, profile.type) == (
            "mobileprovision", "com.example.demo", "BEIANSCAN1", "app-store")
        assert [c.sha256 for c in profile.certificates] == [signer.certificate.sha256]

    @pytest.mark.skipif(not CORPUS.exists(), reason="shared corpus absent")
    def test_real_signed_packages(self):
        hap = _identity(CORPUS / "hap" / ("Tinse__Charger_Monitor_For_HarmonyOS__entry_build_default_outputs_"
                                          "default_entry-default-signed.hap"))
        assert hap.profile.bundle == "com.example.uestc_charger_monitor" and hap.profile.type == "debug"
        assert hap.signers[0].certificate.issuer.startswith("CN=Huawei CBG Developer Relations CA G2")
        assert hap.signers[0].certificate.md5 == hap.profile.certificates[0].md5
        ipa = _identity(CORPUS / "ipa" / "maikesifff__baoshui__app.ipa")
        assert ipa.profile.bundle == "com.baoshui.app" and ipa.profile.type == "ad-hoc"
        assert "iPhone Distribution" in ipa.signers[0].certificate.subject


class TestExpected:
    @pytest.mark.parametrize("text", ["98:30:87:46:58:32:7C:15:60:0F:6E:4E:A9:39:C3:24",
                                      "9830874658327c15600f6e4ea939c324",
                                      " 98 30 87 46 58 32 7c 15 60 0f 6e 4e a9 39 c3 24"])
    def test_an_md5_in_any_form(self, text):
        assert md5_of(text) == "9830874658327c15600f6e4ea939c324"

    def test_a_public_key_in_pem_base64_hex_or_as_the_key_bytes_alone(self):
        identity = _identity(APKS / "signed_v1_only.apk")
        cert = identity.signers[0].certificate
        spki = key_bytes(cert.public_key)
        body = "\n".join(cert.public_key[i:i + 64] for i in range(0, len(cert.public_key), 64))
        pem = f"-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----"
        for text in (pem, cert.public_key, spki.hex(), spki[-270:].hex().upper()):
            assert signed_as(identity, parse_spec(f"com.x,,{text}")) is not None, text[:40]
        other = _identity(APKS / "signed_v3_rotated.apk").signers[0].certificate.public_key
        assert signed_as(identity, parse_spec(f",,{other}")) is None

    @pytest.mark.parametrize(("spec", "error"), [
        ("com.x,123", "not a certificate MD5"), ("com.x,,abc", "not PEM, base64 or hex"), (",,", "give a package")])
    def test_a_bad_spec_says_what_is_wrong(self, spec, error):
        with pytest.raises(ValueError, match=error):
            parse_spec(spec)

    def test_rotation_keeps_the_filed_certificate_valid(self):
        assert signed_as(_identity(APKS / "signed_v3_rotated.apk"), Expected(md5=FIXTURES_KEY)) is not None


class TestExpectIdentity:
    APP = "com.beianscan.fixture.signed_v3_rotated"

    def test_the_filed_identity_passes_and_another_certificate_fails(self):
        ok = _cli("scan", "--format", "json", str(APKS / "signed_v3_rotated.apk"), "--expect-identity",
                  f"{self.APP},{ROTATED_KEY.upper()}")
        assert "FIL009" not in {f["rule_id"] for f in json.loads(ok.stdout)["results"][0]["findings"]}
        bad = _cli("scan", "--format", "json", str(APKS / "signed_v2_only.apk"), "--expect-identity",
                   f"com.beianscan.fixture.signed_v2_only,{ROTATED_KEY}")
        (finding,) = [f for f in json.loads(bad.stdout)["results"][0]["findings"] if f["rule_id"] == "FIL009"]
        assert finding["message"] == ("not the expected identity: it is signed by CN=beian-scan fixtures (certificate "
                                      f"MD5 {FIXTURES_KEY}); the filing records certificate MD5 {ROTATED_KEY}")
        assert finding["location"] == {"member": "APK Signing Block", "kind": "signature", "pointer": ""}
        assert bad.returncode == 1

    def test_another_package_name_fails_and_any_of_several_may_match(self):
        other = _cli("scan", "--format", "json", str(APKS / "compliant.apk"), "--expect-identity", self.APP)
        (finding,) = [f for f in json.loads(other.stdout)["results"][0]["findings"] if f["rule_id"] == "FIL009"]
        assert "the package name is com.beianscan.fixture.compliant, the filed one " + self.APP in finding["message"]
        both = _cli("scan", "--format", "json", str(APKS / "compliant.apk"), "--expect-identity", self.APP,
                    "--expect-identity", f"com.beianscan.fixture.compliant,{FIXTURES_KEY}")
        assert both.returncode == 0, both.stdout

    def test_from_the_config_file_and_a_bad_value_is_exit_2(self, tmp_path):
        config = tmp_path / ".beian-scan.toml"
        config.write_text(f'expect-identity = ["com.beianscan.fixture.compliant,{ROTATED_KEY}"]\n', encoding="utf-8")
        done = _cli("scan", str(APKS / "compliant.apk"), "--config", str(config))
        assert done.returncode == 1 and "FIL009" in done.stdout
        config.write_text('expect-identity = ["com.x,nothex"]\n', encoding="utf-8")
        bad = _cli("scan", str(APKS / "compliant.apk"), "--config", str(config))
        assert bad.returncode == 2 and "invalid config key expect-identity" in bad.stderr
        assert "not a certificate MD5" in bad.stderr and "Traceback" not in bad.stderr
        flag = _cli("scan", str(APKS / "compliant.apk"), "--expect-identity", "com.x,nothex")
        assert flag.returncode == 2 and "not a certificate MD5" in flag.stderr


class TestIdentityCommand:
    def test_text_lists_the_forms_four_fields_first(self, tmp_path):
        done = _cli("identity", "fixtures/apk/signed_v1_only.apk", cwd=ROOT)
        assert done.returncode == 0
        lines = done.stdout.splitlines()
        assert lines[0] == "fixtures/apk/signed_v1_only.apk"
        assert [line.split(":", 1)[0].strip() for line in lines[1:5]] == [
            "平台 Platform", "包名 Package name", "证书MD5 Certificate MD5", "公钥 Public key"]
        assert lines[3].split()[-1] == ":".join(FIXTURES_KEY[i:i + 2] for i in range(0, 32, 2)).upper()
        assert lines[4].split()[-1].startswith("MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA")
        # the same from another folder, with an absolute path
        elsewhere = _cli("identity", str(APKS / "signed_v1_only.apk"), cwd=tmp_path)
        assert elsewhere.stdout.splitlines()[1:] == lines[1:]

    def test_json_and_an_unreadable_package(self):
        done = _cli("identity", "--format", "json", str(APKS / "signed_v3_rotated.apk"), str(APKS / "not_a_zip.apk"))
        assert done.returncode == 3 and "PKG001" in done.stderr and "Traceback" not in done.stderr
        first, broken = json.loads(done.stdout)["identities"]
        assert first["platform"] == "android" and first["package_name"] == "com.beianscan.fixture.signed_v3_rotated"
        assert first["identity"]["signers"][0]["certificate"]["md5"] == ROTATED_KEY
        assert broken["error"]["rule_id"] == "PKG001" and broken["identity"] is None

    def test_a_mini_program_has_no_signing_identity(self):
        done = _cli("identity", "fixtures/miniprogram/out/compliant.wxapkg")
        assert done.returncode == 0 and "carries no signing identity" in done.stdout


# -- fuzzing: 20,000 mutated inputs per new reader -----------------------------------------------------------

RUNS = 20_000


def _mutants(seeds: list[bytes], count: int, seed: int):
    """Seeded mutations of the seeds: flipped bytes, cut ends, lengths set to extremes, spliced seeds."""
    rng = random.Random(seed)
    extremes = [b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", b"\xff\xff\xff\x7f", b"\x01\x00\x00\x00", b"\x82\xff\xff"]
    for _ in range(count):
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 4)):
            choice = rng.random()
            if not data:
                break
            at = rng.randrange(len(data))
            if choice < 0.4:
                data[at] = rng.randrange(256)
            elif choice < 0.6:
                data[at:at + 4] = rng.choice(extremes)
            elif choice < 0.75:
                data = data[:at] if rng.random() < 0.5 else data[at:]
            elif choice < 0.9:
                other = rng.choice(seeds)
                start = rng.randrange(len(other) or 1)
                data[at:at] = other[start:start + rng.randint(1, 64)]
            else:
                data[at:at + rng.randint(1, 32)] = b""
        yield bytes(data)


def _before(path: Path) -> bytes:
    return zipread.before_directory(str(path), signing.MAX_BLOCK)


def _v1_file(path: Path) -> bytes:
    import zipfile

    with zipfile.ZipFile(path) as archive:
        return archive.read(next(n for n in archive.namelist() if n.endswith(".RSA")))


def _apk_block(data: bytes) -> None:
    try:
        pairs = signing.apk_block(data)
    except signing.SigningError:
        return
    for scheme, value in (pairs or {}).items():
        try:
            for signer in signing.block_signers(value, scheme):
                for der in (*signer.certificates, *signer.lineage):
                    certs.describe(der)
        except signing.SigningError:
            continue


def _hap_block(data: bytes) -> None:
    try:
        block = signing.hap_block(data)
    except signing.SigningError:
        return
    if block is not None:
        anomalies: list[Anomaly] = []
        signatures._cms_signers(block.signature, "hap", "x", anomalies)
        if block.profile:
            signatures._harmony_profile(block.profile, anomalies)


def _code_signature(data: bytes) -> None:
    for part in macho.slices(data):
        if part.signature is not None:
            signatures.ios_signature(data, [part.signature], "x", [])


def _cms(data: bytes) -> None:
    found = certs.signed_data(data)
    for der in found.certificates if found else ():
        certs.describe(der)
    signatures._mobileprovision(data, [])


def _seeds() -> dict[str, tuple[list[bytes], object]]:
    import zipfile

    with zipfile.ZipFile(IPAS / "signed.ipa") as archive:
        binary = archive.read("Payload/Demo.app/Demo")
        provision = archive.read("Payload/Demo.app/embedded.mobileprovision")
    hap = signing.hap_block(_before(HAPS / "compliant_v2_signed.hap"))
    return {
        "apk signing block": ([_before(APKS / "signed_v3_rotated.apk")[-20000:],
                               _before(APKS / "compliant.apk")[-9000:]], _apk_block),
        "hap sign block": ([_before(HAPS / "compliant_v2_signed.hap")[-12000:]], _hap_block),
        "mach-o code signature": ([binary], _code_signature),
        "pkcs7 / cms": ([_v1_file(APKS / "signed_v1_only.apk"), provision, hap.signature, hap.profile], _cms),
    }


@pytest.mark.parametrize("reader", ["apk signing block", "hap sign block", "mach-o code signature", "pkcs7 / cms"])
def test_fuzzed_inputs_never_crash_a_reader(reader):
    seeds, read = _seeds()[reader]
    assert all(seeds)
    read(seeds[0])  # the seed itself reads
    for number, data in enumerate(_mutants(seeds, RUNS, 20261207)):
        try:
            read(data)
        except Exception as exc:
            pytest.fail(f"{reader}: mutant {number} raised {type(exc).__name__}: {exc}")


def test_a_cut_signing_block_is_an_anomaly_of_the_package(tmp_path):
    data = bytearray((APKS / "signed_v2_only.apk").read_bytes())
    at = data.find(signing.APK_MAGIC)
    struct.pack_into("<Q", data, at - 8, 1 << 40)  # the block's size field, past the file
    path = tmp_path / "cut.apk"
    path.write_bytes(bytes(data))
    (result,) = engine.scan_target(str(path), Options(), Policy())
    assert result.error is None and not result.info.identity.signed
    assert "PKG004" in {f.rule_id for f in result.findings}
    assert any("signing block" in f.message for f in result.findings if f.rule_id == "PKG004")


def test_a_plist_date_plistlib_cannot_match_is_no_plist():
    """Found by the fuzzing above: plistlib's XML date parser raises AttributeError on a malformed date
    (an IPA's Info.plist goes through the same reader)."""
    from scanner.extract import plists

    xml = (b'<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict><key>ExpirationDate</key>'
           b"<date>20.6-01-01T00:00:00Z</date></dict></plist>")
    assert plists.load(xml) == {}
    assert plists.load(xml.replace(b"20.6", b"2046")) != {}


@pytest.mark.skipif(not CORPUS.exists(), reason="shared corpus absent")
def test_a_bundle_and_a_quick_app_from_the_corpus():
    aab = _identity(CORPUS / "aab" / "bundletool_install-time-permanent-modules.aab")
    assert aab.schemes == ("v1",) and aab.signed and "signed again by the store" in aab.notes[0]
    rpk = _identity(CORPUS / "rpk" / ("juner122king__com.haituo.setpplanet__dist_com.haituo.setpplanet."
                                      "release.1.0.8.rpk"))
    assert rpk.platform == "quickapp" and rpk.schemes == ("rpk",) and rpk.member == "META-INF/CERT"
    assert rpk.signers[0].certificate.md5 == "85d8daa9328e7b52c155ac2bda296990"
    unsigned = _identity(CORPUS / "rpk" / "poetries__quickapp-template__dist_com.application.demo.debug.rpk")
    assert not unsigned.signed and "unsigned" in unsigned.notes[0]
