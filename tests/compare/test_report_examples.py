"""Every committed example still renders with this version's report: into a copy, with the
Answer block first, every section it had, and its old verdict labelled as the tile-level one."""

import json
import re
import shutil
from pathlib import Path

import pytest

from common.compare.report.build import write_report

EXAMPLES = sorted(p for p in (Path(__file__).parents[2] / "results" / "examples").iterdir()
                  if p.is_dir())  # fmt: skip


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_committed_example_renders_answer_first(example, tmp_path):
    copy = tmp_path / example.name
    shutil.copytree(example, copy)
    text = write_report(copy).read_text()
    lines = text.splitlines()
    metrics = json.loads((example / "metrics.json").read_text())
    if not metrics.get("pairs") and not any(k.startswith("difference_") for k in metrics):
        return  # a one-subject run: nothing to compare, no Answer block
    assert lines[2] == "## Answer", lines[:4]
    block = lines[4 : lines.index("", 4)]
    machine = [line for line in block if line.startswith("- Machine: ")]
    assert 2 <= len(block) <= 8 and machine  # then, in runs with a claims plan, the Claims line
    assert block.index(machine[0]) >= len(block) - 2 and block[-1].startswith(
        ("- Machine", "- Claims")
    )
    assert "**the frameworks" in "\n".join(block) or "not computed" in "\n".join(block)
    before = (example / "report.md").read_text()
    headings = re.findall(r"^## .+$", before, flags=re.M)
    assert all(h in lines for h in headings), headings
    images = re.findall(r"!\[[^\]]*\]\((plots/[^)]+)\)", before)
    assert all(image in text and (copy / image).is_file() for image in images), images
    assert not [row for row in lines if re.fullmatch(r"\|( – \|)+", row) and row not in before]
    if "frameworks" not in next(iter(metrics.get("pairs", {"": {}}).values()), {}):
        assert "Verdict, these trained models only" in text or "Holm" in text
