"""Benchmark: the whole report from raw data, cold and warm, seconds per stage.

Run from a clone (with ``KOSOVO_STUDY_MIRROR`` set when offline):

    python benchmarks/report.py            # cold run in a scratch copy, then the warm rerun
    python benchmarks/report.py --in-place # `kosovo-study report --force` here, then warm

The scratch copy holds this checkout's tracked files only (no data/processed, no built
book, no execution cache, no compiled-code cache): what a fresh clone starts from.  The
package code that runs is this checkout's (the environment's editable install); Numba's
compiled-code cache is pointed at an empty folder, so the cold run pays the compilation
and the warm rerun reuses it.  It prints the wall time of each run, each stage's seconds
from its manifest (``data/processed/manifests/<stage>.json``), the interpreter start-up
that no manifest sees, and the peak memory of the largest process.

Targets (issue 14): cold <= 120 s on 2 cores, warm < 10 s.  Numbers, not assertions:
the machine may be shared; the load average is printed with them.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("clean", "models", "multiverse", "interviews", "book")


def scratch_copy(target: Path) -> Path:
    """Copy the tracked (and new, not ignored) files of this checkout into ``target``."""
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-co", "--exclude-standard", "-z"],
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            destination = target / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination)
    return target


def run_report(root: Path, force: bool, env: dict[str, str]) -> float:
    command = [str(Path(sys.executable).parent / "kosovo-study"), "report"]
    if force:
        command.append("--force")
    started = time.perf_counter()
    completed = subprocess.run(
        command, cwd=root, env=env, capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        sys.stderr.write(completed.stdout[-3000:] + completed.stderr[-3000:])
        raise SystemExit(f"kosovo-study report failed (exit {completed.returncode})")
    return seconds


def stage_seconds(root: Path) -> dict[str, float]:
    manifests = root / "data" / "processed" / "manifests"
    seconds = {}
    for stage in STAGES:
        path = manifests / f"{stage}.json"
        if path.exists():
            seconds[stage] = float(json.loads(path.read_text())["seconds"])
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--in-place", action="store_true", help="--force here, no scratch copy")
    parser.add_argument("--keep", action="store_true", help="keep the scratch copy")
    args = parser.parse_args()

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average (1, 5, 15 min) before: {load} on {os.cpu_count()} cores")
    env = dict(os.environ)
    scratch = Path(tempfile.mkdtemp(prefix="kosovo-report-"))
    try:
        if args.in_place:
            root = ROOT
        else:
            root = scratch_copy(scratch / "project")
            env["KOSOVO_STUDY_ROOT"] = str(root)
            env["NUMBA_CACHE_DIR"] = str(scratch / "numba-cache")
        cold = run_report(root, force=args.in_place, env=env)
        cold_stages = stage_seconds(root)
        warm = run_report(root, force=False, env=env)
        print(f"\n{'stage':12} {'cold s':>8}")
        for stage, seconds in cold_stages.items():
            print(f"{stage:12} {seconds:8.1f}")
        rest = cold - sum(cold_stages.values())
        print(f"{'(rest)':12} {rest:8.1f}  fetch, interpreter and import start-up per command")
        print(f"{'total':12} {cold:8.1f}  target <= 120 s")
        print(f"\nwarm rerun (every stage skipped): {warm:.1f} s  target < 10 s")
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"peak memory (largest process): {peak:.0f} MiB")
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"load average (1, 5, 15 min) after: {load}")
    finally:
        if args.keep and not args.in_place:
            print(f"scratch copy kept in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
