"""The GitHub Action, the pre-commit hook and the README's GitLab job: structure validated, and each one's
command line run against a fixture."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess

import pytest
import yaml

from conftest import APKS, ROOT


def test_action_structure():
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    assert {"name", "description", "inputs", "outputs", "runs"} <= set(action)
    assert action["runs"]["using"] == "composite"
    assert action["inputs"]["paths"]["required"] is True
    for step in action["runs"]["steps"]:
        assert "uses" in step or step.get("shell") == "bash"
    assert action["outputs"]["exit-code"]["value"] == "${{ steps.scan.outputs.exit-code }}"


def _action_script(paths: str, sarif: str, fail_on: str = "error", args: str = "") -> str:
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    (scan,) = [s for s in action["runs"]["steps"] if s.get("id") == "scan"]
    values = {"inputs.paths": paths, "inputs.sarif-file": sarif, "inputs.fail-on": fail_on, "inputs.args": args}
    return re.sub(r"\$\{\{\s*([\w.-]+)\s*\}\}", lambda m: values[m.group(1)], scan["run"])


@pytest.mark.parametrize(("fixture", "code"), [("compliant", 0), ("malformed_number", 1), ("truncated", 3)])
def test_action_scan_step_runs(tmp_path, fixture, code):
    sarif = tmp_path / "out.sarif"
    output = tmp_path / "github_output"
    script = _action_script(shlex.quote(str(APKS / f"{fixture}.apk")), str(sarif))
    proc = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "GITHUB_OUTPUT": str(output)})
    assert proc.returncode == code, proc.stderr
    assert output.read_text() == f"exit-code={code}\n"
    assert json.loads(sarif.read_text(encoding="utf-8"))["version"] == "2.1.0"


def test_pre_commit_hook():
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert {"id", "name", "entry", "language"} <= set(hook)
    assert hook["language"] == "python" and hook["require_serial"] is True
    pattern = re.compile(hook["files"])
    assert pattern.search("app/release/app-release.apk") and pattern.search("dist/x.wxapkg")
    assert not pattern.search("README.md")
    # pre-commit runs: entry + args + the matching files
    proc = subprocess.run([*shlex.split(hook["entry"]), "--fail-on", "warning", str(APKS / "outdated_link.apk")],
                          capture_output=True, text=True, timeout=120, check=False)
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
    env = {**os.environ, "APK": str(APKS / "malformed_number.apk")}
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
