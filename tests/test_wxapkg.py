"""wxapkg reading and writing on real bytes: index, PC encryption, folders, TPKG, privacy config."""

from __future__ import annotations

import struct

import pytest

from scanner.engine import parse_options
from scanner.model import ParseOptions
from scanner.parsers import PackageEncrypted, PackageUnreadable, detect, parse, tpkg, wxapkg

from conftest import CORPUS, MINIPROGRAMS
from writer import encrypt_pc, write_wxapkg

FILES = {"/app-config.json": b'{"requiredPrivateInfos":["getLocation"],"permission":{"scope.userLocation":'
                             b'{"desc":"\xe9\x99\x84\xe8\xbf\x91"}}}',
         "/app-service.js": b'define("pages/a.js",function(){wx.getLocation({})});' * 40,
         "/images/a.png": b"\x89PNG" + bytes(100)}
APPID = "wx0123456789abcdef"


def test_writer_round_trip():
    data = write_wxapkg(FILES)
    entries = wxapkg.read_index(data)
    assert [e.name for e in entries] == list(FILES)
    assert {e.name: data[e.offset : e.offset + e.size] for e in entries} == FILES
    assert data[0] == 0xBE and data[13] == 0xED


def test_encryption_round_trip():
    plain = write_wxapkg(FILES)
    encrypted = encrypt_pc(plain, APPID)
    assert encrypted.startswith(b"V1MMWX") and len(encrypted) == len(plain) + 7
    assert wxapkg.decrypt(encrypted, APPID) == plain
    assert wxapkg.decrypt(encrypted, "wx0000000000000000")[:1] != b"\xbe"


@pytest.mark.skipif(not (CORPUS / "wxapkg").is_dir(), reason="../shared/corpus not present")
@pytest.mark.parametrize("appid", ["wx000b96cc505e1149", "wx0a41d4a71b396524", "wx0b1222a396655a3b"])
def test_writer_reproduces_the_pc_client(appid):
    original = (CORPUS / f"wxapkg/secdevlpr26__decrypt-unpack-wxapkg__dataset_{appid}-pc.wxapkg").read_bytes()
    plain = (CORPUS / f"wxapkg/secdevlpr26__decrypt-unpack-wxapkg__decrypted_files_{appid}-out.wxapkg").read_bytes()
    assert wxapkg.decrypt(original, appid) == plain
    ours = encrypt_pc(plain, appid)
    # The 1024th encrypted byte is padding the client chose; everything before the last block is equal.
    assert ours[: 6 + 1024 - 16] == original[: 6 + 1024 - 16]
    assert ours[1030:] == original[1030:]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d[:10], "shorter than its 18-byte header"),
        (lambda d: d[:30], "does not fit"),
        (lambda d: b"\xbf" + d[1:], "0xBE"),
        (lambda d: d[:14] + struct.pack(">I", 10**6) + d[18:], "does not fit"),
    ],
)
def test_bad_index(mutate, message):
    with pytest.raises(PackageUnreadable, match=message):
        wxapkg.read_index(mutate(write_wxapkg(FILES)))


def test_entry_past_end():
    data = bytearray(write_wxapkg(FILES))
    struct.pack_into(">I", data, 18 + 4 + len("/app-config.json") + 4, 10**6)
    with pytest.raises(PackageUnreadable, match="past the end"):
        wxapkg.read_index(bytes(data))


def test_appid_from_path():
    assert wxapkg.appid_from_path("/x/Applet/wx0a41d4a71b396524/12/__APP__.wxapkg") == "wx0a41d4a71b396524"
    assert wxapkg.appid_from_path("/tmp/app.wxapkg") is None


def test_keyless_and_wrong_key(tmp_path):
    path = tmp_path / "__APP__.wxapkg"
    path.write_bytes(encrypt_pc(write_wxapkg(FILES), APPID))
    with pytest.raises(PackageUnreadable) as info:
        parse(str(path), parse_options())
    assert isinstance(info.value, PackageEncrypted) and "--wxid" in info.value.message  # PKG002
    assert parse(str(path), parse_options(ParseOptions(wxid=APPID))).info.app_id == APPID
    with pytest.raises(PackageUnreadable, match="does not decrypt") as info:
        parse(str(path), parse_options(ParseOptions(wxid="wx1111111111111111")))
    assert isinstance(info.value, PackageEncrypted)  # PKG002


def test_texts_config_and_locations(tmp_path):
    path = tmp_path / "p.wxapkg"
    path.write_bytes(write_wxapkg(FILES))
    pkg = parse(str(path), parse_options())
    assert pkg.privacy.required_private_infos == ("getLocation",)
    assert pkg.privacy.permission_descs == (("scope.userLocation", "附近"),)
    assert pkg.privacy.member == "/app-config.json"
    assert {t.location.member for t in pkg.texts} == {"/app-config.json", "/app-service.js"}
    assert all(t.location.kind == "page" for t in pkg.texts)


def test_detect_by_content(tmp_path):
    renamed = tmp_path / "package.bin"
    renamed.write_bytes(write_wxapkg(FILES))
    assert detect(str(renamed)).name == "wxapkg"


def test_folder_of_packages_is_one_result():
    pkg = parse(str(MINIPROGRAMS / "out" / "split"), parse_options())
    members = {t.location.member.split("!")[0] for t in pkg.texts}
    assert members == {"__APP__.wxapkg", "_subpages_.wxapkg"}
    assert pkg.privacy.member == "__APP__.wxapkg!/app-config.json"


def _tpkg(entries: dict[str, bytes], by_count: bool) -> bytes:
    names = [n.encode() for n in entries]
    index = sum(4 + len(n) + 8 for n in names)
    offset = 16 + index
    header = b"TPKG" + struct.pack("<I", 0x20000)
    header += struct.pack("<II", 0, len(entries)) if by_count else struct.pack("<II", index, 1)
    parts = []
    for name, data in zip(names, entries.values(), strict=True):
        parts.append(struct.pack("<I", len(name)) + name + struct.pack("<II", offset, len(data)))
        offset += len(data)
    return header + b"".join(parts) + b"".join(entries.values())


def test_tpkg_count_variant(tmp_path):
    path = tmp_path / "a.pkg"
    path.write_bytes(_tpkg({"/app.json": b"{}", "/index.js": "粤ICP备2023123456号-1X".encode()}, by_count=True))
    pkg = parse(str(path), parse_options())
    assert any("粤ICP备" in t.value for t in pkg.texts)


def test_tpkg_ambiguous_variant_is_refused():
    data = _tpkg({"/app.json": b"{}", "/index.js": b"x"}, by_count=False)
    # Both readings parse this one differently (count=1 vs until the first offset): refuse, do not guess.
    with pytest.raises(PackageUnreadable, match="unsupported header variant"):
        tpkg.read_index(data)


def _applet(root, apps: dict[str, dict[str, bytes]], encrypted: frozenset[str] = frozenset()):
    """A PC client's Applet folder: each app's main package under Applet/{appid}/{version}/."""
    for appid, files in apps.items():
        folder = root / "Applet" / appid / "7"
        folder.mkdir(parents=True)
        data = write_wxapkg(files)
        (folder / "__APP__.wxapkg").write_bytes(encrypt_pc(data, appid) if appid in encrypted else data)
    return root / "Applet"


APPS = {
    "wx0000000000000001": {"/app-config.json": b'{"requiredPrivateInfos":[]}',
                           "/page.js": b'wx.getLocation({type:"gcj02"})'},
    "wx0000000000000002": {"/app-config.json": b'{"requiredPrivateInfos":["getLocation"]}',
                           "/page.js": "wx.getLocation({}); 备案号：粤ICP备2023123456号-2X".encode(),
                           "/padding.js": b"//" + b"x" * 2048},
    "wx0000000000000003": {"/app-config.json": b"{}", "/page.js": "苏ICP备2026036865号-1X".encode(),
                           "/padding.js": b"//" + b"x" * 2048},
}


def test_folder_with_several_apps_gives_one_result_per_appid(tmp_path):
    from scanner import engine
    from scanner.model import Options

    applet = _applet(tmp_path, APPS)
    report = engine.scan([str(applet)], Options())
    by_app = {r.info.app_id: r for r in report.results}
    assert set(by_app) == set(APPS)
    # MPP001 belongs to the one app that calls getLocation undeclared, never to its neighbours
    assert [a for a, r in by_app.items() if "MPP001" in {f.rule_id for f in r.findings}] == ["wx0000000000000001"]
    assert {n.value for n in by_app["wx0000000000000003"].facts.filing_numbers} == {"苏ICP备2026036865号-1X"}
    assert all({t.split("!")[0] for f in r.findings if f.location for t in [f.location.member]}
               <= {f"{a}/7/__APP__.wxapkg"} for a, r in by_app.items())


def test_encrypted_file_in_a_folder_is_named(tmp_path):
    from scanner import engine
    from scanner.model import Options

    folder = tmp_path / "packages"
    folder.mkdir()
    (folder / "__APP__.wxapkg").write_bytes(write_wxapkg(APPS["wx0000000000000003"]))
    (folder / "_sub_.wxapkg").write_bytes(encrypt_pc(write_wxapkg(APPS["wx0000000000000003"]), "wx0000000000000003"))
    (result,) = engine.scan([str(folder)], Options()).results
    assert result.error.rule_id == "PKG002" and result.error.message.startswith("_sub_.wxapkg: ")
    # in an Applet folder the appid is in the path: the encrypted app decrypts, the others scan beside it
    applet = _applet(tmp_path / "pc", APPS, encrypted=frozenset({"wx0000000000000002"}))
    results = engine.scan([str(applet)], Options()).results
    assert [r.error for r in results] == [None, None, None]
