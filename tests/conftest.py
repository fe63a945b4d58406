"""Shared test helpers: paths, in-memory package factories (detect-secrets' testing/factories idea)."""

from __future__ import annotations

import os
import sys
import sysconfig
from pathlib import Path

import pytest

from scanner.model import Location, Options, Package, PackageInfo, PackageKind, ScanResult, Text

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
APKS = FIXTURES / "apk"
MINIPROGRAMS = FIXTURES / "miniprogram"
GOLDEN = ROOT / "tests" / "golden"
sys.path.insert(0, str(ROOT / "fixtures" / "miniprogram"))  # the project's own wxapkg writer
SHARED = Path(os.environ.get("BEIAN_SHARED", ROOT.parent / "shared"))
CORPUS = SHARED / "corpus"
# The entry points of the environment that runs the tests, never whatever PATH holds: a fresh machine
# has no global beian-scan, and a stale one hides a broken install (sysconfig: this interpreter's scripts).
SCRIPTS = Path(sysconfig.get_path("scripts"))
ENTRY_POINT = SCRIPTS / ("beian-scan.exe" if os.name == "nt" else "beian-scan")


def venv_env(**extra: str) -> dict[str, str]:
    """The environment for a command line that calls ``beian-scan`` by name (a recipe, the action):
    this environment's scripts folder first on PATH, as an activated venv or setup-python has it."""
    assert ENTRY_POINT.exists(), f"{ENTRY_POINT} missing: install the project into this environment (pip install -e .)"
    return {**os.environ, "PATH": f"{SCRIPTS}{os.pathsep}{os.environ.get('PATH', '')}", **extra}


def scan(path: Path | str) -> ScanResult:
    """A package's result, which must not be an error."""
    from scanner import engine

    result = engine.scan_path(str(path), Options())
    assert result.error is None, result.error
    return result


def rules(result: ScanResult) -> set[str]:
    """The rule ids of a result's findings."""
    return {f.rule_id for f in result.findings}


def text(value: str, member: str = "resources.arsc", kind: str = "resource", pointer: str = "") -> Text:
    """One text at a place (default: a resource string); ``pointer`` as reports write it."""
    return Text(value, Location.read(member, kind, pointer))


def package(*texts: Text, permissions: tuple[str, ...] = (), kind: PackageKind = PackageKind.APP,
            app_id: str = "com.example.app") -> Package:
    """An in-memory package, as a parser would return it."""
    info = PackageInfo(path="mem.apk", format="apk", sha256="0" * 64, app_id=app_id, version="1.0")
    return Package(info, kind, permissions, tuple(texts))


ABOUT_NUMBER = text("ICP备案号：粤ICP备2023123456号-1A", pointer="@string/about_icp [zh-rCN]")
ABOUT_LINK = text("https://beian.miit.gov.cn/", pointer="@string/about_icp_link [default]")
DEFAULT_OPTIONS = Options()


@pytest.fixture
def apk_path():
    """Path of a built fixture APK by name."""

    def get(name: str) -> str:
        path = APKS / f"{name}.apk"
        assert path.exists(), f"fixture {name} missing: run python3 fixtures/build.py"
        return str(path)

    return get


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", help="rewrite tests/golden/*.json from this run")
