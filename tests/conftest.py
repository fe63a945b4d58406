"""Shared test helpers: paths, in-memory package factories (detect-secrets' testing/factories idea)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from scanner.model import Location, Options, Package, PackageInfo, PackageKind, Text

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
APKS = FIXTURES / "apk"
MINIPROGRAMS = FIXTURES / "miniprogram"
GOLDEN = ROOT / "tests" / "golden"
sys.path.insert(0, str(ROOT / "fixtures" / "miniprogram"))  # the project's own wxapkg writer
SHARED = Path(os.environ.get("BEIAN_SHARED", ROOT.parent / "shared"))
CORPUS = SHARED / "corpus"


def text(value: str, member: str = "resources.arsc", kind: str = "resource", pointer: str = "") -> Text:
    """One text at a place (default: a resource string)."""
    return Text(value, Location(member, kind, pointer))


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
