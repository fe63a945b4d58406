#!/usr/bin/env python3
"""Generate large, realistic APKs for the benchmark with the same real tools as the fixtures.

Shapes (each at scale S, so that the cost can be shown to grow linearly with the package):
- ``today``: 4×S ``classes*.dex`` assembled by smali (each 20,000 classes, 60,000 methods and ~140,000
  strings), a resources.arsc with 3,000 strings in four locales (aapt), S native libraries of ~30 MB
  each (gcc, random and text sections), S JS bundles of ~12 MB each. Scale 1 is about 40 MB.
- ``resources``: the shape of a large Chinese app's resource table: 20,000×S strings in each of 12
  locales, plus 1,000×S string arrays and 1,000×S plurals per locale (aapt), 2 DEX files.
- ``manydex``: 12×S DEX files (each 14,000 classes), about 60 MB at scale 1.
- ``assets``: 20,000×S small asset members (an H5 shell: pages, scripts, styles of 1–4 KB), 1 DEX.
- ``footer``: an H5 shell exported by a static-site generator, every page carrying the filing footer
  (备案, the number and the link): 40,000 pages of about 370 bytes at scale 1, 64,000 at scale 2 (an APK
  holds at most 65,535 entries), 1 DEX; the report is one number and one link, their locations capped.
- ``frameworks``: a React Native + Flutter app: a Hermes bundle of 10×S MB (``assets/index.android.bundle``,
  bytecode 96, written by ``hermes_bundle`` below in the layout scanner/extract/hermes.py documents:
  one-byte and UTF-16 strings, overflow entries past the 8 MB the small table can address) holding the
  number, and a Flutter ``lib/arm64-v8a/libapp.so`` of 10×S MB (gcc, a ``_kDartIsolateSnapshotData`` of
  back-to-back Dart string records) holding the link, beside one DEX.
In every shape the filing number appears once, deep inside the last DEX (or in a resource string for
``resources``), and the filing-system link once, near the end of the last JS bundle or asset.

Usage: python3 bench/make_apk.py [SHAPE] SCALE OUT.apk   (SHAPE defaults to today; needs aapt,
android-framework-res, smali, zipalign, apksigner, gcc; the generated files are not committed)
"""

from __future__ import annotations

import importlib.util
import random
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
_SPEC = importlib.util.spec_from_file_location("hermes_writer", HERE.parent / "fixtures" / "hermes" / "writer.py")
writer = importlib.util.module_from_spec(_SPEC)  # the project's own Hermes writer
_SPEC.loader.exec_module(writer)  # type: ignore[union-attr]

KEYSTORE = HERE.parent / "fixtures" / "keys" / "fixtures.keystore"
FRAMEWORK = "/usr/share/android-framework-res/framework-res.apk"
NUMBER = "ICP备案号：粤ICP备2023123456号-1A"
LINK = "https://beian.miit.gov.cn/"
CLASSES_PER_DEX = 20000
LOCALES = ("default", "zh-rCN", "zh-rTW", "en-rUS")
MANY_LOCALES = ("default", "zh-rCN", "zh-rTW", "zh-rHK", "en-rUS", "en-rGB", "ja", "ko", "fr", "de", "es", "ru")
SHAPES = ("today", "resources", "manydex", "assets", "frameworks", "footer")
FOOTER_PAGES = {1: 40000, 2: 64000}
WORDS = ("account", "setting", "network", "profile", "message", "upload", "refresh", "payment", "order",
         "消息", "设置", "账户", "网络", "刷新", "支付", "订单", "上传")


def run(*cmd: str, cwd: Path | None = None) -> None:
    subprocess.run(cmd, check=True, cwd=cwd, stdout=subprocess.DEVNULL)


def smali_class(pkg: str, index: int, rng: random.Random, extra: str = "") -> str:
    methods = []
    for m in range(3):
        consts = "".join(
            f'    const-string v0, "{rng.choice(WORDS)}_{index}_{m}_{k}_{rng.getrandbits(32):08x}"\n' for k in range(2)
        )
        methods.append(f".method public m{m}()Ljava/lang/String;\n    .registers 2\n{consts}    return-object v0\n"
                       ".end method\n")
    if extra:
        methods.append(f'.method public static about()Ljava/lang/String;\n    .registers 1\n'
                       f'    const-string v0, "{extra.encode("unicode_escape").decode()}"\n    return-object v0\n'
                       ".end method\n")
    return f".class public L{pkg}/C{index};\n.super Ljava/lang/Object;\n\n" + "\n".join(methods)


def make_dex(work: Path, number: int, rng: random.Random, with_number: bool, classes: int = CLASSES_PER_DEX) -> Path:
    src = work / f"smali{number}"
    pkg = f"com/bench/p{number}"
    (src / pkg).mkdir(parents=True)
    deep = classes * 3 // 4
    for i in range(classes):
        extra = NUMBER if with_number and i == deep else ""
        (src / pkg / f"C{i}.smali").write_text(smali_class(pkg, i, rng, extra), encoding="utf-8")
    out = work / ("classes.dex" if number == 1 else f"classes{number}.dex")
    run("smali", "assemble", "-o", str(out), str(src))
    return out


def make_resources(work: Path, rng: random.Random, strings: int = 3000, bags: int = 0,
                   locales: tuple[str, ...] = LOCALES, number: bool = False) -> None:
    for locale in locales:
        folder = work / "res" / ("values" if locale == "default" else f"values-{locale}")
        folder.mkdir(parents=True)
        items = [f'<string name="s{i}">{rng.choice(WORDS)} {i} {rng.choice(WORDS)}</string>' for i in range(strings)]
        if number and locale == "zh-rCN":
            items[strings * 3 // 4] = f'<string name="about_icp">{NUMBER}</string>'
        for i in range(bags):
            items.append(f'<string-array name="a{i}"><item>{rng.choice(WORDS)} {i}</item>'
                         f'<item>{rng.choice(WORDS)} {i}b</item><item>{rng.choice(WORDS)} {i}c</item></string-array>')
            items.append(f'<plurals name="p{i}"><item quantity="one">{i} {rng.choice(WORDS)}</item>'
                         f'<item quantity="other">{i} {rng.choice(WORDS)}s</item></plurals>')
        folder.joinpath("strings.xml").write_text("<resources>\n<string name=\"app_name\">Bench</string>\n"
                                                  + "\n".join(items) + "\n</resources>\n", encoding="utf-8")
    (work / "AndroidManifest.xml").write_text(
        '<manifest xmlns:android="http://schemas.android.com/apk/res/android" package="com.bench.big" '
        'android:versionCode="1" android:versionName="1.0">\n'
        '<uses-permission android:name="android.permission.CAMERA"/>\n'
        '<application android:label="@string/app_name"/>\n</manifest>\n', encoding="utf-8")


def make_native(work: Path, index: int, rng: random.Random) -> str:
    blob = work / f"blob{index}.bin"
    with blob.open("wb") as out:
        for chunk in range(30):
            out.write(rng.randbytes(800 * 1024))  # code-like, incompressible
            text = " ".join(f"sym_{rng.choice(WORDS)}_{chunk}_{i}" for i in range(20000))
            out.write(text.encode("utf-8")[: 224 * 1024])
    source = work / f"native{index}.c"
    source.write_text(f'__asm__(".section .rodata\\n.global blob{index}\\nblob{index}:\\n.incbin \\"{blob}\\"\\n");\n'
                      f"int bench_native_{index}(void) {{ return {index}; }}\n", encoding="utf-8")
    rel = f"lib/arm64-v8a/libbench{index}.so"
    (work / rel).parent.mkdir(parents=True, exist_ok=True)
    run("gcc", "-shared", "-fPIC", "-O0", "-o", str(work / rel), str(source))
    return rel


def make_bundle(work: Path, index: int, rng: random.Random, with_link: bool) -> None:
    parts = []
    size = 0
    while size < 12 * 1024 * 1024:
        name = f"{rng.choice(WORDS)}{rng.getrandbits(24):06x}"
        part = (f'function {name}(a,b){{var c="{rng.choice(WORDS)} {rng.getrandbits(40):x}";'
                f'return a?b+c:"\\u6d88\\u606f"+c+"{rng.randbytes(24).hex()}"}}')
        parts.append(part)
        size += len(part)
    if with_link:
        parts.insert(len(parts) - 50, f'var beian="{LINK}";')
    bundle = work / "assets" / f"index{index}.android.bundle"
    bundle.parent.mkdir(parents=True, exist_ok=True)
    bundle.write_text(";".join(parts), encoding="utf-8")


def hermes_bundle(size: int, rng: random.Random, number: str) -> bytes:
    """A Hermes bytecode file (fixtures/hermes/writer.py) whose string table holds ``size`` bytes of
    strings, the number (UTF-16, as Hermes stores any non-ASCII string) among the last ones."""
    strings, total = [], 0
    while total < size:
        if rng.random() < 0.1:
            value = f"{rng.choice(WORDS)}{rng.choice(WORDS)}{rng.getrandbits(16):04x}"
        else:
            value = f"{rng.choice(WORDS)}_{rng.getrandbits(48):012x}_{rng.randbytes(8).hex()}"
        strings.append(value)
        total += len(value) if value.isascii() else 2 * len(value)
    strings.insert(len(strings) - 3, number)
    return writer.hermes_bundle(strings)


def dart_snapshot(size: int, rng: random.Random, link: str) -> bytes:
    """``_kDartIsolateSnapshotData``: the snapshot header and ``size`` bytes of back-to-back String
    cluster records (Dart varint of length << 1 | two_byte, then Latin-1 or UTF-16LE code units)."""
    out = bytearray(b"\xf5\xf5\xdc\xdc" + bytes(16) + b"ee1eb666c76a5cb7746faf39d0b97547"
                    + b"product no-code_comments arm64 android compressed-pointers null-safety\0")
    while len(out) < size:
        value = link if abs(len(out) - size * 3 // 4) < 60 else f"{rng.choice(WORDS)}_{rng.getrandbits(40):010x}"
        wide = not value.isascii()
        units = value.encode("utf-16-le" if wide else "latin-1")
        number = ((len(units) // 2 if wide else len(units)) << 1) | wide
        while number > 0x7F:
            out.append(number & 0x7F)
            number >>= 7
        out.append(number | 0x80)
        out += units
    return bytes(out)


def make_frameworks(work: Path, scale: int, rng: random.Random) -> list[str]:
    bundle = work / "assets" / "index.android.bundle"
    bundle.parent.mkdir(parents=True, exist_ok=True)
    bundle.write_bytes(hermes_bundle(10 * 1024 * 1024 * scale, rng, NUMBER.split("：")[1]))
    blob = work / "dart.bin"
    blob.write_bytes(dart_snapshot(10 * 1024 * 1024 * scale, rng, LINK))
    source = work / "libapp.c"
    source.write_text('__asm__(".section .rodata\\n.global _kDartIsolateSnapshotData\\n_kDartIsolateSnapshotData:\\n'
                      f'.incbin \\"{blob}\\"\\n");\n', encoding="utf-8")
    rel = "lib/arm64-v8a/libapp.so"
    (work / rel).parent.mkdir(parents=True, exist_ok=True)
    run("gcc", "-shared", "-fPIC", "-O0", "-o", str(work / rel), str(source))
    return [rel]


def make_assets(work: Path, count: int, rng: random.Random) -> None:
    """An H5 shell's www folder: many small pages, scripts and styles; the link in one late page."""
    www = work / "assets" / "www"
    for i in range(count):
        folder = www / f"m{i // 500}"
        folder.mkdir(parents=True, exist_ok=True)
        kind = ("html", "js", "css")[i % 3]
        body = " ".join(f"{rng.choice(WORDS)}{rng.getrandbits(20):05x}" for _ in range(rng.randrange(120, 480)))
        if i == count - 7:
            body += f' <a href="{LINK}">备案</a>'
        (folder / f"f{i}.{kind}").write_text(f"<!-- {i} -->\n{body}\n", encoding="utf-8")


def make_footer_pages(work: Path, count: int, rng: random.Random) -> None:
    """Pages of about 370 bytes, each with the site's filing footer (a static export repeats it)."""
    www = work / "assets" / "www"
    for i in range(count):
        folder = www / f"p{i // 1000}"
        folder.mkdir(parents=True, exist_ok=True)
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randrange(14, 22)))
        page = (f"<!doctype html><html><head><meta charset=\"utf-8\"><title>{i}</title></head><body>"
                f"<p>{words}</p><footer><a href=\"{LINK}\">{NUMBER}</a> 备案</footer></body></html>\n")
        (folder / f"{i}.html").write_text(page, encoding="utf-8")


def build(scale: int, out: Path, shape: str = "today") -> None:
    rng = random.Random(20261129 + scale + 1000 * SHAPES.index(shape))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if shape == "resources":
            make_resources(work, rng, strings=20000 * scale, bags=1000 * scale, locales=MANY_LOCALES, number=True)
            make_bundle(work, 1, rng, with_link=True)
        else:
            make_resources(work, rng)
        if shape == "today":
            for i in range(1, scale + 1):
                make_bundle(work, i, rng, with_link=i == scale)
        elif shape == "manydex":
            make_bundle(work, 1, rng, with_link=True)
        elif shape == "assets":
            make_assets(work, 20000 * scale, rng)
        elif shape == "footer":
            make_footer_pages(work, FOOTER_PAGES[min(scale, 2)], rng)
        elif shape == "frameworks":
            native = make_frameworks(work, scale, rng)
        unsigned = work / "unsigned.apk"
        run("aapt", "package", "-f", "-M", str(work / "AndroidManifest.xml"), "-S", str(work / "res"),
            "-A", str(work / "assets"), "-I", FRAMEWORK, "-F", str(unsigned))
        ndex = {"today": 4 * scale, "resources": 2, "manydex": 12 * scale, "assets": 1, "frameworks": 1,
                "footer": 1}[shape]
        classes = 14000 if shape == "manydex" else CLASSES_PER_DEX
        with_number = shape not in ("resources", "frameworks", "footer")
        added = [make_dex(work, n, rng, with_number=with_number and n == ndex, classes=classes).name
                 for n in range(1, ndex + 1)]
        if shape == "today":
            added += [make_native(work, i, rng) for i in range(1, scale + 1)]
        if shape == "frameworks":
            added += native
        run("aapt", "add", str(unsigned), *added, cwd=work)
        aligned = work / "aligned.apk"
        run("zipalign", "-f", "4", str(unsigned), str(aligned))
        run("apksigner", "sign", "--ks", str(KEYSTORE), "--ks-pass", "pass:beianscan", "--out", str(out),
            str(aligned))
        Path(str(out) + ".idsig").unlink(missing_ok=True)


if __name__ == "__main__":
    args = sys.argv[1:]
    if len(args) == 2:
        args = ["today", *args]
    if len(args) != 3 or args[0] not in SHAPES:
        sys.exit(__doc__)
    if args[0] == "assets" and 20000 * int(args[1]) > 65000:
        # An APK is a zip without zip64 (aapt writes none, Android reads none): at most 65,535 entries.
        sys.exit("assets: at most scale 3 (60,000 members); an APK holds at most 65,535 entries")
    build(int(args[1]), Path(args[2]), args[0])
