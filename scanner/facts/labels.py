"""Texts that are a filing-number label and nothing else: ``ICP备案号：``, ``App备案号：%s``.

An app that fetches its number from a server shows the label from a resource and the number from the
network: the package then holds the label with no number anywhere (FIL001 says the number may be filled
in at run time, and that it could not be checked here).
"""

from __future__ import annotations

import re

LABEL = re.compile(
    r"(?:app|应用|小程序|快应用)?\s*(?P<icp>icp)?\s*备案(?P<no>号|编号)?\s*[:：]?\s*"
    # a placeholder the code fills: printf (%s, %1$s), {0}, ${no}, {{no}}
    r"(?P<slot>%(?:\d+\$)?s|\{\w*\}|\$\{\w*\}|\{\{\s*\w+\s*\}\})?",
    re.IGNORECASE)
MAX_LABEL_CHARS = 40


def is_number_label(value: str) -> bool:
    """Whether the whole text is a filing-number label (with at most a placeholder for the number)."""
    text = value.strip()
    if len(text) > MAX_LABEL_CHARS or "备案" not in text:
        return False
    match = LABEL.fullmatch(text)
    return bool(match and (match["no"] or match["icp"] or match["slot"]))
