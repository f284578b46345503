"""Imports inside cli/remedy run one way: no module imports itself back through others, no two
packages import each other, and inside the layers with an order of their own (the analysis engines,
the steps of reading logs, files/ under the rules) no module imports one it must not. Every import
counts, also one inside a function or under TYPE_CHECKING: a lazy import keeps `--help` fast but still
ties the two modules together, and hiding a cycle inside a function is how cycles usually come in.

The graph is read from the source (ast), so the test needs nothing imported and runs in ~0.2 s.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "cli" / "remedy"

# Known cycles, each with the reason it is still here. An entry that no longer matches a cycle fails the
# test too, so the list only shrinks.
ALLOWED_MODULE_CYCLES: set[frozenset[str]] = set()  # none left (analysis/ray_engine: analytics/engines.py)
ALLOWED_PACKAGE_CYCLES: set[frozenset[str]] = set()


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """module -> the remedy modules it imports (`from remedy.x import y` counts `remedy.x.y` if y is a module)."""
    modules = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: from .x import y
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                           for alias in node.names]
            else:
                continue
            graph[name] |= {target for target in targets if target in modules and target != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected components of more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
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
    return found


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """remedy.<package> -> the packages it imports (top-level modules are packages of their own)."""
    def top(name: str) -> str:
        return ".".join(name.split(".")[:2])

    packages: dict[str, set[str]] = {top(name): set() for name in graph}
    for name, targets in graph.items():
        packages[top(name)] |= {top(target) for target in targets if top(target) != top(name)}
    return packages


def _describe(component: frozenset[str], graph: dict[str, set[str]]) -> str:
    edges = [f"{a} -> {b}" for a in sorted(component) for b in sorted(graph[a] & component)]
    return "\n  ".join(edges)


@pytest.mark.parametrize(("level", "graph_of", "allowed"), [
    ("module", lambda graph: graph, ALLOWED_MODULE_CYCLES),
    ("package", package_graph, ALLOWED_PACKAGE_CYCLES),
], ids=["modules", "packages"])
def test_no_import_cycle(level: str, graph_of: Callable[[dict[str, set[str]]], dict[str, set[str]]],
                         allowed: set[frozenset[str]]) -> None:
    graph = graph_of(import_graph())
    found = set(cycles(graph))
    new = [_describe(c, graph) for c in found - allowed]
    assert not new, f"{level} import cycle(s) inside cli/remedy:\n  " + "\n\n  ".join(new)
    gone = allowed - found
    assert not gone, f"these allowed {level} cycles are gone: remove them from the allowed list: {gone}"


def test_the_cycle_finder_finds_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e2"}, "e2": {"e"}, "f": set()}
    assert set(cycles(graph)) == {frozenset("abc"), frozenset({"e", "e2"})}
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_files_layer_imports_no_rule() -> None:
    """The cycle issue 23 removed: files/ reports codes from remedy.file_codes, never from a rule module."""
    graph = import_graph()
    upward = sorted(f"{name} -> {target}" for name, targets in graph.items() if name.startswith("remedy.files.")
                    for target in targets if target.startswith(("remedy.rules", "remedy.validation", "remedy.gate")))
    assert upward == []


def test_the_engines_do_not_import_the_analysis_nor_each_other() -> None:
    """Issue 23: `analysis.analyse` and the engines meet only in analytics/engines.py, which imports an
    engine by name when asked for one (so the local engine never brings Ray in)."""
    graph = import_graph()
    assert "remedy.analytics.ray_engine" not in graph["remedy.analytics.analysis"]
    assert "remedy.analytics.analysis" not in graph["remedy.analytics.ray_engine"]
    assert not graph["remedy.analytics.engines"] & {"remedy.analytics.ray_engine", "remedy.analytics.local_engine"}


def test_reading_logs_is_a_pipeline_in_one_direction() -> None:
    """Issue 22 (docs/logs.md): sources -> cache -> typed read -> fallbacks -> canonical table; no step
    imports one before it."""
    graph = {name.removeprefix("remedy.logs."): {other.removeprefix("remedy.logs.") for other in imported}
             for name, imported in import_graph().items() if name.startswith("remedy.logs.")}
    order = ["reading", "bundles", "cache", "staging", "typed", "line_files", "readers", "derive", "settings", "fields",
             "sources"]
    for position, step in enumerate(order):
        assert not graph[step] & set(order[:position + 1]), (step, graph[step] & set(order[:position + 1]))
