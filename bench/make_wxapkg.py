#!/usr/bin/env python3
"""Generate a realistic 4 MB wxapkg with 300 members for the benchmark, with the project's own writer.

Members: app-config.json, a ~1.5 MB app-service.js of page modules (location calls in some, the
filing number once in the about module), compiled page HTML, and images. Usage:
python3 bench/make_wxapkg.py OUT.wxapkg [MEMBERS] [MEGABYTES]
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fixtures" / "miniprogram"))

from writer import write_wxapkg


def build(members: int, megabytes: float, seed: int = 4) -> bytes:
    rng = random.Random(seed)
    target = int(megabytes * 1024 * 1024)
    pages = [f"pages/p{i}/index" for i in range(members // 3)]
    config = {"pages": pages, "requiredPrivateInfos": ["getLocation"],
              "permission": {"scope.userLocation": {"desc": "用于展示附近门店"}}}
    modules = []
    for i, page in enumerate(pages):
        call = 'wx.getLocation({type:"gcj02"});' if i % 10 == 0 else ""
        body = ";".join(f'var v{j}="{rng.randbytes(12).hex()}\\u6d88\\u606f"' for j in range(40))
        modules.append(f'define("{page}.js",function(require,module,exports){{{call}{body}}});')
    modules.insert(len(modules) // 2, 'define("pages/about/index.js",function(){Page({data:{icp:'
                   '"\\u5907\\u6848\\u53f7\\uff1a\\u7ca4ICP\\u59072023123456\\u53f7-1X",'
                   'link:"https:\\/\\/beian.miit.gov.cn\\/"}})});')
    files: dict[str, bytes] = {"/app-config.json": json.dumps(config).encode(),
                               "/app-service.js": "\n".join(modules).encode()}
    html_count = members - len(files) - members // 3
    for i in range(html_count):
        files[f"/pages/p{i}/index.html"] = ("<view>" + "内容" * rng.randint(200, 2000) + "</view>").encode()
    images = members - len(files)
    size_left = max(0, target - sum(len(v) for v in files.values()))
    for i in range(images):
        files[f"/images/img{i}.png"] = b"\x89PNG\r\n\x1a\n" + rng.randbytes(size_left // max(1, images))
    return write_wxapkg(files)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    size = float(sys.argv[3]) if len(sys.argv) > 3 else 4.0
    Path(sys.argv[1]).write_bytes(build(count, size))
