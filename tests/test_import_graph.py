"""No import cycle inside ``src/kosovo_study`` (issue 18): the import graph, built from the
source with :mod:`ast` (imports inside functions included, ``if TYPE_CHECKING:`` blocks
left out since they never run), has no strongly connected component of two or more
modules, apart from the known ones listed below until the models refactor is merged."""

from __future__ import annotations

import ast
from pathlib import Path

import kosovo_study

PACKAGE_DIR = Path(kosovo_study.__file__).resolve().parent


#: Cycles another branch removes (issue 18, part 2); the lead empties this after merging.
def _modules() -> dict[str, Path]:
    found = {}
    for file in PACKAGE_DIR.rglob("*.py"):
        parts = ["kosovo_study", *file.relative_to(PACKAGE_DIR).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = file
    return found


def _runtime_statements(body: list[ast.stmt]) -> list[ast.stmt]:
    """Every statement that can run, in nested blocks too; not ``if TYPE_CHECKING:``."""
    out: list[ast.stmt] = []
    stack = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            stack.extend(node.orelse)
            continue
        out.append(node)
        for name in ("body", "orelse", "finalbody", "handlers", "cases"):
            children = getattr(node, name, None)
            if isinstance(children, list):
                stack.extend(c for c in children if isinstance(c, ast.stmt | ast.excepthandler))
    return out


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, file in modules.items():
        package = name if file.name == "__init__.py" else name.rsplit(".", 1)[0]
        tree = ast.parse(file.read_bytes())
        for node in _runtime_statements(tree.body):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, *([node.module] if node.module else [])])
                else:
                    base = node.module or ""
                for alias in node.names:
                    # ``from a import b``: the module a.b when it is one, else a
                    targets.append(
                        f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                    )
            for target in targets:
                if target in modules and target != name:
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """Strongly connected components of two or more modules (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [frozenset("abc")]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_lazy_imports() -> None:
    graph = import_graph()
    # cli imports the stage list inside functions only
    assert "kosovo_study.stages" in graph["kosovo_study.cli"]
    assert "kosovo_study.clean" in graph["kosovo_study.stages"]


def test_nothing_imports_the_stage_list_but_the_tools_above_it() -> None:
    graph = import_graph()
    importers = {name for name, targets in graph.items() if "kosovo_study.stages" in targets}
    # above the stages: the command line, the outputs catalogue, and the replication
    # tools that rerun every stage (verify) or describe each run (the record, the crate)
    above = {"kosovo_study.cli", "kosovo_study.outputs"}
    assert {n for n in importers if not n.startswith("kosovo_study.replication")} <= above
    assert "kosovo_study.stages" not in graph["kosovo_study.manifest"]


def test_no_import_cycle_at_all() -> None:
    assert cycles(import_graph()) == []
