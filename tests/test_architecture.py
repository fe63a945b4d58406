"""The architecture holds in the code (docs/architecture.md): one parser contract and registry, a
facts stage of its own, rules that own their options, a typed formatter registry."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import zipfile

from scanner import engine
from scanner.engine import parse_options
from scanner.model import Location, Options, Package, PackageInfo, PackageKind, ParseOptions, Text
from scanner.parsers import PACKAGE_FORMATS, Format, Probe, Source, detect, parse

from conftest import ROOT

PARSERS = ROOT / "scanner" / "parsers"


def test_a_toy_format_is_one_module_and_one_row(tmp_path):
    """A new format: a sniff, a parse, a row in the table, and the engine scans it."""

    def sniff(probe: Probe) -> bool:
        return probe.head.startswith(b"TOY1")

    def parse_toy(source: Source, options: ParseOptions) -> Package:
        with open(source.path, encoding="utf-8") as handle:
            body = handle.read()[4:]
        info = PackageInfo(path=source.path, format="toy", sha256="0" * 64, app_id="com.example.toy")
        return Package(info, PackageKind.APP, (), (Text(body, Location("toy.txt", "asset", "line 1")),))

    formats = (*PACKAGE_FORMATS, Format("toy", sniff, parse_toy))
    toy = tmp_path / "app.toy"
    toy.write_text("TOY1关于：粤ICP备2023123456号-1A https://beian.miit.gov.cn/", encoding="utf-8")
    assert detect(str(toy), formats).name == "toy"
    result = engine.scan_path(str(toy), Options(), formats=formats)
    assert result.error is None and result.info.app_id == "com.example.toy"
    assert [n.value for n in result.facts.filing_numbers] == ["粤ICP备2023123456号-1A"]
    assert not {f.rule_id for f in result.findings} & {"FIL001", "LNK001"}
    # without the row, the same file is not a package
    assert engine.scan_path(str(toy), Options()).error.rule_id == "PKG001"


def test_every_format_row_reads_its_own_fixture(apk_path):
    from conftest import MINIPROGRAMS

    for path, name in ((apk_path("compliant"), "apk"), (MINIPROGRAMS / "out" / "compliant.wxapkg", "wxapkg"),
                       (MINIPROGRAMS / "out" / "quickapp_compliant.rpk", "rpk"),
                       (MINIPROGRAMS / "src_native", "miniprogram-source"),
                       (MINIPROGRAMS / "out" / "split", "wxapkg-folder")):
        assert detect(str(path)).name == name
        assert parse(str(path), parse_options()).info is not None


def test_an_apk_set_is_its_own_row(apk_path, tmp_path):
    bundle = tmp_path / "app.apks"
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.write(apk_path("compliant"), "base.apk")
    assert detect(str(bundle)).name == "apk-set"


def _imports(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "scanner.parsers":
            yield from (alias.name for alias in node.names)


def test_no_parser_imports_from_the_package_init():
    """Parser modules share scanner.parsers.common; from the package they import only sibling modules."""
    modules = {p.stem for p in PARSERS.glob("*.py")}
    for path in PARSERS.glob("*.py"):
        if path.name == "__init__.py":
            continue
        names = set(_imports(path))
        assert names <= modules, (path.name, names - modules)


def _modules_imported(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def test_parsers_and_extractors_never_import_the_facts():
    """Parsers describe, facts judge: what a parser needs of the catalogs comes in the parse options (the
    prefilter the engine builds) or from scanner.catalogs, never from scanner.facts (issue 24)."""
    for folder in (PARSERS, ROOT / "scanner" / "extract"):
        for path in folder.glob("*.py"):
            facts = [m for m in _modules_imported(path) if m == "scanner.facts" or m.startswith("scanner.facts.")]
            assert not facts, (path.name, facts)


# Where a module may be imported inside a function (issue 24): the command line decides what a run loads
# (scanner/cli.py, scanner/batch/cli.py), and a few libraries only a rare path needs stay off every other
# run's start-up; each (module, library) pair says why. Everything else imports at the top of its module.
COMMAND_LINE = {"scanner/cli.py", "scanner/batch/cli.py"}
RARE_PATH_IMPORTS = {
    ("scanner/batch/runner.py", "distributed"): "Dask (about 0.5 s to import) only for --dask",
    ("scanner/config.py", "jsonschema"): "only when a config file is read",
    ("scanner/catalogs.py", "jsonschema"): "only when a catalog is validated (tests, catalog authors)",
    ("scanner/config.py", "scanner.privacy_policy"): "http.client and ssl only for a run given policies",
    ("scanner/engine.py", "scanner.privacy_policy"): "http.client and ssl only for a run that fetches",
    ("scanner/parsers/apk.py", "lxml"): "a manifest shipped as text XML: a tampered package only",
    ("scanner/parsers/apk.py", "loguru"): "androguard's lenient reader, a tampered package only",
    ("scanner/parsers/apk.py", "androguard.core"): "androguard's lenient reader, a tampered package only",
    ("scanner/parsers/wxapkg.py", "cryptography.hazmat.primitives"): "PC-encrypted wxapkg only",
    ("scanner/parsers/wxapkg.py", "cryptography.hazmat.primitives.ciphers"): "PC-encrypted wxapkg only",
    ("scanner/parsers/wxapkg.py", "cryptography.hazmat.primitives.kdf.pbkdf2"): "PC-encrypted wxapkg only",
    ("scanner/parsers/zipread.py", "zipfile"): "an archive our reader refuses, read again by zipfile",
    ("scanner/parsers/zipread.py", "apkInspector.headers"): "a tampered central directory only",
}


def _function_level_imports(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for sub in ast.walk(node):
                if isinstance(sub, ast.ImportFrom) and sub.module == "scanner":
                    yield from (f"scanner.{alias.name}" for alias in sub.names)
                elif isinstance(sub, ast.ImportFrom):
                    yield sub.module or ""
                elif isinstance(sub, ast.Import):
                    yield from (alias.name for alias in sub.names)


def test_lazy_imports_live_at_the_command_line_and_on_rare_paths_only():
    found = set()
    for folder in (ROOT / "scanner", ROOT / "rules"):
        for path in folder.rglob("*.py"):
            name = path.relative_to(ROOT).as_posix()
            if name in COMMAND_LINE:
                continue
            found |= {(name, module) for module in _function_level_imports(path)}
    assert found <= set(RARE_PATH_IMPORTS), sorted(found - set(RARE_PATH_IMPORTS))
    assert set(RARE_PATH_IMPORTS) <= found, sorted(set(RARE_PATH_IMPORTS) - found)  # the table stays true


def test_rules_holds_the_registry_and_rules_only():
    for path in (ROOT / "rules").glob("*.py"):
        if path.name == "__init__.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top = {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets
               if isinstance(t, ast.Name)}
        functions = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
        assert "RULE" in top or {"UNREADABLE", "ENCRYPTED"} <= top, path.name
        assert "check" in functions or path.name == "package_errors.py", path.name
    assert not (ROOT / "rules" / "data").exists()


def test_the_number_normalizer_loads_no_rule():
    code = ("import sys; from scanner.facts.numbers import normalize; normalize('粤ICP备2023123456号－1A'); "
            "print(sorted(m for m in sys.modules if m.startswith(('scanner.rules', 'scanner.parsers'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"


def test_parsers_name_no_rule_id():
    """A parser raises PackageUnreadable / PackageEncrypted; the engine maps them to PKG001 / PKG002."""
    import re

    for path in PARSERS.glob("*.py"):
        assert not re.search(r"[\"'](?:PKG|FIL|LNK|PRM|MPP)\d{3}", path.read_text(encoding="utf-8")), path.name


def test_concurrency_is_chosen_by_the_kind_of_run(monkeypatch, apk_path):
    """A single scan may fork one helper; a batch worker never forks; both give the same result."""
    from scanner import concurrency
    from scanner.formatters import json_report
    from scanner.parsers import offload

    monkeypatch.setattr(offload, "MIN_COMPRESSED", 0)
    monkeypatch.setattr(concurrency.os, "cpu_count", lambda: 2)
    # Earlier tests may leave library threads behind (a Dask cluster's event loop): as for a fresh scan.
    monkeypatch.setattr(offload.threading, "active_count", lambda: 1)
    forks = []
    real_fork = offload.os.fork
    monkeypatch.setattr(offload.os, "fork", lambda: forks.append(1) or real_fork())
    # Both sides scan a member (tiny fixtures would otherwise hand the helper everything: no fork).
    monkeypatch.setattr(offload, "split", lambda queue, _head: (queue[:1], queue[1:]))
    paths = [apk_path("large_bundle"), apk_path("native_only")]

    def report(mode):
        data = json_report.to_dict(engine.scan(paths, Options(), mode=mode))
        return json.dumps(data, sort_keys=True)

    single = report(concurrency.Mode.SINGLE)
    assert len(forks) == 2
    worker = report(concurrency.Mode.BATCH_WORKER)
    assert len(forks) == 2 and worker == single
    assert not concurrency.options_for(concurrency.Mode.BATCH_WORKER, Options()).parse.offload
    monkeypatch.setattr(concurrency.os, "cpu_count", lambda: 1)
    assert not concurrency.options_for(concurrency.Mode.SINGLE, Options()).parse.offload


def test_batch_forkserver_preloads_every_lazy_format():
    """Formats are imported on first use, but a batch's workers are forked from one preloaded server:
    every lazily imported parser module is preloaded there, not imported again in each worker."""
    import importlib

    from scanner import parsers
    from scanner.batch import worker

    assert len(parsers.LAZY_MODULES) >= 11 and "scanner.parsers.wxapkg" in parsers.LAZY_MODULES
    for name in parsers.LAZY_MODULES:
        importlib.import_module(name)
    assert set(parsers.LAZY_MODULES) <= set(worker.preload())


def test_batch_forkserver_starts_warm():
    """The forkserver's set-up (scanner.batch.server) calls warmup.warm, whose bundled APK (the compliant
    fixture, kept equal by fixtures/build.py) is scanned once there: workers forked from it find the caches a first scan
    fills already filled. (What start-up costs is measured by bench/startup.py against its budget.)"""
    warm = ROOT / "scanner" / "batch" / "warm.apk"
    assert warm.read_bytes() == (ROOT / "fixtures" / "apk" / "compliant.apk").read_bytes()
    code = ("from scanner.batch import warmup; warmup.warm(); from scanner.facts import numbers; "
            "from scanner.extract.prefilter import _automaton; "
            "print(numbers.patterns.cache_info().currsize, _automaton.cache_info().currsize)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    patterns, automata = map(int, out.stdout.split())
    assert patterns == 1 and automata >= 3


def _golden_locations():
    import json

    def walk(value):
        if isinstance(value, dict):
            if set(value) == {"member", "kind", "pointer"}:
                yield value
            for item in value.values():
                yield from walk(item)
        elif isinstance(value, list):
            for item in value:
                yield from walk(item)

    for path in sorted((ROOT / "tests" / "golden").glob("*.json")):
        yield from walk(json.loads(path.read_text(encoding="utf-8")))


def test_locations_are_typed_and_their_pointers_render_from_the_types():
    """Location.pointer is rendered from typed positions and read back exactly (a batch judges stored
    results with read-back locations); ``stable``, what fingerprints read, is what the regular expression
    that fingerprints used to apply to the pointer text gave, on every location of every golden report
    (issue 24: fingerprints unchanged, existing baselines keep matching)."""
    import re

    from scanner.model import Location

    volatile = re.compile(r"(?:line|offset) \d+|string_ids\[\d+\]")
    seen = {"string_id": 0, "offset": 0, "line": 0}
    count = 0
    for data in _golden_locations():
        location = Location.read(data["member"], data["kind"], data["pointer"])
        assert location.pointer == data["pointer"]
        assert location.stable == volatile.sub("", data["pointer"]), data["pointer"]
        for key in seen:
            seen[key] += getattr(location, key) is not None
        count += 1
    assert count > 150 and all(n >= 3 for n in seen.values()), (count, seen)


def test_no_layer_reads_positions_out_of_pointer_text():
    """Fingerprints, source lines and resource files read the typed fields: no module outside the model
    takes a pointer apart (``Location.read`` is the JSON reader's one inverse of the renderer)."""
    for path in (ROOT / "scanner").rglob("*.py"):
        if path.name == "model.py":
            continue
        text = path.read_text(encoding="utf-8")
        for needle in ("pointer.split", "pointer.partition", ".search(location.pointer", ".match(location.pointer",
                       "sub(\"\", loc.pointer", ".search(text.location.pointer"):
            assert needle not in text, (path.name, needle)


def test_one_way_to_read_an_archives_members():
    """Every zip-based format scans its members through scanner.parsers.reading (the helper, the
    read-ahead thread, windowed reading in order and grouped texts live there); a parser says what it
    wants read, never how it is scheduled (issue 24)."""
    scheduling = ("read_in_order(", "ReadAhead(", "members.read_texts(", "offload.Helper(", "os.fork(")
    owners = {"reading.py", "offload.py", "members.py", "zipread.py", "prefetch.py"}
    for path in PARSERS.glob("*.py"):
        if path.name in owners:
            continue
        text = path.read_text(encoding="utf-8")
        assert not [s for s in scheduling if s in text], path.name
    for name in ("apk.py", "hap.py", "ipa.py", "aab.py", "rpk.py"):
        assert "reading.Members(" in (PARSERS / name).read_text(encoding="utf-8"), name
