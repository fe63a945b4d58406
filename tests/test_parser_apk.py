"""The APK parser on the built fixtures: identity, permissions and provenance of every surface."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.parsers import PackageEncrypted, PackageUnreadable, detect, parse


def places(pkg, needle):
    return {(t.location.member, t.location.kind, t.location.pointer) for t in pkg.texts if needle in t.value}


def test_identity_and_permissions(apk_path):
    pkg = parse(apk_path("undeclared_permission"))
    assert pkg.info.app_id == "com.beianscan.fixture.undeclared_permission"
    assert pkg.info.version == "1.0.0"
    assert pkg.info.version_code == "1"
    assert pkg.info.target_sdk == "29"
    assert pkg.info.app_name == "Fixture"
    assert pkg.permissions == ("android.permission.INTERNET", "android.permission.CAMERA",
                               "android.permission.READ_CONTACTS")
    assert len(pkg.info.sha256) == 64


def test_resource_and_layout_provenance(apk_path):
    found = places(parse(apk_path("compliant")), "粤ICP备2023123456号-1A")
    assert ("resources.arsc", "resource", "@string/about_icp [zh-rCN]") in found
    assert ("res/layout/activity_about.xml", "layout",
            "TextView@android:text -> @string/about_icp [zh-rCN]") in found


def test_dex_provenance(apk_path):
    found = places(parse(apk_path("dex_only")), "粤ICP备2023123456号-1A")
    ((member, kind, pointer),) = found
    assert (member, kind) == ("classes.dex", "dex")
    assert pointer.startswith("string_ids[")


def test_asset_and_native_provenance(apk_path):
    assert {m for m, _, _ in places(parse(apk_path("js_escaped")), "粤ICP备2023123456号-1A")} == {
        "assets/www/js/about.js"}
    # The HTML writes the number with entities, a tag inside it and &ndash;: decoded, tags removed.
    html = [t.value for t in parse(apk_path("html_entities")).texts if "2023123456" in t.value]
    assert len(html) == 1 and "粤ICP备2023123456号–1A" in html[0] and "<span>" not in html[0]
    native = places(parse(apk_path("native_only")), "粤ICP备2023123456号-1A")
    assert {(m, k) for m, k, _ in native} == {("lib/x86_64/libcore.so", "native")}


@pytest.mark.parametrize(("name", "reason"), [("truncated", "zip"), ("not_a_zip", "not a supported package")])
def test_unreadable(apk_path, name, reason):
    with pytest.raises(PackageUnreadable) as info:
        parse(apk_path(name))
    assert reason in info.value.message
    assert not isinstance(info.value, PackageEncrypted)  # PKG001, not PKG002
    assert "\n" not in info.value.message


def test_detect_by_content_not_name(apk_path, tmp_path):
    renamed = tmp_path / "app.txt"
    renamed.write_bytes(Path(apk_path("compliant")).read_bytes())
    assert detect(str(renamed)).name == "apk"
    empty = tmp_path / "empty.apk"
    empty.write_bytes(b"")
    with pytest.raises(PackageUnreadable, match="empty"):
        detect(str(empty))


def test_zip_without_manifest(tmp_path):
    import zipfile

    path = tmp_path / "plain.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "粤ICP备2023123456号-1A")
    with pytest.raises(PackageUnreadable, match=r"AndroidManifest\.xml"):
        parse(str(path))


def test_damaged_member_costs_only_that_member(apk_path, tmp_path):
    import zipfile

    source = apk_path("dex_only")
    broken = tmp_path / "broken.apk"
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(broken, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info.filename))
    data = bytearray(broken.read_bytes())
    at = data.find(b"classes.dex") + len(b"classes.dex")  # first local header's name end
    data[at + 40 : at + 60] = b"\xff" * 20  # garble the deflate stream of classes.dex
    broken.write_bytes(bytes(data))
    pkg = parse(str(broken))
    assert pkg.info.app_id == "com.beianscan.fixture.dex_only"
    assert any(a.member == "classes.dex" and a.kind == "unreadable" for a in pkg.anomalies)
