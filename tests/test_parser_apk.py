"""The APK parser on the built fixtures: identity, permissions and provenance of every surface."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.engine import parse_options
from scanner.parsers import PackageEncrypted, PackageUnreadable, detect, parse


def places(pkg, needle):
    """Where the literal texts holding ``needle`` are (texts assembled from pieces aside)."""
    return {(t.location.member, t.location.kind, t.location.pointer) for t in pkg.texts
            if needle in t.value and not t.parts}


def test_identity_and_permissions(apk_path):
    pkg = parse(apk_path("undeclared_permission"), parse_options())
    assert pkg.info.app_id == "com.beianscan.fixture.undeclared_permission"
    assert pkg.info.version == "1.0.0"
    assert pkg.info.version_code == "1"
    assert pkg.info.target_sdk == "29"
    assert pkg.info.app_name == "Fixture"
    assert pkg.permissions == ("android.permission.INTERNET", "android.permission.CAMERA",
                               "android.permission.READ_CONTACTS")
    assert len(pkg.info.sha256) == 64


def test_resource_and_layout_provenance(apk_path):
    found = places(parse(apk_path("compliant"), parse_options()), "粤ICP备2023123456号-1A")
    assert ("resources.arsc", "resource", "@string/about_icp [zh-rCN]") in found
    assert ("res/layout/activity_about.xml", "layout",
            "TextView@android:text -> @string/about_icp [zh-rCN]") in found


def test_dex_provenance(apk_path):
    found = places(parse(apk_path("dex_only"), parse_options()), "粤ICP备2023123456号-1A")
    ((member, kind, pointer),) = found
    assert (member, kind) == ("classes.dex", "dex")
    # The method that loads it, and what it loads beside it (only its own class name here).
    assert pointer.startswith("string_ids[")
    assert pointer.endswith(' in Lcom/beianscan/fixture/dex_only/a;->getText beside "a"')


def test_code_context_names_the_loading_method_and_its_other_strings(apk_path):
    (pointer,) = {p for _m, _k, p in places(parse(apk_path("code_context"), parse_options()), "沪ICP备2023123456号-1A")}
    assert " in Lcom/beianscan/fixture/code_context/h;->getText beside " in pointer
    assert '"备案号"' in pointer and '"https://beian.miit.gov.cn/"' in pointer


def test_assembled_texts_keep_their_pieces(apk_path):
    pkg = parse(apk_path("assembled_number"), parse_options())
    assembled = [t for t in pkg.texts if t.parts]
    assert assembled and all(t.value == "".join(t.parts) for t in assembled)
    (text,) = [t for t in assembled if "京ICP备2023123456号-1A" in t.value]
    assert text.parts == ("备案号：", "京ICP备", "2023123456", "号-1A")
    assert text.location.pointer.startswith("assembled from string_ids[")
    # No single string holds the number: only the assembly finds it.
    assert not [t for t in pkg.texts if not t.parts and "京ICP备2023123456号-1A" in t.value]


def test_format_templates_are_filled_with_the_next_piece(apk_path):
    pkg = parse(apk_path("formatted_number"), parse_options())
    (text,) = [t for t in pkg.texts if t.parts and "粤ICP备2023654321号-1A" in t.value]
    assert text.parts == ("粤ICP备%s号-1A", "2023654321")
    assert " % [" in text.location.pointer


def test_code_sites_survive_any_corruption_of_the_code(apk_path):
    """Every byte of the code section flipped in turn: sites or none, never an exception."""
    import zipfile

    from scanner.extract import dex, dexcode

    with zipfile.ZipFile(apk_path("code_context")) as z:
        data = z.read("classes.dex")
    offsets = dex.string_offsets(data)
    target = next(i for i in range(len(offsets)) if "ICP" in dex.string_at(data, offsets, i))
    assert dexcode.code_sites(data, offsets, [target])
    for pos in range(0x34, len(data)):
        for value in (0x00, 0xFF, 0x1B):
            mutated = bytearray(data)
            mutated[pos] = value
            dexcode.code_sites(bytes(mutated), offsets, [target])
    for size in range(0, len(data), 7):  # cut anywhere: the table may point past the end
        dexcode.code_sites(data[:size], offsets, [target])


def test_asset_and_native_provenance(apk_path):
    assert {m for m, _, _ in places(parse(apk_path("js_escaped"), parse_options()), "粤ICP备2023123456号-1A")} == {
        "assets/www/js/about.js"}
    # The HTML writes the number with entities, a tag inside it and &ndash;: decoded, tags removed.
    html = [t.value for t in parse(apk_path("html_entities"), parse_options()).texts if "2023123456" in t.value]
    assert len(html) == 1 and "粤ICP备2023123456号–1A" in html[0] and "<span>" not in html[0]
    native = places(parse(apk_path("native_only"), parse_options()), "粤ICP备2023123456号-1A")
    assert {(m, k) for m, k, _ in native} == {("lib/x86_64/libcore.so", "native")}


@pytest.mark.parametrize(("name", "reason"), [("truncated", "zip"), ("not_a_zip", "not a supported package")])
def test_unreadable(apk_path, name, reason):
    with pytest.raises(PackageUnreadable) as info:
        parse(apk_path(name), parse_options())
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
        parse(str(path), parse_options())


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
    pkg = parse(str(broken), parse_options())
    assert pkg.info.app_id == "com.beianscan.fixture.dex_only"
    assert any(a.member == "classes.dex" and a.kind == "unreadable" for a in pkg.anomalies)


def test_pending_call_gives_its_value_or_its_exception(tmp_path):
    import hashlib

    from scanner.parsers import prefetch

    blob = tmp_path / "blob.bin"
    blob.write_bytes(b"beian" * 100_000)
    assert prefetch.hash_file(str(blob)).result() == hashlib.sha256(blob.read_bytes()).hexdigest()
    assert prefetch.hash_file(b"abc").result() == hashlib.sha256(b"abc").hexdigest()
    from scanner.parsers.common import PackageUnreadable

    with pytest.raises(PackageUnreadable, match="cannot read"):  # raised in the caller, not lost in the thread
        prefetch.hash_file(str(tmp_path / "gone.apk")).result()


def test_background_threads_never_leave_their_caller_waiting(monkeypatch):
    """A thread that dies before reporting (its first allocations refused under a memory limit) is an
    error in the caller, not a wait until the batch's time limit; no address space left is a MemoryError
    before the thread is started."""
    from scanner.parsers import prefetch

    monkeypatch.setattr(prefetch.ReadAhead, "_produce", lambda self: None)  # dies without a word
    with prefetch.ReadAhead(lambda x: x, [1, 2]) as ahead, pytest.raises(RuntimeError, match="can't start new thread"):
        list(ahead)
    monkeypatch.setattr(prefetch.Pending, "_run", lambda self: None)
    with pytest.raises(RuntimeError, match="can't start new thread"):
        prefetch.Pending(lambda: 1).result()

    def no_room(*_args, **_kwargs):
        raise OSError(12, "Cannot allocate memory")

    monkeypatch.setattr(prefetch.mmap, "mmap", no_room)
    with pytest.raises(MemoryError, match="no address space left"):
        prefetch.hash_file(b"abc")


def test_members_go_largest_first_then_by_name():
    """The queue order the read-ahead and the helper's share depend on, ties included."""
    import random

    from scanner.parsers import reading, zipread

    rng = random.Random(5)
    entries = [zipread.Entry(f"assets/f{rng.randrange(50)}.js", i, 8, 0, rng.randrange(4), 10, 0) for i in range(300)]
    ordered = reading.largest_first(list(entries))
    assert ordered == sorted(entries, key=lambda e: (-e.compressed_size, e.name))
    assert [id(e) for e in ordered] == [id(e) for e in sorted(entries, key=lambda e: (-e.compressed_size, e.name))]
