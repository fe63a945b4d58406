"""Android App Bundles: the aapt2-built fixtures (proto manifest, resources.pb, proto layouts, a feature
module) and the real bundletool test bundles, one result per bundle; hostile protobuf stays a clean error."""

from __future__ import annotations

import io
import zipfile

import pytest

from scanner import engine
from scanner.engine import parse_options
from scanner.extract import aapt2
from scanner.model import Options
from scanner.parsers import detect, parse

from conftest import CORPUS, FIXTURES, rules, scan

OUT = FIXTURES / "aab" / "out"
NUMBER = "粤ICP备2023123456号-1A"


def test_detected_as_a_bundle_not_an_apk_set():
    assert detect(str(OUT / "bundle.aab")).name == "aab"


def test_identity_permissions_of_every_module_and_places():
    pkg = parse(str(OUT / "bundle.aab"), parse_options())
    assert (pkg.info.format, pkg.info.app_id, pkg.info.app_name, pkg.info.version, pkg.info.version_code,
            pkg.info.target_sdk) == ("aab", "com.beianscan.fixture.bundle", "Bundle Fixture", "1.2.0", "3", "33")
    # The feature module's own permission is the bundle's too.
    assert pkg.permissions == ("android.permission.INTERNET", "android.permission.CAMERA")
    places = {(t.location.member, t.location.pointer) for t in pkg.texts if NUMBER in t.value}
    assert places == {("base/resources.pb", "@string/about_icp [default]"),
                      ("base/resources.pb", "@string/about_icp [zh-rCN]"),
                      ("base/res/layout/activity_about.xml", "TextView@android:text -> @string/about_icp")}


def test_feature_module_texts_declare_its_permission():
    result = scan(OUT / "bundle.aab")
    assert result.facts.permissions.declared == ("android.permission.CAMERA",)
    assert rules(result) == set()


def test_negative_twin():
    assert rules(scan(OUT / "bundle_negative.aab")) == {"FIL001", "LNK001"}


def _rewritten(tmp_path, member: str, data: bytes):
    path = tmp_path / "hostile.aab"
    buffer = io.BytesIO()
    with zipfile.ZipFile(OUT / "bundle.aab") as source, zipfile.ZipFile(buffer, "w") as target:
        for name in source.namelist():
            target.writestr(name, data if name == member else source.read(name))
    path.write_bytes(buffer.getvalue())
    return engine.scan_path(str(path), Options())


@pytest.mark.parametrize("garbage", [b"\xff" * 64, b"\x0a\xff\xff\xff\xff\x0f", b"\x08" * 3, b""])
def test_unreadable_base_manifest_is_pkg001(tmp_path, garbage):
    result = _rewritten(tmp_path, "base/manifest/AndroidManifest.xml", garbage)
    assert result.error is not None and result.error.rule_id == "PKG001"
    assert "base/manifest/AndroidManifest.xml" in result.error.message


def test_unreadable_resource_table_is_an_anomaly_not_a_failure(tmp_path):
    result = _rewritten(tmp_path, "base/resources.pb", b"\x12\xff\xff\xff\xff\x0f")
    assert result.error is None
    assert "PKG004" in rules(result)


def test_deep_nesting_is_bounded():
    # XmlNode{element{child{element{child ...}}}} far deeper than any layout.
    node = b""
    for _ in range(90):
        element = b"\x2a" + _varint(len(node)) + node if node else b""
        node = b"\x0a" + _varint(len(element)) + element
    try:
        elements = aapt2.xml_elements(node)
    except aapt2.ProtoError:
        return
    assert len(elements) <= aapt2.MAX_DEPTH


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def test_descriptor_set_is_compiled_from_the_committed_proto(tmp_path):
    protoc = pytest.importorskip("grpc_tools.protoc")
    proto = FIXTURES.parent / "scanner" / "proto"
    out = tmp_path / "check.desc"
    assert protoc.main(["protoc", f"-I{proto}", f"--descriptor_set_out={out}",
                        str(proto / "aapt2_resources.proto")]) == 0
    assert out.read_bytes() == (proto / "aapt2_resources.desc").read_bytes()


@pytest.mark.skipif(not (CORPUS / "aab").is_dir(), reason="../shared/corpus not present")
@pytest.mark.parametrize(("name", "app_id", "strings"), [
    ("bundletool_install-time-permanent-modules.aab", "com.google.android.samples.dynamicfeatures.ondemand", 2569),
    ("bundletool_watch-face-from-tool.aab", "com.watchfacestudio.testinstall", 4),
])
def test_real_bundles(name, app_id, strings):
    path = CORPUS / "aab" / name
    with zipfile.ZipFile(path) as bundle:
        assert len(list(aapt2.table_strings(bundle.read("base/resources.pb")))) == strings
    result = scan(path)
    assert result.info.app_id == app_id and result.info.format == "aab"
    assert {"FIL001", "LNK001"} <= rules(result)
