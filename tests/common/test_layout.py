"""The package layout's promises: import-linter's contracts (pyproject.toml: the layers, no runner
importing another, the twins' imports, no cycle at any depth, function-level imports included),
every module importable on its own, no framework imported by common/ at load time."""

from __future__ import annotations

import re
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


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """import-linter's contracts (pyproject.toml) over the packages under `root`."""
    exe = Path(sys.executable).with_name("lint-imports")
    env = {"PATH": str(exe.parent), "PYTHONPATH": str(root), "HOME": str(root)}
    return subprocess.run([str(exe), "--no-cache"], cwd=root, env=env, capture_output=True,
                          text=True, timeout=120)  # fmt: skip


def test_the_layers_hold():
    """Commands over runners over the run files over recipes and subjects over the models over
    statistics and the core; runners independent; the twins on models and core; common reaching
    the twins only through the twin interface; no cycle."""
    done = lint_imports(REPO_ROOT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "7 kept, 0 broken" in done.stdout


def with_planted_import(tmp_path: Path, module: str, imported: str) -> subprocess.CompletedProcess:
    """lint-imports over a copy of the packages where `module` imports `imported` in a function."""
    for name in ("common", "keras_impl", "torch_impl"):
        shutil.copytree(
            REPO_ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy2(REPO_ROOT / "pyproject.toml", tmp_path)
    path = tmp_path / (module.replace(".", "/") + ".py")
    path.write_text(path.read_text() + f"\n\ndef _planted():\n    import {imported}\n")
    return lint_imports(tmp_path)


def test_an_edge_from_a_runner_to_the_commands_breaks_the_layers(tmp_path):
    done = with_planted_import(tmp_path, "common.bench.sweep.scaling", "common.commands.bench")
    assert (
        done.returncode == 1
        and "common.bench.sweep.scaling -> common.commands.bench" in done.stdout
    )


@pytest.mark.parametrize(
    "module, imported, contract",
    [
        ("common.export.write", "common.bench.timing.steps", "no runner imports another runner"),
        ("torch_impl.model", "common.recipes.resolve", "the twins import only"),
        ("common.bench.timing.steps", "torch_impl.steps", "common reaches a twin only through"),
        ("common.compare.unit.evaluate", "keras_impl.train", "common reaches a twin only through"),
        ("common.compare.unit.fold", "common.compare.run.worker", "No cycles are allowed"),
    ],
)
def test_a_planted_function_level_import_breaks_its_contract(tmp_path, module, imported, contract):
    done = with_planted_import(tmp_path, module, imported)
    assert done.returncode == 1 and contract in done.stdout, done.stdout[-2000:]


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


FRAMEWORK_BRANCH = re.compile(r"""(==|!=)\s*["'](torch|keras)["']|object\.__new__""")
BRANCH_EXCEPTION = "common/export/native_check.py"  # loads an export the way a user would


def framework_branches(root: Path) -> list[str]:
    """'path:line' of each `== "torch"`-style branch or `object.__new__` under root/common."""
    return [
        f"{path.relative_to(root).as_posix()}:{number}"
        for path in sorted((root / "common").rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if FRAMEWORK_BRANCH.search(line)
    ]


def test_common_branches_on_a_twin_only_in_the_native_check():
    """A twin's differences live in the twin; common/ asks it (the native check excepted)."""
    found = [hit for hit in framework_branches(REPO_ROOT) if not hit.startswith(BRANCH_EXCEPTION)]
    assert not found, f"framework branches in common/: {found}"


def test_a_planted_framework_branch_is_found(tmp_path):
    (tmp_path / "common").mkdir()
    (tmp_path / "common" / "planted.py").write_text('def f(t):\n    return t == "torch"\n')
    assert framework_branches(tmp_path) == ["common/planted.py:2"]
