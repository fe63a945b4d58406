"""A short seeded fuzz run (fixtures/hostile/mutate.py): no exception escapes, no hang, bounded memory.
The long run with figures is bench/fuzz.py."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import FIXTURES, ROOT

RUN = """
import json, resource, sys, tempfile
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import mutate
outcome = mutate.run(int(sys.argv[2]), int(sys.argv[3]), Path(tempfile.mkdtemp()), time_limit=10.0)
print(json.dumps({"tried": outcome.tried, "scanned": outcome.scanned, "refused": outcome.refused,
                  "crashes": outcome.crashes, "hangs": outcome.hangs, "slowest": outcome.slowest,
                  "over_budget": outcome.over_budget, "shaped": sum(1 for label, _ in mutate.inputs(
                      int(sys.argv[2]), int(sys.argv[3])) if label.endswith(":shaped")),
                  "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def test_short_fuzz_run():
    proc = subprocess.run([sys.executable, "-c", RUN, str(FIXTURES / "hostile"), "400", "20261129"],
                          capture_output=True, text=True, timeout=600, check=True, cwd=ROOT)
    outcome = json.loads(proc.stdout)
    assert outcome["tried"] == 400
    assert outcome["crashes"] == [] and outcome["hangs"] == []
    assert outcome["scanned"] > 100 and outcome["refused"] > 50  # the mutations reach both outcomes
    assert outcome["slowest"] < 10.0
    assert outcome["peak_kb"] < 300 * 1024
    # The budget, not only the crash count: each input within 2 s (up to 1 MB) and the process within
    # 300 MB, hostile shapes included (repetition, unclosed constructs, nesting, overlapping entries).
    assert outcome["shaped"] > 20 and outcome["over_budget"] == []


def test_mutations_are_deterministic():
    sys.path.insert(0, str(FIXTURES / "hostile"))
    import mutate

    first = [data for _, data in mutate.inputs(20, 5)]
    assert first == [data for _, data in mutate.inputs(20, 5)]
    assert len({bytes(d) for d in first}) > 15
