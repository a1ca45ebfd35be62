"""The research notebooks (``notebooks/``) as the book's Notebooks page lists them:
each notebook's title and first paragraph, read from the notebook itself."""

from __future__ import annotations

from pathlib import Path

import nbformat

#: Binder builds the environment from ``binder/requirements.txt`` (pinned from uv.lock).
BINDER = "https://mybinder.org/v2/gh/{repository}/main?labpath=notebooks%2F{name}"


def notebook_index(root: Path) -> list[dict[str, str]]:
    """One entry per ``notebooks/*.ipynb``: ``name``, ``stem``, ``title`` and ``summary``
    (the first paragraph after the title of the first Markdown cell)."""
    entries = []
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        first = next(cell for cell in notebook.cells if cell.cell_type == "markdown")
        title, _, rest = str(first.source).partition("\n")
        paragraph = rest.strip().split("\n\n", 1)[0]
        entries.append(
            {
                "name": path.name,
                "stem": path.stem,
                "title": title.lstrip("# ").strip(),
                "summary": " ".join(paragraph.split()),
            }
        )
    return entries


def notebooks_markdown(root: Path, repository: str) -> str:
    """The Notebooks page's list (MyST): title, what it shows, its page in the book
    (executed by the book build), a download link (the ``.ipynb``) and a Binder launch link."""
    owner_name = repository.removeprefix("https://github.com/").strip("/")
    items = []
    for entry in notebook_index(root):
        binder = BINDER.format(repository=owner_name, name=entry["name"])
        items.append(
            f"**{entry['title']}** (`{entry['name']}`). {entry['summary']}\n"
            f"{{doc}}`read it in the book <notebooks/{entry['stem']}>` · "
            f"{{download}}`download <notebooks/{entry['name']}>` · "
            f"[launch on Binder]({binder})"
        )
    return "\n\n".join(items) + "\n"
