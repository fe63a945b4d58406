#!/usr/bin/env python3
"""Generate large HarmonyOS (.hap) and iOS (.ipa) packages for the benchmark with the project's own
writers (fixtures/harmony/hap_writer.py, fixtures/ios/ipa_writer.py): about 100 MB at scale 1.

- ``hap``: ets/modules.abc with 400,000×S strings (~30 MB), a 30 MB native library (random and text),
  a 12 MB H5 bundle in resources/rawfile, resources.index v2 with 5,000 strings in 4 qualifiers, and
  60 MB of media; the number in the bytecode, the link near the end of the bundle.
- ``ipa``: a FAT Mach-O of two 30 MB slices (random and text), a 12 MB www bundle, .strings in 4
  languages, 40 MB of images; the number in a slice's __ustring, the link near the end of the bundle.

Usage: python3 bench/make_platform.py hap|ipa SCALE OUT
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "fixtures" / "harmony"), str(HERE.parent / "fixtures" / "ios")]

import hap_writer  # noqa: E402
import ipa_writer  # noqa: E402

NUMBER = "粤ICP备2023123456号-1A"
LINK = "https://beian.miit.gov.cn/"
WORDS = ("account", "setting", "network", "profile", "message", "upload", "refresh", "payment", "order",
         "消息", "设置", "账户", "网络", "刷新", "支付", "订单", "上传")


def _text(rng: random.Random, size: int) -> bytes:
    parts, total = [], 0
    while total < size:
        part = f"{rng.choice(WORDS)}_{rng.getrandbits(32):08x} "
        parts.append(part)
        total += len(part)
    return "".join(parts).encode()[:size]


def _blob(rng: random.Random, megabytes: int) -> bytes:
    return b"".join(rng.randbytes(800 * 1024) + _text(rng, 224 * 1024) for _ in range(megabytes))


def _bundle(rng: random.Random) -> bytes:
    body = _text(rng, 12 << 20)
    cut = len(body) - 4096
    return body[:cut] + f' var beian="{LINK}"; '.encode() + body[cut:]


def hap(scale: int, rng: random.Random) -> bytes:
    strings = [f"{rng.choice(WORDS)}{i}_{rng.getrandbits(24):06x}" for i in range(400_000 * scale)]
    strings.insert(len(strings) * 3 // 4, f"备案号：{NUMBER}")
    resources = [(f"s{i}", hap_writer.STRING, {q: f"{rng.choice(WORDS)} {i}" for q in ("base", "zh_CN", "en_US",
                                                                                       "zh_TW")})
                 for i in range(5000)]
    files = {"module.json": hap_writer.module_json("com.bench.hap", [{"name": "ohos.permission.INTERNET"}]),
             "resources.index": hap_writer.resources_index_v2(resources),
             "ets/modules.abc": hap_writer.modules_abc(strings),
             "resources/rawfile/www/index.js": _bundle(rng),
             "pack.info": hap_writer.pack_info("com.bench.hap", [("entry", "entry")])}
    for i in range(scale):
        files[f"libs/arm64-v8a/libbench{i}.so"] = _blob(rng, 30)
        files[f"resources/base/media/pic{i}.png"] = rng.randbytes(60 << 20)
    return hap_writer.zipped(files, sign=True)


def ipa(scale: int, rng: random.Random) -> bytes:
    files = {"Payload/Bench.app/Info.plist": ipa_writer.info_plist("com.bench.ipa", "Bench", "Bench", {}),
             "Payload/Bench.app/www/index.js": _bundle(rng)}
    cpus = (ipa_writer.CPU_ARMV7, ipa_writer.CPU_ARM64)
    slices = [ipa_writer.macho([rng.choice(WORDS)] * 4, [f"备案号：{NUMBER}"] if i == 1 else [], cputype=cpus[i],
                               const=_blob(rng, 30 * scale)) for i in range(2)]
    files["Payload/Bench.app/Bench"] = ipa_writer.fat(slices)
    for lang in ("zh-Hans", "zh-Hant", "en", "ja"):
        pairs = {f"k{i}": f"{rng.choice(WORDS)} {i}" for i in range(5000)}
        files[f"Payload/Bench.app/{lang}.lproj/Localizable.strings"] = ipa_writer.strings(pairs)
    for i in range(scale):
        files[f"Payload/Bench.app/img{i}.png"] = rng.randbytes(40 << 20)
    return ipa_writer.ipa(files)


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("hap", "ipa"):
        sys.exit(__doc__)
    make = hap if sys.argv[1] == "hap" else ipa
    Path(sys.argv[3]).write_bytes(make(int(sys.argv[2]), random.Random(20261201 + int(sys.argv[2]))))
