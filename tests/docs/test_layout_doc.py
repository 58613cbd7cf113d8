"""docs/layout.md says what the tree holds: its package table covers every package and top-level
module of common/, every entry exists, and every file a row or the prose names is where it says."""

from __future__ import annotations

import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
COMMON = REPO_ROOT / "common"
LAYOUT = REPO_ROOT / "docs" / "layout.md"
PACKAGES_HEADING = "## The packages of `common/`"


def package_rows() -> dict[str, str]:
    """First cell (without backticks) -> the rest of the row, for the package table."""
    text = LAYOUT.read_text()
    table = text[text.index(PACKAGES_HEADING) :].split("\n## ", 1)[0]
    rows = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = " ".join(cells[1:])
    return rows


def top_level_entries(root: Path = COMMON) -> set[str]:
    """The packages (as 'name/') and modules (as 'name.py') of `root`, entry points left out."""
    packages = {f"{p.name}/" for p in root.iterdir() if (p / "__init__.py").is_file()}
    modules = {p.name for p in root.glob("*.py") if p.stem not in ("__init__", "__main__")}
    return packages | modules


def uncovered(root: Path = COMMON) -> list[str]:
    """What of `root` no entry of the table is or lies inside."""
    entries = package_rows()
    return [
        name for name in sorted(top_level_entries(root))
        if not any(entry == name or entry.startswith(name) for entry in entries)
    ]  # fmt: skip


def test_every_package_and_module_of_common_is_in_the_table():
    assert not uncovered(), f"docs/layout.md's package table leaves out {uncovered()}"


def test_a_package_the_table_does_not_name_is_caught(tmp_path):
    """The check can fail: common/ with one more package than the table names."""
    for name in [*top_level_entries(), "newpkg/"]:
        if name.endswith("/"):
            (tmp_path / name).mkdir()
            (tmp_path / name / "__init__.py").write_text("")
        else:
            (tmp_path / name).write_text("")
    assert uncovered(tmp_path) == ["newpkg/"]


def test_every_entry_of_the_table_exists():
    missing = [entry for entry in package_rows() if not (COMMON / entry).exists()]
    assert not missing, f"docs/layout.md names what common/ does not hold: {missing}"


def test_every_file_a_row_names_is_in_its_package():
    """`setup.py` in the compare/run row is common/compare/run/setup.py (or below it)."""
    wrong = []
    for entry, text in package_rows().items():
        root = COMMON / entry
        for name in re.findall(r"`([\w/]+\.py)`", text):
            if not (root.is_dir() and list(root.rglob(name))):
                wrong.append(f"{entry}: {name}")
    assert not wrong, f"docs/layout.md names files that are not where it says: {wrong}"


def test_every_path_the_prose_names_exists():
    """Paths with a folder (`runs/twin_process.py`, `tests/models/test_twin.py`) exist under
    common/ or the repository root."""
    paths = set(re.findall(r"`((?:[\w.]+/)+[\w.]+\.(?:py|toml|md))`", LAYOUT.read_text()))
    missing = [
        p for p in sorted(paths) if not (COMMON / p).exists() and not (REPO_ROOT / p).exists()
    ]
    assert paths and not missing, f"docs/layout.md names paths that do not exist: {missing}"
