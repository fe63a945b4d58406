"""Values the command line needs before anything is scanned (flag ranges, the AppID shape, the preset
names): kept free of the model and the parsers, so ``--help`` and ``--version`` stay instant."""

from __future__ import annotations

import functools
import json
import os
import re
from typing import Any

WXID = re.compile(r"^wx[0-9a-f]{16}$")
"""A mini-program AppID: ``wx`` and 16 lower-case hex digits (the key of V1MMWX packages)."""
LIMIT_MINIMUMS = {"max-member-mb": 1, "max-package-mb": 1, "max-ratio": 2, "max-members": 1, "max-depth": 0}
"""The smallest value of each cap, for the flags and the config file alike (0 nesting levels: an APK
set's inner APKs are refused; a ratio below 2 would refuse plain deflate)."""


@functools.cache
def presets() -> dict[str, dict[str, Any]]:
    """The presets (scanner/schemas/presets.json): data, like yamllint's ``extends``, not engine branches."""
    with open(os.path.join(os.path.dirname(__file__), "schemas", "presets.json"), encoding="utf-8") as handle:
        data: dict[str, dict[str, Any]] = json.load(handle)
    return data
