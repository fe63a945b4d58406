"""The command line: exit codes with output together (yamllint's test_cli habit)."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys

import pytest
from click.testing import CliRunner

from scanner import __version__
from scanner.cli import main
from scanner.formatters.text import display_width, wrap

from conftest import APKS, ENTRY_POINT


def run(*args):
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_version():
    code, out, _ = run("--version")
    assert (code, out.strip()) == (0, f"beian-scan, version {__version__}")


def test_compliant_is_exit_0_text(apk_path):
    code, out, err = run("scan", apk_path("compliant"))
    assert code == 0
    assert "no findings" in out and "粤ICP备2023123456号-1A (app)" in out
    assert err == ""
    assert "\x1b[" not in out  # no colour when not on a terminal


def test_findings_exit_1_with_where_and_fix(apk_path):
    code, out, _ = run("scan", apk_path("malformed_number"))
    assert code == 1
    assert "FIL002 filing-number-malformed" in out
    assert "where: resources.arsc (@string/about_icp [default])" in out
    assert "fix: " in out
    assert max(display_width(line) for line in out.splitlines()) <= 80


def test_notes_do_not_fail_by_default_but_fail_on_note(apk_path):
    assert run("scan", apk_path("dex_only"))[0] == 0
    assert run("scan", apk_path("dex_only"), "--fail-on", "note")[0] == 1


def test_fail_on_warning(apk_path):
    assert run("scan", apk_path("outdated_link"))[0] == 0
    assert run("scan", apk_path("outdated_link"), "--fail-on", "warning")[0] == 1


def test_expect_filing(apk_path):
    assert run("scan", apk_path("compliant"), "--expect-filing", "粤ICP备2023123456号－1A")[0] == 0
    code, out, _ = run("scan", apk_path("compliant"), "--expect-filing", "粤ICP备2023123456号-2A")
    assert code == 1 and "FIL005" in out


def test_kind_override(apk_path):
    code, out, _ = run("scan", apk_path("miniprogram_number"), "--kind", "miniprogram")
    assert code == 0, out


def test_unreadable_is_exit_3_with_one_line_on_stderr(apk_path):
    code, out, err = run("scan", apk_path("compliant"), apk_path("truncated"), "--format", "json")
    assert code == 3
    report = json.loads(out)
    assert report["results"][0]["error"] is None
    assert report["results"][1]["error"]["rule_id"] == "PKG001"
    assert len(err.strip().splitlines()) == 1 and "PKG001" in err
    assert "Traceback" not in err


def test_several_paths_one_report_json_to_file(apk_path, tmp_path):
    out_file = tmp_path / "report.json"
    code, out, _ = run("scan", apk_path("no_number"), apk_path("link_missing"), "--format", "json",
                       "-o", str(out_file))
    assert code == 1 and out == ""
    report = json.loads(out_file.read_text(encoding="utf-8"))
    assert [r["package"]["app_id"] for r in report["results"]] == [
        "com.beianscan.fixture.no_number", "com.beianscan.fixture.link_missing"]
    assert report["summary"]["findings"]["error"] == 2


def test_directory_is_a_usage_error(tmp_path):
    code, _, err = run("scan", str(tmp_path))
    assert code == 2 and "is a directory" in err and "mini-program source folder" in err


def test_missing_path_is_a_usage_error():
    assert run("scan", "/nonexistent/app.apk")[0] == 2


def test_bad_option_is_exit_2(apk_path):
    assert run("scan", apk_path("compliant"), "--fail-on", "fatal")[0] == 2


@pytest.mark.parametrize("entry", [[str(ENTRY_POINT)], [sys.executable, "-m", "scanner"]])
def test_installed_entry_points(entry, apk_path):
    proc = subprocess.run([*entry, "scan", "--format", "json", apk_path("no_number")], capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["results"][0]["findings"][0]["rule_id"] == "FIL001"
    assert proc.stderr == ""


def test_wrap_counts_wide_characters():
    text = "ICP备案号：粤ICP备2023123456号-1A " * 6 + "x" * 200
    lines = wrap(text, 40, "  ", "    ")
    assert all(display_width(line) <= 40 for line in lines)
    assert "".join(line.strip() for line in lines).replace(" ", "") == text.replace(" ", "")


def test_wxid_decrypts(tmp_path):
    from conftest import MINIPROGRAMS

    source = MINIPROGRAMS / "out" / "encrypted_nokey.wxapkg"
    code, _, err = run("scan", str(source))
    assert code == 3 and "PKG002" in err and "--wxid" in err
    code, out, _ = run("scan", str(source), "--wxid", "wx1a2b3c4d5e6f7a8b", "--format", "json")
    assert code == 0
    assert json.loads(out)["results"][0]["package"]["app_id"] == "wx1a2b3c4d5e6f7a8b"


def test_mini_program_source_folder_scans():
    from conftest import MINIPROGRAMS

    code, out, _ = run("scan", str(MINIPROGRAMS / "src_native"))
    assert code == 1
    assert "MPP001 private-info-api-undeclared" in out
    assert "where: pages/index/index.js (line 8)" in out


def test_rules_lists_and_documents():
    code, out, _ = run("rules")
    assert code == 0
    ids = [line.split()[0] for line in out.splitlines()]
    assert ids == sorted(ids) and {"FIL001", "MPP003", "PKG004"} <= set(ids)
    code, out, _ = run("rules", "fil002")
    assert code == 0 and "PASS" in out and "FAIL" in out and "Fix:" in out
    code, _, err = run("rules", "XYZ999")
    assert code == 2 and "unknown rule" in err


def test_ctrl_c_exits_130_without_aborted(tmp_path):
    script = ("import sys, time\n"
              "import scanner.engine as engine\n"
              "def slow(*args, **kwargs):\n"
              "    print('scanning', file=sys.stderr, flush=True)\n"
              "    time.sleep(60)\n"
              "engine.scan = slow\n"
              "from scanner.cli import main\n"
              "sys.argv = ['beian-scan', 'scan', sys.argv[1]]\n"
              "main()\n")
    proc = subprocess.Popen([sys.executable, "-c", script, str(APKS / "compliant.apk")], stderr=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stderr.readline().strip() == "scanning"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert "Aborted" not in err and "Traceback" not in err and "interrupted" in err


def test_progress_bar_shows_package_and_bytes(apk_path):
    from scanner import engine
    from scanner.model import Options
    from scanner.progressbar import TerminalProgress

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    bar = TerminalProgress(2, stream, delay=0)
    report = engine.scan([apk_path("large_bundle"), apk_path("compliant")], Options(), shown=bar)
    bar.close()
    shown = stream.getvalue()
    assert "[1/2]" in shown and "large_bundle.apk" in shown and "[2/2]" in shown
    assert re.search(r"\d+(\.\d+)?[kMG]?B", shown)
    assert [r.error for r in report.results] == [None, None]


def test_no_progress_when_stderr_is_not_a_terminal(apk_path):
    proc = subprocess.run([str(ENTRY_POINT), "scan", apk_path("large_bundle")], capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.stderr == ""


@pytest.mark.parametrize(("flag", "env", "colored"), [
    ("--color", {}, True), ("--no-color", {"FORCE_COLOR": "1"}, False), (None, {"FORCE_COLOR": "1"}, True),
    (None, {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False), (None, {"NO_COLOR": ""}, False), (None, {}, False),
])
def test_colour_through_a_pipe(apk_path, flag, env, colored):
    environ = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    args = [str(ENTRY_POINT), "scan", apk_path("no_number"), *([flag] if flag else [])]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False, env={**environ, **env})
    assert proc.returncode == 1
    assert ("\x1b[31m" in proc.stdout) is colored


def test_summary_does_not_contradict_the_blocks(apk_path):
    code, out, _ = run("scan", apk_path("truncated"))
    assert code == 3
    assert out.splitlines()[-1] == "1 package(s): 1 could not be scanned"
    code, out, _ = run("scan", apk_path("no_number"), apk_path("truncated"))
    summary = " ".join(out.split("\n\n")[-1].split())  # wrapped to 80 columns
    assert summary == "2 package(s): 1 scanned: 1 error(s), 0 warning(s), 0 note(s); 1 could not be scanned"


def test_third_party_numbers_and_links_say_why_they_are_fine(apk_path):
    code, out, _ = run("scan", apk_path("compliant"))
    flat = " ".join(out.split())
    assert code == 0
    assert ("粤公网安备44030502000001号 (public-security filing, not an MIIT number; shown beside the App's own "
            "number: not a finding)") in flat
    assert "(www.beian.gov.cn is the public-security filing portal, not the MIIT filing system; shown beside " \
           "the official link: not a finding)" in flat
    assert "(wrong-site)" not in flat and "(website)" not in flat
    code, out, _ = run("scan", apk_path("public_security_link"))
    assert "(wrong-site: see LNK003)" in " ".join(out.split())


def _fixes(out: str, rule_id: str) -> list[str]:
    """The fix text of each finding of a rule in a text report, unwrapped."""
    blocks = re.split(r"\n  (?=ERROR|WARNING|NOTE)", out)
    return [" ".join(b.split("fix: ", 1)[1].split()) for b in blocks if re.match(rf"\w+\s+{rule_id} ", b)]


def test_fix_texts_fit_the_finding(apk_path):
    _, out, _ = run("scan", apk_path("undeclared_permission"))
    fixes = _fixes(out, "PRM001")
    assert fixes and all("相机" not in fix for fix in fixes if "通讯录" in fix)
    assert any("通讯录" in fix for fix in fixes), fixes
    _, out, _ = run("scan", apk_path("miniprogram_number"), "--kind", "quickapp")
    assert all("…号-1K" in fix and "-1A" not in fix for fix in _fixes(out, "FIL003"))
    assert _fixes(out, "FIL003")
    _, out, _ = run("scan", apk_path("website_number"), "--kind", "miniprogram")
    assert _fixes(out, "FIL003") and all("…号-1X" in fix for fix in _fixes(out, "FIL003"))
    _, out, _ = run("scan", apk_path("no_number"), "--kind", "quickapp")
    assert _fixes(out, "FIL001") and "…号-1K" in _fixes(out, "FIL001")[0]


def test_wrapping_never_cuts_a_path():
    url = "http://www.beian.gov.cn/portal/registerSystemInfo?recordcode=44030502000001"
    lines = wrap(f"see {url} and res/layout/activity_about_the_application_settings_page_long_name.xml now",
                 40, "  evidence: ", "    ")
    assert any(line.strip() == url for line in lines)
    assert any(line.strip() == "res/layout/activity_about_the_application_settings_page_long_name.xml"
               for line in lines)
    assert all(display_width(line) <= 40 for line in lines if "/" not in line)


def test_scan_leaves_the_collector_as_it_found_it(apk_path):
    import gc

    assert gc.isenabled()
    assert run("scan", apk_path("compliant"))[0] == 0
    assert gc.isenabled()  # kept out of the imports only, then on again
    gc.disable()
    try:
        assert run("scan", apk_path("compliant"))[0] == 0
        assert not gc.isenabled()  # a caller that turned it off keeps it off
    finally:
        gc.enable()
        gc.unfreeze()
