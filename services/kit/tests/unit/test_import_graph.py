"""kit's modules form layers: no two import each other, directly or round a
loop. Every import counts, those inside functions and under TYPE_CHECKING
too, since each one is a dependency of the design."""

from __future__ import annotations

import ast
from pathlib import Path

KIT = Path(__file__).resolve().parents[2] / "kit"


def kit_modules() -> set[str]:
    return {path.stem for path in KIT.glob("*.py") if path.stem != "__init__"}


def imports_of(module: str, known: set[str]) -> set[str]:
    """The kit modules that `kit.<module>` imports anywhere in its source."""
    tree = ast.parse((KIT / f"{module}.py").read_text(), filename=f"kit/{module}.py")
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "kit":  # from kit import metrics
                names = [f"kit.{alias.name}" for alias in node.names]
            else:
                names = [node.module]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "kit" and len(parts) > 1 and parts[1] in known:
                found.add(parts[1])
    found.discard(module)
    return found


def import_graph() -> dict[str, set[str]]:
    known = kit_modules()
    return {module: imports_of(module, known) for module in sorted(known)}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import loop as a path that ends where it starts, or None."""
    done: set[str] = set()
    path: list[str] = []
    on_path: set[str] = set()

    def visit(module: str) -> list[str] | None:
        path.append(module)
        on_path.add(module)
        for imported in sorted(graph[module]):
            if imported in on_path:
                return [*path[path.index(imported) :], imported]
            if imported not in done and (cycle := visit(imported)):
                return cycle
        path.pop()
        on_path.discard(module)
        done.add(module)
        return None

    for module in graph:
        if module not in done and (cycle := visit(module)):
            return cycle
    return None


def test_no_kit_module_imports_itself_round_a_loop() -> None:
    graph = import_graph()
    assert "tables" in graph and graph["tables"] == set(), "the platform tables depend on nothing"
    cycle = find_cycle(graph)
    assert cycle is None, "import loop in kit: " + " -> ".join(f"kit.{m}" for m in cycle or [])


def test_the_platform_tables_are_imported_from_one_module() -> None:
    graph = import_graph()
    for module in ("db", "outbox", "inbox", "migrations"):
        assert "tables" in graph[module], module
    assert "outbox" not in graph["db"] and "outbox" not in graph["inbox"]


def test_the_loop_finder_finds_a_loop() -> None:
    # The check above is only as good as this: a known loop must be reported.
    graph = {
        "db": {"events", "outbox"},
        "events": set(),
        "outbox": {"metrics", "db"},
        "metrics": set(),
    }
    assert find_cycle(graph) == ["db", "outbox", "db"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
