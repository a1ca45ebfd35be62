"""The ``kosovo-study`` command.  Thin: it parses arguments and calls the package API.

Errors are printed as one paragraph on stderr with exit status 1; ``--debug``
shows the traceback instead.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from kosovo_study import __version__
from kosovo_study.errors import KosovoStudyError
from kosovo_study.manifest import StageResult

_console = Console(stderr=True, highlight=False)


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


def _stage(message: str, runner: Callable[[], StageResult]) -> int:
    """Run one pipeline stage under a progress indicator and say what it did."""
    with _console.status(message):
        result = runner()
    _report_stage(result)
    return 0


def cmd_clean(args: argparse.Namespace) -> int:
    from kosovo_study import clean

    return _stage("clean: raw data -> validated tables", lambda: clean.run(force=args.force))


def cmd_models(args: argparse.Namespace) -> int:
    from kosovo_study import models

    return _stage(
        "models: municipal and cross-national analyses", lambda: models.run(force=args.force)
    )


def cmd_book(args: argparse.Namespace) -> int:
    from kosovo_study.report import build

    with _console.status("book: executing pages and building HTML (jupyter-book)"):
        result = build.build(force=args.force)
    _report_stage(result)
    if getattr(args, "pdf", False):
        with _console.status("book: printing the PDF with headless Chromium"):
            pdf = build.build_pdf()
        _console.print(f"book: PDF written to {pdf}")
    return 0


def cmd_multiverse(args: argparse.Namespace) -> int:
    from kosovo_study import models

    return _stage(
        "multiverse: every specification with randomization inference",
        lambda: models.run_multiverse(
            force=args.force,
            scheduler=getattr(args, "scheduler", None),
            n_jobs=getattr(args, "jobs", 2),
        ),
    )


def cmd_report(args: argparse.Namespace) -> int:
    """Run every stage from raw data to the book (each skipped when up to date)."""
    cmd_fetch(argparse.Namespace(names=None))
    cmd_clean(args)
    cmd_models(args)
    cmd_multiverse(args)
    cmd_interview_stage(args)
    cmd_book(args)
    _console.print("report: the book is in book/_build/html/index.html")
    return 0


def cmd_interview_stage(args: argparse.Namespace) -> int:
    from kosovo_study.interviews import stage

    return _stage(
        "interviews: export (or synthetic study) -> pseudonymised tables",
        lambda: stage.run(force=args.force),
    )


def cmd_interviews(args: argparse.Namespace) -> int:
    from kosovo_study.interviews import stage

    with _console.status("interviews: import, pseudonymise, redact, check, refit the model"):
        stage.run(export=Path(args.path), synthetic=args.synthetic)
    _console.print(
        f"interviews: {args.path} imported ({stage.summary()}); the PII guard passed before "
        "anything was written; stage manifest updated"
    )
    return 0


def cmd_synth(args: argparse.Namespace) -> int:
    from kosovo_study.interviews.synthetic import write_study

    written = write_study(args.seed, Path(args.out))
    _console.print(
        "SYNTHETIC interview study written: " + ", ".join(str(p) for p in written.values())
    )
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from kosovo_study.validation import validate_file

    rows = validate_file(Path(args.path))
    _console.print(f"{args.path}: valid ({rows} rows)")
    return 0


def cmd_cite(args: argparse.Namespace) -> int:
    from kosovo_study.citation import package_citation, write_bibliography

    if args.write_bib:
        _console.print(f"wrote {write_bibliography()}")
        return 0
    citation = package_citation()
    print(citation["bibtex"])
    print(citation["apa"])
    return 0


COMMANDS: dict[str, tuple[Callable[[argparse.Namespace], int], str]] = {
    "fetch": (cmd_fetch, "fetch every registered raw file and check its sha256"),
    "clean": (cmd_clean, "clean raw data into validated tables in data/processed"),
    "models": (cmd_models, "fit every model and write results as data"),
    "multiverse": (cmd_multiverse, "run the specification-curve (multiverse) analysis"),
    "book": (cmd_book, "build the Jupyter Book from the processed data and results"),
    "report": (cmd_report, "run everything from raw data to the built book"),
    "validate": (cmd_validate, "check a table (e.g. restricted data) against its schema"),
    "cite": (cmd_cite, "print BibTeX and APA for this version"),
    "interviews": (cmd_interviews, "import a coded-interview export (interviews import PATH)"),
    "synth": (cmd_synth, "write a synthetic study (synth interviews --seed N --out DIR)"),
}


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
        if name in {"clean", "models", "book", "multiverse", "report"}:
            command.add_argument(
                "--force", action="store_true", help="rerun even if inputs are unchanged"
            )
    sub.choices["fetch"].add_argument("names", nargs="*", help="registry names (default: all)")
    sub.choices["validate"].add_argument("path", help="CSV file to validate")
    interviews = sub.choices["interviews"]
    interviews.add_argument("action", choices=["import"])
    interviews.add_argument("path", help="CSV, XLSX or .qdpx export")
    interviews.add_argument(
        "--synthetic", action="store_true", help="the export is the synthetic study (demo key)"
    )
    synth = sub.choices["synth"]
    synth.add_argument("what", choices=["interviews"])
    synth.add_argument("--seed", type=int, default=2012)
    synth.add_argument("--out", required=True, help="folder to write the study to")
    sub.choices["book"].add_argument(
        "--pdf", action="store_true", help="also print the book to PDF (needs Chromium)"
    )
    sub.choices["multiverse"].add_argument(
        "--scheduler", help="Dask scheduler address (e.g. tcp://host:8786) to run on a cluster"
    )
    sub.choices["multiverse"].add_argument(
        "--jobs", type=int, default=2, help="local worker processes (default 2)"
    )
    sub.choices["cite"].add_argument(
        "--write-bib", action="store_true", help="regenerate book/references.bib"
    )
    return parser


def _paragraph(text: str) -> str:
    return textwrap.fill(" ".join(text.split()), width=88)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``kosovo-study`` and ``python -m kosovo_study``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status: int = args.function(args)
    except KosovoStudyError as error:
        if args.debug:
            raise
        _console.print(f"[red]error[/red]: {_paragraph(str(error))}", soft_wrap=True)
        return 1
    except Exception as error:
        if args.debug:
            raise
        _console.print(
            f"[red]unexpected error[/red] ({type(error).__name__}): "
            + _paragraph(
                f"{error}. This is probably a bug: rerun with --debug for the traceback "
                "and report it with the command you ran."
            ),
            soft_wrap=True,
        )
        return 1
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
