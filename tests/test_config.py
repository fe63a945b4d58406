"""Config files, presets, suppressions and baselines: they change the findings and exit codes as
documented (README "Configuration" and "Accepting findings")."""

from __future__ import annotations

import datetime
import json
import shutil

import pytest
from click.testing import CliRunner

from scanner import engine, suppress
from scanner.cli import main
from scanner.config import ConfigError, find_config, load_config, settings_from
from scanner.model import Options

from conftest import APKS


def run(*args, cwd=None):
    runner = CliRunner()
    if cwd is None:
        result = runner.invoke(main, list(args))
    else:
        with runner.isolated_filesystem(temp_dir=cwd):
            result = runner.invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def project(tmp_path, monkeypatch):
    """An empty working directory with copies of some fixtures."""
    for name in ("dex_only", "outdated_link", "compliant", "baseline_v1", "baseline_v2", "malformed_number"):
        shutil.copy(APKS / f"{name}.apk", tmp_path / f"{name}.apk")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_found_upwards_and_pyproject_needs_the_section(project):
    (project / "pyproject.toml").write_text("[tool.other]\nx = 1\n")
    sub = project / "a" / "b"
    sub.mkdir(parents=True)
    assert find_config(str(sub)) is None
    (project / "pyproject.toml").write_text('[tool.beian-scan]\nfail-on = "warning"\n')
    assert find_config(str(sub)) == str(project / "pyproject.toml")
    (project / "a" / "beian-scan.toml").write_text('fail-on = "note"\n')
    assert find_config(str(sub)) == str(project / "a" / "beian-scan.toml")
    assert load_config(str(project / "pyproject.toml")) == {"fail-on": "warning"}


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ('fail-on = "fatal"\n', "fail-on"),
        ('unknown-key = 1\n', "unknown-key"),
        ('[rules.FIL999]\nenabled = false\n', "rules.FIL999"),
        ('[rules.FIL001]\nloud = true\n', "rules.FIL001.loud"),
        ('[rules.FIL001]\nseverity = "loud"\n', "rules.FIL001.severity"),
        ('[rules.FIL001.expected]\n"a" = "b"\n', "rules.FIL001.expected"),
        ('format = ["pdf"]\n', "format.0"),
    ],
)
def test_invalid_config_names_the_key_exit_2(project, toml, key):
    (project / "beian-scan.toml").write_text(toml)
    with pytest.raises(ConfigError, match=f"invalid config key {key}"):
        load_config(str(project / "beian-scan.toml"))
    code, _, err = run("scan", "compliant.apk")
    assert code == 2 and f"invalid config key {key}" in err and len(err.strip().splitlines()) == 1


def test_config_changes_findings_and_exit_code(project):
    # Baseline without config: malformed number (FIL002 error) -> exit 1; outdated link (LNK002 warning) -> 0.
    assert run("scan", "malformed_number.apk")[0] == 1
    assert run("scan", "outdated_link.apk")[0] == 0
    (project / "beian-scan.toml").write_text(
        '[rules.FIL002]\nenabled = false\n'
        '[rules.LNK002]\nseverity = "error"\n'
        '[rules.FIL005.expected]\n"com.beianscan.fixture.compliant" = "粤ICP备2023123456号-2A"\n')
    code, out, _ = run("scan", "malformed_number.apk")
    assert code == 0 and "FIL002" not in out
    code, out, _ = run("scan", "outdated_link.apk")
    assert code == 1 and "ERROR    LNK002" in out
    code, out, _ = run("scan", "compliant.apk")
    assert code == 1 and "FIL005" in out


def test_cli_wins_over_config(project):
    (project / "beian-scan.toml").write_text('fail-on = "warning"\nformat = ["json"]\n')
    code, out, _ = run("scan", "outdated_link.apk")
    assert code == 1 and json.loads(out)["results"][0]["findings"][0]["rule_id"] == "LNK002"
    code, out, _ = run("scan", "outdated_link.apk", "--fail-on", "error", "--format", "text")
    assert code == 0 and "LNK002" in out and not out.startswith("{")


def test_strict_preset_makes_warnings_errors(project):
    assert run("scan", "outdated_link.apk", "--preset", "strict")[0] == 1
    (project / "beian-scan.toml").write_text('preset = "strict"\n')
    assert run("scan", "outdated_link.apk")[0] == 1


def test_explicit_config_path(project, tmp_path_factory):
    other = tmp_path_factory.mktemp("cfg") / "ci.toml"
    other.write_text('fail-on = "note"\n')
    assert run("scan", "dex_only.apk")[0] == 0
    assert run("scan", "dex_only.apk", "--config", str(other))[0] == 1


def test_settings_merge_per_rule_options():
    rules = {"FIL003": {"kind": "miniprogram"}, "PRM001": {"synonyms": {"android.permission.CAMERA": ["镜头"]}},
             "FIL007": {"context-words": ["footer"]}}
    config = {"rules": rules, "context-words": ["banner"]}
    settings = settings_from(config, {"wxid": "wx0123456789abcdef"})
    assert settings.options.kind.value == "miniprogram"
    assert settings.options.facts.permission_synonyms == (("android.permission.CAMERA", ("镜头",)),)
    assert settings.options.facts.context_words == ("banner", "footer")
    assert settings.options.parse.wxid == "wx0123456789abcdef"


class TestSuppressions:
    def test_suppression_hides_and_counts(self, project):
        (project / "sup.txt").write_text(
            "# accepted\ncom.beianscan.fixture.malformed_*  FIL002  legacy footer, fixed in 2.0\n")
        code, out, _ = run("scan", "malformed_number.apk", "--suppressions", "sup.txt")
        assert code == 0
        assert "1 suppressed" in out and "FIL002 filing" not in out
        code, out, _ = run("scan", "malformed_number.apk", "--suppressions", "sup.txt", "--show-suppressed")
        assert "ACCEPTED FIL002" in out and "legacy footer" in out
        code, out, _ = run("scan", "malformed_number.apk", "--suppressions", "sup.txt", "--show-suppressed",
                           "--format", "json")
        data = json.loads(out)
        assert data["summary"]["suppressed"] == 1
        assert data["results"][0]["suppressed"][0]["suppression"] == "suppressed: legacy footer, fixed in 2.0"

    def test_expired_suppression_stops_working_and_says_so(self, project):
        (project / "sup.txt").write_text("malformed_number.apk FIL002 until=2020-01-01 old exception\n")
        code, out, err = run("scan", "malformed_number.apk", "--suppressions", "sup.txt")
        assert code == 1 and "FIL002" in out
        assert "expired on 2020-01-01" in err and "expired on 2020-01-01" in out

    def test_not_yet_expired(self):
        line = suppress.parse_line("x FIL002 until=2030-01-01 reason", 1, "f")
        assert not line.expired(datetime.date(2029, 12, 31)) and line.expired(datetime.date(2030, 1, 2))

    @pytest.mark.parametrize(("line", "message"), [
        ("com.x FIL002", "reason is required"),
        ("com.x FIL002 until=2030-01-01", "reason is required"),
        ("com.x XYZ-1 because", "not a rule id"),
        ("com.x LNK999 because", "there is no rule LNK999"),
        ("com.x PKG001 because", "PKG001 means the package could not be read"),
        ("com.x FIL002 until=tomorrow because", "not a date"),
    ])
    def test_malformed_line_is_exit_2(self, project, line, message):
        (project / "sup.txt").write_text(line + "\n")
        code, _, err = run("scan", "compliant.apk", "--suppressions", "sup.txt")
        assert code == 2 and message in err and "sup.txt:1" in err


class TestBaseline:
    def test_rebuild_with_new_version_keeps_old_and_shows_new(self, project):
        code, _, err = run("scan", "baseline_v1.apk", "--create-baseline", "base.json", "--fail-on", "note")
        assert code == 0 and "2 finding(s)" in err
        data = json.loads((project / "base.json").read_text())
        assert {e["rule_id"] for e in data["findings"]} == {"FIL007", "LNK002"}
        code, out, _ = run("scan", "baseline_v2.apk", "--baseline", "base.json", "--fail-on", "note",
                           "--format", "json")
        result = json.loads(out)["results"][0]
        assert result["package"]["version"] == "1.1.0"
        assert [f["rule_id"] for f in result["findings"]] == ["PRM002"]
        assert json.loads(out)["summary"]["suppressed"] == 2
        assert code == 1

    def test_baselined_findings_do_not_fail(self, project):
        run("scan", "baseline_v1.apk", "--create-baseline", "base.json")
        assert run("scan", "baseline_v1.apk", "--baseline", "base.json", "--fail-on", "note")[0] == 0

    def test_foreign_baseline_is_exit_2(self, project):
        (project / "base.json").write_text('{"results": []}')
        code, _, err = run("scan", "compliant.apk", "--baseline", "base.json")
        assert code == 2 and "not a beian-scan baseline" in err


def test_exit_zero_keeps_unreadable_exit_3(project):
    assert run("scan", "malformed_number.apk", "--exit-zero")[0] == 0
    (project / "broken.apk").write_bytes(b"PK\x03\x04broken")
    assert run("scan", "broken.apk", "--exit-zero")[0] == 3


def test_multiple_formats_one_scan(project):
    code, out, _ = run("scan", "malformed_number.apk", "--format", "text", "--format", "sarif:r.sarif",
                       "--format", "junit:r.xml", "--format", "codequality:cq.json", "--format", "github:gh.txt")
    assert code == 1 and "FIL002" in out
    for name in ("r.sarif", "r.xml", "cq.json", "gh.txt"):
        assert "FIL002" in (project / name).read_text(encoding="utf-8")


def test_two_formats_on_stdout_is_a_usage_error(project):
    code, _, err = run("scan", "compliant.apk", "--format", "text", "--format", "json")
    assert code == 2 and "standard output" in err


def test_acceptance_in_engine_directly():
    sup = suppress.parse_line("*  FIL007  drawn natively", 1, "f")
    report = engine.scan([str(APKS / "dex_only.apk")], Options(), acceptance=engine.Acceptance((sup,)))
    (result,) = report.results
    assert result.findings == () and result.suppressed[0].suppression == "suppressed: drawn natively"


class TestPathsAndValues:
    """Config paths resolve against the config's folder; values are checked before any scan."""

    def test_config_paths_resolve_against_its_folder(self, project, monkeypatch):
        (project / "sup.txt").write_text("com.beianscan.fixture.outdated_link LNK002 link fixed next release\n")
        (project / "src").mkdir()
        (project / "beian-scan.toml").write_text(
            'suppressions = "sup.txt"\nsource-root = "src"\nformat = ["text", "json:out/report.json"]\n'
            'fail-on = "warning"\n')
        (project / "out").mkdir()
        sub = project / "app" / "build"
        sub.mkdir(parents=True)
        monkeypatch.chdir(sub)
        code, out, err = run("scan", str(project / "outdated_link.apk"))
        assert (code, err) == (0, ""), err
        assert "1 suppressed" in out
        assert json.loads((project / "out" / "report.json").read_text(encoding="utf-8"))["summary"]
        assert not (sub / "out").exists()

    def test_create_baseline_when_the_configured_one_does_not_exist_yet(self, project, monkeypatch):
        (project / "beian-scan.toml").write_text('baseline = ".beian-baseline.json"\n')
        sub = project / "sub"
        sub.mkdir()
        monkeypatch.chdir(sub)
        code, _, err = run("scan", str(project / "dex_only.apk"), "--create-baseline", "new.json")
        assert code == 0 and "wrote a baseline of 1 finding(s)" in err
        assert json.loads((sub / "new.json").read_text(encoding="utf-8"))["findings"]
        # read, the missing baseline stays a clear usage error
        code, _, err = run("scan", str(project / "dex_only.apk"))
        assert code == 2 and "cannot read baseline" in err and ".beian-baseline.json" in err

    def test_create_baseline_records_findings_an_old_baseline_accepted(self, project):
        assert run("scan", "dex_only.apk", "--create-baseline", "b1.json")[0] == 0
        code, _, err = run("scan", "dex_only.apk", "--baseline", "b1.json", "--create-baseline", "b2.json")
        assert code == 0 and "1 finding(s)" in err
        assert json.loads((project / "b2.json").read_text())["findings"] == json.loads(
            (project / "b1.json").read_text())["findings"]

    @pytest.mark.parametrize(("args", "message"), [
        (("--expect-filing", "粤ICP备2023123456"), "is not a well-formed filing number"),
        (("--expect-filing", "hello"), "is not a filing number"),
        (("--wxid", "wx123"), "is not a mini-program AppID"),
        (("--wxid", "wxZZ1a2b3c4d5e6f7a"), "is not a mini-program AppID"),
        (("--source-root", "no/such/folder"), "does not exist"),
        (("--max-ratio", "1"), "--max-ratio"),
    ])
    def test_bad_flag_values_are_exit_2_with_the_reason(self, project, args, message):
        code, _, err = run("scan", "compliant.apk", *args)
        assert code == 2 and message in err, err

    @pytest.mark.parametrize(("toml", "message"), [
        ('expect-filing = ["粤ICP备2023123456号-0A"]\n', "expect-filing: '粤ICP备2023123456号-0A' is not"),
        ('[rules.FIL005.expected]\n"com.x" = "nope"\n', "rules.FIL005.expected.com.x: 'nope' is not a filing"),
        ('source-root = "missing"\n', "source-root:"),
        ('max-ratio = 1\n', "max-ratio"),
        ('wxid = "wx123"\n', "wxid"),
    ])
    def test_bad_config_values_are_exit_2(self, project, toml, message):
        (project / "beian-scan.toml").write_text(toml)
        code, _, err = run("scan", "compliant.apk")
        assert code == 2 and message in err, err

    def test_limits_accept_the_same_ranges_as_flags_and_config(self, project):
        from scanner.config import _schema
        from scanner.constants import LIMIT_MINIMUMS

        properties = _schema()["properties"]
        assert {key: properties[key]["minimum"] for key in LIMIT_MINIMUMS} == LIMIT_MINIMUMS
        (project / "beian-scan.toml").write_text("max-depth = 0\n")
        assert run("scan", "compliant.apk")[0] == 0
        (project / "beian-scan.toml").unlink()
        assert run("scan", "compliant.apk", "--max-depth", "0")[0] == 0
        assert run("scan", "compliant.apk", "--max-ratio", "2")[0] == 0

    def test_output_file_with_only_path_bound_formats_is_an_error(self, project):
        code, _, err = run("scan", "compliant.apk", "--format", "json:r.json", "-o", "x.txt")
        assert code == 2 and "-o/--output x.txt" in err
        assert not (project / "x.txt").exists()
        code, _, _ = run("scan", "compliant.apk", "--format", "json:r.json", "--format", "text", "-o", "x.txt")
        assert code == 0 and "no findings" in (project / "x.txt").read_text(encoding="utf-8")


def test_option_declarations_are_typed_and_dispatched_by_table():
    """Every kind of option value has its normalizer, every facts option names a FactOptions field, and the
    scan-wide kind is the scan's own option (issue 24: no stage or type dispatched by strings)."""
    from dataclasses import fields

    from scanner.config import NORMALIZERS, rule_options
    from scanner.model import FactOptions, OptionStage, OptionValue

    assert set(NORMALIZERS) == set(OptionValue)
    names = {f.name for f in fields(FactOptions)}
    declared = rule_options()
    assert all(o.fact in names for _r, o in declared if o.stage is OptionStage.FACTS)
    assert all(not o.fact for _r, o in declared if o.stage is OptionStage.RULE)
    assert "kind" not in {o.name for _r, o in declared}
    assert settings_from({"kind": "quickapp"}, {}).options.kind.value == "quickapp"
    assert settings_from({}, {"kind": "app"}).options.kind.value == "app"


def test_every_scan_flag_but_two_has_the_config_key_of_its_name():
    import click

    from scanner.cli import NOT_CONFIG, config_key, scan
    from scanner.config import _schema

    keys = {config_key(p) for p in scan.params if isinstance(p, click.Option) and p.name not in NOT_CONFIG}
    assert {"format", "expect-identity", "kind", "color", "max-member-mb"} <= keys
    assert keys <= set(_schema()["properties"])
