"""Numbers that cite committed runs match their files (docs/cite.py), and the README stays a front
page whose links resolve."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def cite():
    spec = importlib.util.spec_from_file_location("cite", ROOT / "docs" / "cite.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_cited_number_matches_its_files():
    assert cite().drift() == []


def test_a_cited_number_changed_by_hand_is_caught():
    module = cite()
    readme = (ROOT / "README.md").read_text()
    block = next(module.BLOCK.finditer(readme))
    digit = re.search(r"\d", block["body"])
    start = block.start("body") + digit.start()
    changed = readme[:start] + str((int(readme[start]) + 1) % 10) + readme[start + 1 :]
    assert module.render(changed) != changed  # regenerating undoes the hand edit
    assert module.render(readme) == readme


def test_the_readme_is_a_front_page_and_its_links_resolve():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 200
    for target in re.findall(r"\]\(([^)#]+)\)", readme):
        if not target.startswith("http"):
            assert (ROOT / target).exists(), target
    for page in ("compare", "statistics", "bench", "data", "export", "ray", "gpu", "recipes"):
        assert (ROOT / "docs" / f"{page}.md").is_file(), page
