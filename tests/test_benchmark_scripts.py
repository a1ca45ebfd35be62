"""benchmarks/engine.py runs twice in a row (issue 23): its own compiled kernels are not
cached on disk, so a second run never reloads them through the name of a module that
no longer exists (it failed with "No module named '<dynamic>'" when run by a runner)."""

from __future__ import annotations

import subprocess
import sys

from .conftest import REPO

#: The script run as a runner runs it: a module named "<dynamic>".
RUN = (
    "import runpy\n"
    "ns = runpy.run_path({path!r}, run_name='<dynamic>')\n"
    "flops, seconds = ns['machine_rates']()\n"
    "assert flops > 0 and seconds > 0\n"
)


def test_the_engine_benchmark_runs_twice_under_any_module_name() -> None:
    script = RUN.format(path=str(REPO.root / "benchmarks" / "engine.py"))
    for _ in range(2):  # the second run finds whatever the first one cached
        completed = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
            cwd=REPO.root,
        )
        assert completed.returncode == 0, completed.stderr[-2000:]
