"""Imports inside `cli/remedy` run one way: no module imports (directly or through others) a module that
imports it back, in the layers kept so far (analytics, its engines, logs). Every import counts: at the
top of a module, inside a function, or for type checking only."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "cli" / "remedy"
# Layers whose modules must be in no import cycle at all (issue 23: the engines; issue 22: logs/).
ONE_WAY = ("remedy.analytics", "remedy.logs")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: set[str]) -> Iterator[str]:
    """The remedy modules that `path` imports (`from remedy.x import name` counts `remedy.x.name` when that
    is a module, else `remedy.x`)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if alias.name in modules)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                if submodule in modules:
                    yield submodule
                elif node.module in modules:
                    yield node.module


def import_graph() -> dict[str, set[str]]:
    paths = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    modules = set(paths)
    return {name: set(imports_of(path, modules)) - {name} for name, path in paths.items()}


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_analytics_and_logs_layers_are_in_no_import_cycle() -> None:
    loops = [sorted(loop) for loop in cycles(import_graph())
             if any(member.startswith(ONE_WAY) for member in loop)]
    assert loops == []


def test_the_engines_do_not_import_the_analysis_nor_each_other() -> None:
    graph = import_graph()
    assert "remedy.analytics.ray_engine" not in graph["remedy.analytics.analysis"]
    assert "remedy.analytics.analysis" not in graph["remedy.analytics.ray_engine"]
    assert not graph["remedy.analytics.engines"] & {"remedy.analytics.ray_engine", "remedy.analytics.local_engine"}


def test_reading_logs_is_a_pipeline_in_one_direction() -> None:
    # sources -> cache -> typed read -> fallbacks -> canonical table: no step imports one before it
    graph = {name.removeprefix("remedy.logs."): {other.removeprefix("remedy.logs.") for other in imported}
             for name, imported in import_graph().items() if name.startswith("remedy.logs.")}
    order = ["reading", "cache", "staging", "typed", "line_files", "readers", "derive", "settings", "fields",
             "sources"]
    for position, step in enumerate(order):
        assert not graph[step] & set(order[:position + 1]), (step, graph[step] & set(order[:position + 1]))


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]
