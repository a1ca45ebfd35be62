"""Benchmark: the whole report from raw data, cold and warm, seconds per stage.

Run from a clone (with ``KOSOVO_STUDY_MIRROR`` set when offline):

    python benchmarks/report.py            # cold run in a scratch copy, then the warm rerun
    python benchmarks/report.py --in-place # `kosovo-study report --force` here, then warm

The scratch copy holds this checkout's tracked files only (no data/processed, no built
book, no execution cache, no compiled-code cache): what a fresh clone starts from.  The
package code that runs is this checkout's (the environment's editable install); Numba's
compiled-code cache is pointed at an empty folder, so the cold run pays the compilation
and the warm rerun reuses it.  It prints the wall time of each run, each stage's seconds
from its manifest (``data/processed/manifests/<stage>.json``), the book's parts (from
``book/_build/timings.json``), the fixed costs no manifest sees (interpreter start-up,
the CLI's imports, a warm ``fetch``), the warm book rebuild (``book --force`` with every
page in the execution cache), and the peak memory of the largest process.

It also says whether the environment is byte-compiled: with ``PYTHONDONTWRITEBYTECODE``
set and no ``.pyc`` files, every process (each page kernel, Sphinx) compiles its imports
from source, which multiplies the import time by about four.  ``uv sync`` compiles them
(``compile-bytecode = true`` in pyproject.toml makes every ``uv sync`` compile the whole
site-packages, also packages it did not install); else ``python -m compileall -q
<site-packages>``.

Targets (issue 14): cold <= 120 s on 2 cores, warm < 10 s.  Numbers, not assertions:
the machine may be shared; the load average is printed with them.

    python benchmarks/report.py --compare-models main [--rounds 3]

times the ``models`` stage of this checkout against the one of a git ref (issue 20: the
stage must stay within 60 s on 2 cores).  On a shared machine absolute seconds say
little, so both run side by side: two scratch copies (this checkout's files and ``git
archive`` of the ref), each running its own package code (``PYTHONPATH`` ahead of the
editable install) with its own compiled-code cache, one warm-up run each (compiles the
engine), then ``--rounds`` alternating ``report --to models --force`` runs.  It prints
each run's models-stage seconds (from the manifest) and the ratio of the medians.
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


def timed(command: list[str], root: Path, env: dict[str, str]) -> float:
    """Wall seconds of one command (its output is discarded; a failure stops the benchmark)."""
    started = time.perf_counter()
    completed = subprocess.run(
        command, cwd=root, env=env, capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        sys.stderr.write(completed.stdout[-2000:] + completed.stderr[-2000:])
        raise SystemExit(f"{' '.join(command)} failed (exit {completed.returncode})")
    return time.perf_counter() - started


def bytecode_state() -> str:
    """Whether the heavy dependencies of this environment have compiled bytecode."""
    import importlib.util

    missing = []
    for name in ("pandas", "statsmodels", "matplotlib", "sphinx", "scipy", "numba"):
        spec = importlib.util.find_spec(name)
        origin = spec.origin if spec else None
        if origin and not Path(importlib.util.cache_from_source(origin)).exists():
            missing.append(name)
    flag = "set" if os.environ.get("PYTHONDONTWRITEBYTECODE") else "not set"
    if not missing:
        return f"byte-compiled (PYTHONDONTWRITEBYTECODE {flag})"
    effect = (
        "every process compiles these from source: run `uv sync` (compile-bytecode "
        "is on in pyproject.toml) or `python -m compileall -q` on site-packages"
        if flag == "set"
        else "the first run writes the .pyc files (part of the cold figure)"
    )
    return f"NOT byte-compiled: {', '.join(missing)} (PYTHONDONTWRITEBYTECODE {flag}; {effect})"


def book_parts(root: Path) -> dict[str, float]:
    path = root / "book" / "_build" / "timings.json"
    return json.loads(path.read_text()) if path.exists() else {}


def stage_seconds(root: Path) -> dict[str, float]:
    manifests = root / "data" / "processed" / "manifests"
    seconds = {}
    for stage in STAGES:
        path = manifests / f"{stage}.json"
        if path.exists():
            seconds[stage] = float(json.loads(path.read_text())["seconds"])
    return seconds


def export_ref(ref: str, target: Path) -> Path:
    """The tree of git ``ref`` in ``target`` (``git archive``: committed files only)."""
    target.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", ref],
        capture_output=True,
        check=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def models_run(root: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds of the models stage (its manifest) in one ``report --to models
    --force``, and the CPU seconds (user + system) of that whole command: on a loaded
    machine the CPU seconds move much less than the wall time."""
    command = [str(Path(sys.executable).parent / "kosovo-study"), "report", "--to", "models"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    timed([*command, "--force"], root, env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return stage_seconds(root)["models"], cpu


def compare_models(ref: str, rounds: int, scratch: Path) -> None:
    """The models stage of this checkout against ``ref``'s, side by side (module docstring)."""
    sides = {
        f"reference ({ref})": export_ref(ref, scratch / "reference"),
        "this checkout": scratch_copy(scratch / "candidate"),
    }
    envs = {}
    for k, (name, root) in enumerate(sides.items()):
        env = dict(os.environ)
        env["KOSOVO_STUDY_ROOT"] = str(root)
        env["PYTHONPATH"] = str(root / "src")  # this side's code, ahead of the editable install
        env["NUMBA_CACHE_DIR"] = str(scratch / f"numba-cache-{k}")
        envs[name] = env
        wall, cpu = models_run(root, env)
        print(f"warm-up (compiles the engine) {name}: {wall:.1f} s, {cpu:.1f} CPU-s", flush=True)
    seconds: dict[str, list[float]] = {name: [] for name in sides}
    cpu_seconds: dict[str, list[float]] = {name: [] for name in sides}
    for round_ in range(rounds):
        order = list(sides) if round_ % 2 == 0 else list(reversed(sides))
        for name in order:
            wall, cpu = models_run(sides[name], envs[name])
            seconds[name].append(wall)
            cpu_seconds[name].append(cpu)
            load = os.getloadavg()[0]
            print(
                f"round {round_ + 1} {name}: models {wall:.1f} s wall; command {cpu:.1f} "
                f"CPU-s (load {load:.1f})",
                flush=True,
            )
    for label, values in (("wall s (models stage)", seconds), ("CPU-s (command)", cpu_seconds)):
        medians = {name: sorted(v)[len(v) // 2] for name, v in values.items()}
        reference, candidate = medians.values()
        ratios = [c / r for r, c in zip(*values.values(), strict=True)]
        print(
            f"\n{label}, median of {rounds} rounds: "
            + ", ".join(f"{name} {value:.1f}" for name, value in medians.items())
            + f"\nratio this checkout / reference: {candidate / reference:.2f} "
            + "(per round: "
            + ", ".join(f"{x:.2f}" for x in ratios)
            + ")"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--in-place", action="store_true", help="--force here, no scratch copy")
    parser.add_argument("--keep", action="store_true", help="keep the scratch copy")
    parser.add_argument(
        "--compare-models",
        metavar="REF",
        help="time the models stage against git REF's, side by side (no full report)",
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds of --compare-models")
    args = parser.parse_args()
    if args.compare_models:
        scratch = Path(tempfile.mkdtemp(prefix="kosovo-models-"))
        try:
            load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
            print(f"load average (1, 5, 15 min) before: {load} on {os.cpu_count()} cores")
            compare_models(args.compare_models, args.rounds, scratch)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return

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
        cold_book = book_parts(root)
        warm = run_report(root, force=False, env=env)
        executable = str(Path(sys.executable).parent / "kosovo-study")
        fixed = {
            "python -c pass (interpreter)": timed([sys.executable, "-c", "pass"], root, env),
            "kosovo-study --version (CLI imports)": timed([executable, "--version"], root, env),
            "kosovo-study fetch (warm: files present)": timed([executable, "fetch"], root, env),
        }
        warm_book = timed([executable, "book", "--force"], root, env)
        warm_book_parts = book_parts(root)
        print(f"environment: {bytecode_state()}")
        print(f"\n{'stage':12} {'cold s':>8}")
        for stage, seconds in cold_stages.items():
            print(f"{stage:12} {seconds:8.1f}")
            if stage == "book":
                for part, part_seconds in cold_book.items():
                    print(f"  {part:34} {part_seconds:6.1f}")
        rest = cold - sum(cold_stages.values())
        print(f"{'(rest)':12} {rest:8.1f}  fetch, interpreter and import start-up per command")
        print(f"{'total':12} {cold:8.1f}  target <= 120 s")
        print(f"\nwarm rerun (every stage skipped): {warm:.1f} s  target < 10 s")
        print("fixed costs (warm, one command each):")
        for label, seconds in fixed.items():
            print(f"  {label:40} {seconds:6.1f}")
        print(f"warm book rebuild (book --force, pages cached): {warm_book:.1f} s  target < 5 s")
        for part, part_seconds in warm_book_parts.items():
            print(f"  {part:34} {part_seconds:6.1f}")
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
