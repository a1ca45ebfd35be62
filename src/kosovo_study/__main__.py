"""``python -m kosovo_study`` runs the command-line interface."""

from kosovo_study.cli import main

raise SystemExit(main())
