"""The GitHub Action, the pre-commit hook and the README's GitLab job: structure validated, and each one's
command line run against a fixture."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess

import pytest
import yaml

from conftest import APKS, ROOT, venv_env


def test_action_structure():
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    assert {"name", "description", "inputs", "outputs", "runs"} <= set(action)
    assert action["runs"]["using"] == "composite"
    assert action["inputs"]["paths"]["required"] is True
    for step in action["runs"]["steps"]:
        assert "uses" in step or step.get("shell") == "bash"
    assert action["outputs"]["exit-code"]["value"] == "${{ steps.scan.outputs.exit-code }}"


def _scan_step() -> dict:
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    (scan,) = [s for s in action["runs"]["steps"] if s.get("id") == "scan"]
    return scan


def test_action_never_interpolates_inputs_into_scripts():
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    for step in action["runs"]["steps"]:
        assert "${{" not in step.get("run", ""), step.get("name")


def _run_action(tmp_path, paths: str, sarif: str, fail_on: str = "error", args: str = ""):
    """The scan step as the runner executes it: the inputs in env:, the script run by bash."""
    scan = _scan_step()
    values = {"inputs.paths": paths, "inputs.sarif-file": sarif, "inputs.fail-on": fail_on, "inputs.args": args}
    env = {name: values[re.fullmatch(r"\$\{\{\s*([\w.-]+)\s*\}\}", ref).group(1)]
           for name, ref in scan["env"].items()}
    output = tmp_path / "github_output"
    proc = subprocess.run(["bash", "-e", "-c", scan["run"]], capture_output=True, text=True, timeout=120,
                          check=False, cwd=tmp_path, env=venv_env(GITHUB_OUTPUT=str(output), **env))
    return proc, output


@pytest.mark.parametrize(("fixture", "code"), [("compliant", 0), ("malformed_number", 1), ("truncated", 3)])
def test_action_scan_step_runs(tmp_path, fixture, code):
    sarif = tmp_path / "out.sarif"
    proc, output = _run_action(tmp_path, str(APKS / f"{fixture}.apk"), str(sarif))
    assert proc.returncode == code, proc.stderr
    assert output.read_text() == f"exit-code={code}\n"
    assert json.loads(sarif.read_text(encoding="utf-8"))["version"] == "2.1.0"


def test_action_inputs_are_data_not_shell(tmp_path):
    """Paths with spaces, quotes and $(...) are scanned as paths; args are split, never evaluated."""
    folder = tmp_path / "my apps" / "it's \"$(touch PWNED1)\" `touch PWNED2`"
    folder.mkdir(parents=True)
    first, second = folder / "a b.apk", folder / "$(touch PWNED3).apk"
    shutil.copy(APKS / "compliant.apk", first)
    shutil.copy(APKS / "no_number.apk", second)
    sarif = folder / "out $(touch PWNED4).sarif"
    proc, output = _run_action(tmp_path, f"{first}\n\n{second}\n", str(sarif),
                               args="--expect-filing '粤ICP备2023123456号-1A' $(touch PWNED5) ; touch PWNED6")
    # $(touch PWNED5) and the rest arrive as plain words: click refuses the unknown path, nothing runs
    assert proc.returncode == 2 and "$(touch" in proc.stderr, proc.stderr
    assert not list(tmp_path.rglob("PWNED*"))
    proc, output = _run_action(tmp_path, f"{first}\n{second}", str(sarif), fail_on="error",
                               args="--expect-filing '粤ICP备2023123456号-1A'")
    assert proc.returncode == 1, proc.stderr
    assert output.read_text().endswith("exit-code=1\n")
    run = json.loads(sarif.read_text(encoding="utf-8"))["runs"][0]
    assert [r["ruleId"] for r in run["results"]] == ["FIL001"]
    (uri,) = {loc["physicalLocation"]["artifactLocation"]["uri"] for loc in run["results"][0]["locations"]}
    assert uri.endswith("/$(touch%20PWNED3).apk")
    assert not list(tmp_path.rglob("PWNED*"))


def test_action_unbalanced_args_is_exit_2(tmp_path):
    proc, output = _run_action(tmp_path, str(APKS / "compliant.apk"), "x.sarif", args="--kind 'app")
    assert proc.returncode == 2 and "cannot be split" in proc.stdout
    assert output.read_text() == "exit-code=2\n"


def test_pre_commit_hook():
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert {"id", "name", "entry", "language"} <= set(hook)
    assert hook["language"] == "python" and hook["require_serial"] is True
    pattern = re.compile(hook["files"])
    assert pattern.search("app/release/app-release.apk") and pattern.search("dist/x.wxapkg")
    assert not pattern.search("README.md")
    # pre-commit runs: entry + args + the matching files
    proc = subprocess.run([*shlex.split(hook["entry"]), "--fail-on", "warning", str(APKS / "outdated_link.apk")],
                          capture_output=True, text=True, timeout=120, check=False, env=venv_env())
    assert proc.returncode == 1 and "LNK002" in proc.stdout


def _readme_yaml(heading: str) -> dict:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(rf"### {heading}\n.*?```yaml\n(.*?)```", readme, re.S)
    assert block, heading
    return yaml.safe_load(block.group(1))


def test_gitlab_job(tmp_path):
    job = _readme_yaml("GitLab CI")["beian-scan"]
    assert set(job["artifacts"]["reports"]) == {"codequality", "junit"}
    assert job["artifacts"]["when"] == "always"
    (command,) = [line for line in job["script"] if line.startswith("beian-scan ")]
    env = venv_env(APK=str(APKS / "malformed_number.apk"))
    proc = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 1
    for report in job["artifacts"]["reports"].values():
        assert (tmp_path / report).exists()
    assert json.loads((tmp_path / "gl-code-quality.json").read_text(encoding="utf-8"))[0]["check_name"] == "FIL002"


def test_github_workflow_recipe_uploads_sarif_always():
    workflow = _readme_yaml("GitHub Actions")["jobs"]["beian"]
    assert workflow["permissions"]["security-events"] == "write"
    upload = next(s for s in workflow["steps"] if "upload-sarif" in s.get("uses", ""))
    assert upload["if"] == "always()" and upload["with"]["sarif_file"] == "beian-scan.sarif"


def test_recipes_reference_refs_that_exist():
    """Every recipe names the default branch or a full commit SHA (no invented tags such as v0)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    refs = re.findall(r"beian-scan/beian-scan@([\w.<>-]+)", readme)
    refs += re.findall(r"^\s*rev:\s*(\S+)", readme, re.M)
    assert len(refs) >= 3
    assert all(ref == "main" or re.fullmatch(r"[0-9a-f]{40}", ref) for ref in refs if not ref.startswith("<")), refs
    assert "how" in readme.lower() and "full 40-character commit SHA" in readme
