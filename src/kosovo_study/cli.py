"""The ``kosovo-study`` command.  Thin: it parses arguments and calls the package API.

Errors are printed as one paragraph on stderr with exit status 1; ``--debug``
shows the traceback instead.
"""

from __future__ import annotations

import argparse
import re
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from kosovo_study import __version__
from kosovo_study.errors import KosovoStudyError
from kosovo_study.manifest import StageResult

if TYPE_CHECKING:
    from kosovo_study.config import StudyConfig

#: markup=False: messages quote file names, headers and cells, and rich would read a
#: "[/red]" in a researcher's file as a closing tag (a MarkupError traceback) or drop a
#: "[...]" part of the message.  Colours are set with Text styles instead.
_console = Console(stderr=True, highlight=False, markup=False)


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _labelled(label: str, style: str, message: str) -> Text:
    """``label: message`` with the label in ``style``; the message is never markup.

    Control characters (an escape sequence in a file name, a NUL in a cell) are shown
    as ``\\xNN``, so that a hostile name cannot clear or recolour the terminal.
    """
    shown = _CONTROL.sub(lambda found: f"\\x{ord(found.group()):02x}", message)
    return Text.assemble((label, style), ": " + shown)


def _progress() -> Progress:
    # transient + a short refresh: tasks under a second finish before a bar is drawn.
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=_console,
        transient=True,
        refresh_per_second=4,
    )


def cmd_fetch(args: argparse.Namespace) -> int:
    from kosovo_study.registry import fetch, load_registry

    names = args.names or None
    total = len(names) if names else len(load_registry())
    with _progress() as progress:
        task = progress.add_task("fetch", total=total)
        fetched = fetch(
            names, progress=lambda entry: progress.update(task, advance=1, description=entry.name)
        )
    _console.print(f"fetched and verified {len(fetched)} raw files (sha256 checked)")
    return 0


def _report_stage(result: StageResult) -> None:
    if result.skipped:
        _console.print(f"{result.stage}: up to date (inputs and code unchanged); --force reruns it")
    else:
        _console.print(
            f"{result.stage}: wrote {len(result.outputs)} files in "
            f"{result.manifest['seconds']:.1f} s (manifest in data/processed/manifests/)"
        )


def _config(args: argparse.Namespace, stage_names: Sequence[str] = ()) -> StudyConfig:
    """The configuration with ``--set`` applied; a parameter that none of ``stage_names``
    uses is refused (it would change nothing, silently)."""
    from kosovo_study import stages
    from kosovo_study.config import load_config, parse_assignments
    from kosovo_study.paths import project_paths

    assignments = parse_assignments(getattr(args, "set", None) or [])
    config = load_config(project_paths().root, assignments)
    unused = [
        name
        for name in assignments
        if stage_names and not any(stages.uses_parameter(s, name, config) for s in stage_names)
    ]
    if unused:
        users = {
            name: [s.name for s in stages.STAGES if stages.uses_parameter(s.name, name, config)]
            for name in unused
        }
        raise KosovoStudyError(
            f"--set {', '.join(unused)}: not a parameter of the {', '.join(stage_names)} "
            "stage"
            + ("s" if len(stage_names) > 1 else "")
            + "; "
            + "; ".join(
                f"{name} is used by {', '.join(who) or 'no stage'}" for name, who in users.items()
            )
            + ". Pass it to the command of a stage that uses it."
        )
    return config


def _run_stage(
    name: str, args: argparse.Namespace, config: StudyConfig | None = None, **options: Any
) -> int:
    """Run one stage of :data:`kosovo_study.stages.STAGES` and say what it did; the stages
    whose outputs it reads are run first when those outputs are missing."""
    from kosovo_study import stages
    from kosovo_study.paths import project_paths

    stage = stages.STAGE_BY_NAME[name]
    paths = project_paths()
    config = config or _config(args, [name])
    for need in stages.missing_needs(name, paths):
        _console.print(f"{name}: the outputs of the {need} stage are missing; running it first")
        _run_stage(need, args, config)
    with _console.status(stage.summary):
        result = stages.run(name, paths, config, getattr(args, "force", False), **options)
    _report_stage(result)
    # Printed every time, also when the stage was skipped as up to date.
    if notice := stage.notice(paths):
        _console.print(f"{name}: {notice}")
    return 0


def cmd_clean(args: argparse.Namespace) -> int:
    return _run_stage("clean", args)


def cmd_models(args: argparse.Namespace) -> int:
    return _run_stage("models", args)


def cmd_book(args: argparse.Namespace) -> int:
    from kosovo_study.paths import project_paths
    from kosovo_study.report.sphinx_ext import PDF_NAME

    # The book stage prints the PDF with the HTML (its footer links it): --pdf names it
    # rather than printing it a second time.
    _run_stage("book", args)
    if getattr(args, "pdf", False):
        _console.print(f"book: PDF at {project_paths().book_build / 'pdf' / PDF_NAME}")
    return 0


def cmd_design(args: argparse.Namespace) -> int:
    return _run_stage("design", args)


def cmd_multiverse(args: argparse.Namespace) -> int:
    return _run_stage(
        "multiverse",
        args,
        scheduler=getattr(args, "scheduler", None),
        n_jobs=getattr(args, "jobs", 2),
        grid=getattr(args, "grid", "standard"),
    )


def cmd_report(args: argparse.Namespace) -> int:
    """Fetch, then run every stage of :data:`kosovo_study.stages.STAGES` in order."""
    from kosovo_study import stages

    names = [stage.name for stage in stages.STAGES]
    first = names.index(getattr(args, "first", None) or names[0])
    last = names.index(getattr(args, "last", None) or names[-1])
    if first > last:
        raise KosovoStudyError(
            f"--from {names[first]} comes after --to {names[last]}; the stages run in the "
            f"order {names}."
        )
    if first == 0:  # the raw files are the first stage's inputs
        cmd_fetch(argparse.Namespace(**{**vars(args), "names": None}))
    config = _config(args, names[first : last + 1])
    for stage in stages.STAGES[first : last + 1]:
        options: dict[str, Any] = {}
        if stage.name == "multiverse":
            options = {
                "scheduler": getattr(args, "scheduler", None),
                "n_jobs": args.jobs,
                "grid": getattr(args, "grid", "standard"),
            }
        _run_stage(stage.name, args, config, **options)
    if names[last] == "book":
        _console.print("report: the book is in book/_build/html/index.html")
        from kosovo_study.paths import project_paths
        from kosovo_study.replication import finish_report

        written = finish_report(project_paths())
        _console.print(
            "report: release record and run crate: " + ", ".join(map(str, written))
            if written
            else "report: no executed book pages, so no release record or run crate written"
        )
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    """Rerun on the restricted data in a scratch copy and compare every published number."""
    from kosovo_study.manifest import release_key
    from kosovo_study.paths import project_paths
    from kosovo_study.replication import verify

    paths = project_paths()
    key = release_key(Path(args.key_file) if args.key_file else None)
    result = verify.verify(
        paths,
        restricted=Path(args.restricted) if args.restricted else None,
        key=key,
        release=Path(args.release) if args.release else None,
        out=Path(args.out) if args.out else None,
        say=_console.print,
        interviews=Path(args.interviews) if args.interviews else None,
    )
    _console.print(verify.main_status(result))
    return result.exit_status


def cmd_why(args: argparse.Namespace) -> int:
    """Print the source chain of a glued number (or, with --list, every glued key)."""
    from kosovo_study.paths import project_paths
    from kosovo_study.report import sources

    paths = project_paths()
    if args.list or not args.key:
        for key, where in sources.key_list(paths):
            print(f"{key}  {where}")
        return 0
    print(sources.why_text(args.key, paths))
    return 0


def cmd_interviews(args: argparse.Namespace) -> int:
    from kosovo_study import stages
    from kosovo_study.interviews import stage

    with _console.status("interviews: import, pseudonymise, redact, check, refit the model"):
        stages.run("interviews", export=Path(args.path), synthetic=args.synthetic)
    _console.print(
        f"interviews: {args.path} imported ({stage.summary()}); the PII guard passed before "
        "anything was written; stage manifest updated"
    )
    return 0


#: What ``synth interviews`` writes into its folder.
SYNTH_FILES = ("synthetic_interviews.csv", "synthetic_interviews.qdpx", "README.txt")


def cmd_synth(args: argparse.Namespace) -> int:
    from kosovo_study.interviews.synthetic import write_study

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise KosovoStudyError(
            f"--out {args.out}: a file is there, not a folder. Give a folder to write the "
            "study to (it is created if missing)."
        )
    existing = [name for name in SYNTH_FILES if (out / name).exists()]
    if existing and not args.force:
        raise KosovoStudyError(
            f"--out {args.out}: already holds {', '.join(existing)}; nothing was written. "
            "Choose another folder, or pass --force to replace them."
        )
    written = write_study(args.seed, out)
    _console.print(
        "SYNTHETIC interview study written: " + ", ".join(str(p) for p in written.values())
    )
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from kosovo_study.validation import validate_path

    validated = validate_path(Path(args.path))
    provenance = validated.provenance()
    for warning in validated.warnings:
        _console.print(_labelled("warning", "yellow", f"{args.path}: {warning}"), soft_wrap=True)
    for note in validated.notes:
        _console.print(f"note: {note}")
    _console.print(
        f"{args.path}: valid ({provenance['rows']} rows, one per municipality; total "
        f"{provenance['total']} persons; definition {provenance['definition']}; period "
        f"{provenance['period_start'] or 'start of departures'} to {provenance['period_end']}; "
        f"sha256 {provenance['sha256']})"
    )
    return 0


def cmd_cite(args: argparse.Namespace) -> int:
    from kosovo_study.citation import package_citation, write_bibliography

    if args.write_bib:
        _console.print(f"wrote {write_bibliography()}")
        return 0
    citation = package_citation()
    formats = ["bibtex", "apa", "csl-json"] if args.format == "all" else [args.format]
    # With every format, a blank line between them; alone, each is exactly one document.
    print(
        "\n".join(citation[name.replace("-", "_")].rstrip("\n") + "\n" for name in formats), end=""
    )
    return 0


COMMANDS: dict[str, tuple[Callable[[argparse.Namespace], int], str]] = {
    "fetch": (cmd_fetch, "fetch every registered raw file and check its sha256"),
    "clean": (cmd_clean, "clean raw data into validated tables in data/processed"),
    "models": (cmd_models, "fit every model and write results as data"),
    "design": (
        cmd_design,
        "diagnose the designs: power, coverage, bias, RMSE, type S and M (Monte Carlo SEs)",
    ),
    "multiverse": (cmd_multiverse, "run the specification-curve (multiverse) analysis"),
    "book": (cmd_book, "build the Jupyter Book from the processed data and results"),
    "report": (
        cmd_report,
        "run every stage (clean, models, design, multiverse, interviews, book) in order",
    ),
    "validate": (cmd_validate, "check a table (e.g. restricted data) against its schema"),
    "cite": (cmd_cite, "print BibTeX, APA and CSL-JSON for this version (and its DOI)"),
    "interviews": (cmd_interviews, "import a coded-interview export (interviews import PATH)"),
    "synth": (cmd_synth, "write a synthetic study (synth interviews --seed N --out DIR)"),
    "verify": (
        cmd_verify,
        "rerun on the restricted data and compare every published number with the release",
    ),
    "why": (
        cmd_why,
        (
            "print where a number of the book comes from: result row, stage run, inputs, "
            "parameters, commit (why KEY; why --list)"
        ),
    ),
}


def _seed(text: str) -> int:
    """A seed: an integer from 0 to 2**64 - 1 (numpy's default_rng refuses negatives)."""
    from kosovo_study.config import MAX_SEED

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("give a whole number from 0 to 2**64 - 1") from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"{value} is not from 0 to 2**64 - 1")
    return value


def _path_text(text: str) -> str:
    """A path argument: not empty, no NUL (the operating system refuses both)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path; give a file or folder name")
    if "\x00" in text:
        raise argparse.ArgumentTypeError("a path cannot contain a NUL character")
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kosovo-study", description="Kosovo foreign-fighter study: data, models, report."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the full traceback on error")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (function, help_text) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        command.set_defaults(function=function)
        if name in {"clean", "models", "design", "book", "multiverse", "report"}:
            command.add_argument(
                "--force", action="store_true", help="rerun even if inputs are unchanged"
            )
            command.add_argument(
                "--set",
                action="append",
                metavar="NAME=VALUE",
                help="override a parameter of kosovo_study.config.StudyConfig (repeatable; "
                "also settable in pyproject.toml [tool.kosovo_study])",
            )
    sub.choices["fetch"].add_argument("names", nargs="*", help="registry names (default: all)")
    sub.choices["validate"].add_argument("path", type=_path_text, help="CSV file to validate")
    interviews = sub.choices["interviews"]
    interviews.add_argument("action", choices=["import"])
    interviews.add_argument("path", type=_path_text, help="CSV, XLSX or .qdpx export")
    interviews.add_argument(
        "--synthetic", action="store_true", help="the export is the synthetic study (demo key)"
    )
    synth = sub.choices["synth"]
    synth.add_argument("what", choices=["interviews"])
    synth.add_argument(
        "--seed", type=_seed, default=2012, help="seed of the synthetic study (0 to 2**64-1)"
    )
    synth.add_argument("--out", type=_path_text, required=True, help="folder to write the study to")
    synth.add_argument(
        "--force", action="store_true", help="replace the study files already in --out"
    )
    sub.choices["book"].add_argument(
        "--pdf", action="store_true", help="name the PDF the book stage printed (needs Chromium)"
    )
    from kosovo_study.stages import STAGES

    stage_names = [stage.name for stage in STAGES]
    report = sub.choices["report"]
    report.add_argument(
        "--from", dest="first", choices=stage_names, help="first stage to run (default: clean)"
    )
    report.add_argument(
        "--to", dest="last", choices=stage_names, help="last stage to run (default: book)"
    )
    for name in ("multiverse", "report"):
        sub.choices[name].add_argument(
            "--scheduler",
            help="Dask scheduler address (e.g. tcp://host:8786) to run the multiverse on a cluster",
        )
        sub.choices[name].add_argument(
            "--jobs",
            type=int,
            default=2,
            help="local worker threads of the multiverse (default 2; the compiled fits run in parallel)",
        )
        sub.choices[name].add_argument(
            "--grid",
            choices=("standard", "large"),
            default="standard",
            help="multiverse grid: standard, or large (20x: the main outcome and 19 further "
            "synthetic draws, all labelled synthetic)",
        )
    verify_command = sub.choices["verify"]
    verify_command.add_argument(
        "--restricted", help="the restricted counts (default: data/raw/restricted/...)"
    )
    verify_command.add_argument(
        "--interviews",
        help="the restricted interview export (default: data/raw/restricted/interviews.*)",
    )
    verify_command.add_argument(
        "--key-file", help="the data holder's release key (or $KOSOVO_STUDY_RELEASE_KEY[_FILE])"
    )
    verify_command.add_argument(
        "--release", help="the release record (default: data/processed/release/...)"
    )
    verify_command.add_argument(
        "--out", help="folder for the report (default: data/processed/verification)"
    )
    why = sub.choices["why"]
    why.add_argument("key", nargs="?", help="the glue key the book prints (see --list)")
    why.add_argument("--list", action="store_true", help="list every glued key and its file")
    sub.choices["cite"].add_argument(
        "--write-bib", action="store_true", help="regenerate book/references.bib"
    )
    sub.choices["cite"].add_argument(
        "--format",
        choices=["all", "bibtex", "apa", "csl-json"],
        default="all",
        help="print one format only (default: all three)",
    )
    return parser


def _paragraph(text: str) -> str:
    """One paragraph of at most 88 columns, broken at spaces only: a path or a name with
    hyphens stays whole, so that it can be copied from the terminal."""
    return textwrap.fill(
        " ".join(text.split()), width=88, break_on_hyphens=False, break_long_words=False
    )


def _raised_at(error: BaseException) -> str:
    """Where ``error`` was raised (the innermost frame), and the innermost frame of this
    package on the way when that is elsewhere (a library): file, line and function."""
    import traceback

    def shown(frame: traceback.FrameSummary) -> str:
        parts = Path(frame.filename).parts
        name = "/".join(parts[-2:])
        if "kosovo_study" in parts:
            name = "/".join(parts[parts.index("kosovo_study") :])
        return f"{name}:{frame.lineno} ({frame.name})"

    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return "an unknown place"
    ours = [f for f in frames if "kosovo_study" in Path(f.filename).parts]
    where = shown(frames[-1])
    if ours and ours[-1] is not frames[-1]:
        where += f", reached from {shown(ours[-1])}"
    return where


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``kosovo-study`` and ``python -m kosovo_study``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status: int = args.function(args)
    except KosovoStudyError as error:
        if args.debug:
            raise
        _console.print(_labelled("error", "red", _paragraph(str(error))), soft_wrap=True)
        return 1
    except OSError as error:
        # A path the operating system refused (a file used as a folder, no permission, a
        # full disk): the path and the reason, not a bug.
        if args.debug:
            raise
        where = f"{error.filename}: " if error.filename else ""
        _console.print(
            _labelled(
                "error",
                "red",
                _paragraph(
                    f"{where}{error.strerror or type(error).__name__}. Check the path and "
                    "its folders (rerun with --debug for the traceback)."
                ),
            ),
            soft_wrap=True,
        )
        return 1
    except Exception as error:
        if args.debug:
            raise
        # The exception's own text is not shown: a library's message may quote a cell of
        # the researcher's file (a phone number, a count), and stderr ends up in logs.
        # Its kind and position are enough to report it.
        _console.print(
            _labelled(
                "unexpected error",
                "red",
                _paragraph(
                    f"{type(error).__name__} raised at {_raised_at(error)}. This is probably a "
                    "bug: rerun with --debug for the traceback (it may quote your data, so "
                    "check it before sharing) and report it with the command you ran."
                ),
            ),
            soft_wrap=True,
        )
        return 1
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
