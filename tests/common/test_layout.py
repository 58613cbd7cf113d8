"""The package layout's promises: the layers of import-linter's contracts (pyproject.toml), no
import cycle in common/, every module importable on its own, no framework imported by common/ at
load time."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
COMMON = REPO_ROOT / "common"
FRAMEWORK_MODULES = ("keras", "tensorflow", "torch", "jax")


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def common_modules() -> list[str]:
    """Every module of common/ except `__main__` (importing that one runs the CLI)."""
    return sorted(module_name(p) for p in COMMON.rglob("*.py") if p.stem != "__main__")


def load_time_imports(path: Path, known: set[str]) -> set[str]:
    """common.* modules imported at module level (not inside functions) by the file at `path`."""
    found: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        for sub in ast.walk(node):
            if isinstance(sub, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                break
            found |= imported_names(sub)
    return {name for name in found if name in known}


def imported_names(node: ast.AST) -> set[str]:
    """The module names an import statement can bind ('a.b' and 'a.b.c' for from a.b import c)."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names}
    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        return {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
    return set()


def import_graph() -> dict[str, set[str]]:
    known = set(common_modules())
    return {module_name(p): load_time_imports(p, known) for p in COMMON.rglob("*.py")}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path of module names, or None (depth-first search)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_cycle_finder_finds_a_planted_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_common_has_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def every_import(path: Path, known: set[str]) -> set[str]:
    """common.* modules the file imports anywhere: at load time and inside functions (lazily)."""
    found = {
        name for node in ast.walk(ast.parse(path.read_text())) for name in imported_names(node)
    }
    return found & known


def test_the_harness_has_no_import_cycle_even_through_lazy_imports():
    """A function-level import hides a cycle from load time, not from the reader: the harness's
    modules depend on each other in one direction only."""
    harness = COMMON / "harness"
    known = {module_name(p) for p in harness.glob("*.py")}
    graph = {module_name(p): every_import(p, known) for p in harness.glob("*.py")}
    assert len(graph) > 20 and any(graph.values())  # the walk saw the harness and its imports
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle in common/harness: " + " -> ".join(cycle or [])


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """import-linter's contracts (pyproject.toml) over the packages under `root`."""
    exe = Path(sys.executable).with_name("lint-imports")
    env = {"PATH": str(exe.parent), "PYTHONPATH": str(root), "HOME": str(root)}
    return subprocess.run([str(exe), "--no-cache"], cwd=root, env=env, capture_output=True,
                          text=True, timeout=120)  # fmt: skip


def test_the_layers_hold():
    """Commands over runners, export over harness and bench (independent of each other), the
    twins and the core below them all: the import-linter contracts, function-level imports
    included."""
    done = lint_imports(REPO_ROOT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "3 kept, 0 broken" in done.stdout


def test_an_edge_from_a_runner_to_the_commands_breaks_the_layers(tmp_path):
    for name in ("common", "keras_impl", "torch_impl"):
        shutil.copytree(
            REPO_ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy2(REPO_ROOT / "pyproject.toml", tmp_path)
    module = tmp_path / "common" / "bench" / "scaling.py"
    module.write_text(module.read_text() + "\n\ndef _upward():\n    import common.commands.bench\n")
    done = lint_imports(tmp_path)
    assert done.returncode == 1 and "common.bench.scaling -> common.commands.bench" in done.stdout


@pytest.mark.slow
def test_every_common_module_imports_alone_without_a_framework():
    """Each module imported first in a fresh common/ namespace; none pulls in a framework."""
    code = f"""
import importlib, sys
failures = []
for name in {common_modules()!r}:
    for loaded in [m for m in sys.modules if m == "common" or m.startswith("common.")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception as err:
        failures.append(f"{{name}}: {{type(err).__name__}}: {{err}}")
frameworks = sorted(m for m in {FRAMEWORK_MODULES!r} if m in sys.modules)
print("FAIL " + " | ".join(failures) if failures else "OK", "FRAMEWORKS", frameworks)
"""
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "OK FRAMEWORKS []", out
