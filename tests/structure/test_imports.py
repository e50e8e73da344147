"""The code reads as one piece: module-level imports between our apps form no cycle, and the event
contract and wire helpers stand on their own."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("config", "jobs", "projects", "realtime")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            found[_module_name(path)] = path
    return found


def _top_level_imports(path: Path, known: set[str]) -> set[str]:
    """Modules of ours imported when `path` is imported (not inside functions, not under TYPE_CHECKING)."""
    tree = ast.parse(path.read_text())
    targets: set[str] = set()

    def resolve(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
        else:
            continue
        for name in names:
            if name.split(".")[0] in APPS and (target := resolve(name)):
                targets.add(target)
    return targets


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    graph = {name: _top_level_imports(path, known) - {name} for name, path in modules.items()}
    # A submodule naming its own package adds nothing: the package is already being imported.
    graph = {name: {t for t in targets if not name.startswith(t + ".")} for name, targets in graph.items()}
    # Importing `a.b.c` imports the packages `a` and `a.b` first.
    for name in list(graph):
        for target in list(graph[name]):
            parent = target.rpartition(".")[0]
            while parent:
                if parent in known and parent != name and not name.startswith(parent + "."):
                    graph[name].add(parent)
                parent = parent.rpartition(".")[0]
    return graph


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_graph_sees_the_imports_it_should():
    graph = _graph()
    assert "jobs.services.transitions" in graph["jobs.services.submit"]
    assert "realtime.events" in graph["jobs.services.transitions"]


def test_module_level_imports_between_the_apps_have_no_cycle():
    assert _find_cycle(_graph()) is None, " → ".join(_find_cycle(_graph()) or [])


def test_the_cycle_finder_finds_a_cycle():
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_the_event_contract_and_wire_helpers_import_no_app_module():
    graph = _graph()
    for module in ("realtime.events", "config.wire"):
        ours = {target for target in graph[module] if target.split(".")[0] in ("jobs", "projects")}
        assert ours == set(), f"{module} imports {ours}"


def test_selectors_do_not_import_serializers():
    graph = _graph()
    for module in ("jobs.selectors", "realtime.selectors", "projects.selectors"):
        assert not {t for t in graph[module] if t.endswith("serializers")}, module


def test_projects_import_jobs_only_from_their_pages():
    graph = _graph()
    importers = {name for name, targets in graph.items()
                 if name.startswith("projects") and any(t.startswith("jobs") for t in targets)}
    assert importers <= {"projects.pages"}, importers


def test_the_task_body_is_one_service_call():
    tree = ast.parse((ROOT / "jobs" / "tasks.py").read_text())
    render = next(node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "render")
    calls = [node for node in ast.walk(render) if isinstance(node, ast.Call)]
    names = sorted(ast.unparse(call.func) for call in calls)
    assert names == ["connections.close_all", "job_render", "os.environ.get"], names
