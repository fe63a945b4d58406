"""The message catalog's upkeep: extract every message for people from the code and the data tables,
merge it into ``scanner/locale/zh_CN/LC_MESSAGES/beian-scan.po`` and compile the ``.mo`` the tool reads.

    python tests/i18n_catalog.py update    # after changing messages: new msgids appear untranslated
    python tests/i18n_catalog.py compile   # after translating: writes the .mo

Babel extracts ``msg(...)`` and ``N_(...)`` calls (their first argument is the English template) from
scanner/ and rules/, and ``_(...)`` from the HTML report's template; the catalogs' own texts that
reports show (a host's reason, a rejected province's reason) are msgids too. tests/test_i18n.py holds
the catalog to this: no message without its Chinese, no Chinese without its message, the same
placeholders in both, and the .mo compiled from the .po.
"""

from __future__ import annotations

import io
import json
import pathlib
import sys

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir, extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = pathlib.Path(__file__).resolve().parent.parent
LOCALE = ROOT / "scanner" / "locale"
PO = LOCALE / "zh_CN" / "LC_MESSAGES" / "beian-scan.po"
MO = PO.with_suffix(".mo")
KEYWORDS = {"msg": None, "N_": None, "_": None}
TEMPLATES = (ROOT / "scanner" / "batch" / "templates",)


def _data_texts() -> list[tuple[str, str]]:
    """(msgid, where) for the data tables' texts a report shows."""
    data = ROOT / "scanner" / "facts" / "data"
    hosts = json.loads((data / "hosts.json").read_text(encoding="utf-8"))
    filing = json.loads((data / "filing.json").read_text(encoding="utf-8"))
    found = [(entry["reason"], "scanner/facts/data/hosts.json") for entry in hosts["hosts"].values()
             if isinstance(entry, dict) and "reason" in entry]
    found += [(reason, "scanner/facts/data/filing.json") for reason in filing["rejected_provinces"].values()]
    return found


def extract() -> Catalog:
    """Every message for people, with where it is used."""
    template = Catalog(project="beian-scan", domain="beian-scan", charset="utf-8")
    for folder in ("scanner", "rules"):
        for filename, lineno, message, _comments, _context in extract_from_dir(
                ROOT / folder, method_map=[("**.py", "python")], keywords=KEYWORDS):
            if message:
                template.add(message, locations=[(f"{folder}/{filename}", lineno)])
    for folder in TEMPLATES:
        for path in sorted(folder.glob("*.html.j2")):
            for lineno, message, _comments, _context in extract_from_file(
                    "jinja2", str(path), keywords=KEYWORDS, options={"trimmed": "true"}):
                if message:
                    template.add(message, locations=[(path.relative_to(ROOT).as_posix(), lineno)])
    for message, where in _data_texts():
        template.add(message, locations=[(where, 0)])
    return template


def read() -> Catalog:
    """The Chinese catalog as committed."""
    with PO.open("rb") as handle:
        return read_po(handle, locale="zh_CN", domain="beian-scan")


def compiled(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalog)
    return out.getvalue()


def update() -> None:
    """Merge the extracted messages into the .po: new ones empty, gone ones dropped."""
    template = extract()
    catalog = read() if PO.exists() else Catalog(locale="zh_CN", domain="beian-scan", project="beian-scan")
    catalog.update(template, no_fuzzy_matching=True)
    catalog.obsolete.clear()
    PO.parent.mkdir(parents=True, exist_ok=True)
    with PO.open("wb") as handle:
        write_po(handle, catalog, width=100, sort_output=False, include_previous=False)


def compile_mo() -> None:
    MO.write_bytes(compiled(read()))


if __name__ == "__main__":
    {"update": update, "compile": compile_mo}[sys.argv[1]]()
