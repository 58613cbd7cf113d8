"""Numbers that cite a committed run, generated from its files so they cannot drift.

Every block between `<!-- cite: KIND PATH... -->` and `<!-- /cite -->` in README.md and docs/*.md
is the output of KIND on the committed folder(s) named:

- `answer RUN`: the Answer block of the run's report (metrics.json and config.json);
- `units RUN`: its per-run differences and out-of-fold scores, and its wall time;
- `runs RUN...`: one table row per run and subject (score, cross-fitted score, speeds, wall);
- `bench DIR`: the mode, machine and throughput table of a published `saltbench bench` run.

`python docs/cite.py` rewrites the blocks; `python docs/cite.py --check` exits 1, naming the file
and the block, where a block differs from what its files give (tests/docs runs it).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"(<!-- cite: (?P<args>[^>]*?) -->\n)(?P<body>.*?)(<!-- /cite -->)", re.S)


def load(run: str) -> tuple[dict, dict]:
    from common.runs import rundir

    return rundir.load_config(ROOT / run), rundir.load_metrics(ROOT / run)


def answer(run: str) -> str:
    from common.compare.report.answer import answer_block

    lines = answer_block(*load(run))
    return "\n".join(line for line in lines[1:] if line) + "\n"


def units(run: str) -> str:
    from common.compare.analysis.uncertainty import pairs_of
    from common.runs import rundir
    from common.subjects.selection import label

    config, metrics = load(run)
    reference = metrics.get("reference")
    parts = []
    for subject, pair in pairs_of(metrics).items():
        diffs = pair.get("frameworks", {}).get("unit_differences") or []
        sd = pair.get("frameworks", {}).get("between_unit_sd")
        shown = ", ".join(f"{d:+.4f}" for d in diffs)
        seeds = rundir.run_seeds(config)
        order = f"folds {', '.join(map(str, config['folds']))}" + (
            f" within each of seeds {', '.join(map(str, seeds))}" if len(seeds) > 1 else ""
        )
        parts.append(
            f"Per-run differences {label(subject)} − {label(reference)} ({order}): {shown}; "
            f"between-run sd {sd:.4f}."
        )
    for subject, summary in metrics["subjects"].items():
        scores = ", ".join(f"{u['score']:.3f}" for u in summary["folds"])
        parts.append(f"Out-of-fold score per run, {label(subject)}: {scores}.")
    wall = metrics["session_wall_s"]
    parts.append(f"Wall time: {wall:.0f} s ({wall / 60:.0f} min).")
    return "\n".join(parts) + "\n"


def runs(*folders: str) -> str:
    from common.core.cpu import machine_line
    from common.subjects.selection import label

    rows = [
        "| run | command | machine | subject | OOF score | cross-fitted | train img/s "
        "| inference img/s | wall (s) |",
        "|---" * 9 + "|",
    ]
    for run in folders:
        config, metrics = load(run)
        record = metrics.get("machine") or config.get("machine")
        machine = machine_line(record) if record else "not recorded"
        command = " ".join(config["command"][1:])
        for subject, s in metrics["subjects"].items():
            cross = s.get("pooled_score_cross_fitted")
            rows.append(
                f"| `{Path(run).name}` | `{command}` | {machine} | {label(subject)} "
                f"| {s['pooled_score']:.4f} | {'–' if cross is None else f'{cross:.4f}'} "
                f"| {s['train_img_s']:.1f} | {s['infer_img_s']:.1f} "
                f"| {metrics['session_wall_s']:.0f} |"
            )
    return "\n".join(rows) + "\n"


def mode_lines(path: Path) -> str:
    """The Mode: and Machine: lines of a committed bench run's summary.md."""
    lines = (path / "summary.md").read_text().splitlines()
    return "\n".join(line for line in lines if line.startswith(("Mode:", "Machine:")))


def bench(folder: str) -> str:
    import pandas as pd

    from common.bench.report.summary_tables import markdown_table

    path = ROOT / folder
    return mode_lines(path) + "\n\n" + markdown_table(pd.read_csv(path / "summary.csv"))


def gains(folder: str) -> str:
    """The machine line and the tuned-variant gains table of a committed bench run."""
    import pandas as pd

    from common.bench.report.summary_tables import gains_table

    path = ROOT / folder
    return mode_lines(path) + "\n\n" + gains_table(pd.read_csv(path / "summary.csv"))


def breakdown(folder: str, phase: str = "train") -> str:
    """The context line and one phase's section of a committed `bench --breakdown` run."""
    lines = (ROOT / folder / "breakdown.md").read_text().splitlines()
    title = {"train": "## Training step", "infer": "## Inference batch"}[phase]
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    section = [line for line in lines[start + 1 : end] if not line.startswith("How to read")]
    return lines[2] + "\n\n" + "\n".join(section).strip() + "\n"


KINDS = {
    "answer": answer,
    "units": units,
    "runs": runs,
    "bench": bench,
    "gains": gains,
    "breakdown": breakdown,
}


def render(text: str) -> str:
    """The text with every cite block regenerated from its files."""

    def block(match: re.Match) -> str:
        kind, *args = match["args"].split()
        return match.group(1) + KINDS[kind](*args) + match.group(4)

    return BLOCK.sub(block, text)


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def drift() -> list[str]:
    """'<file>: block <args> differs from its files' for every stale block."""
    problems = []
    for path in documents():
        text = path.read_text()
        fresh = render(text)
        if fresh != text:
            old = {m["args"]: m["body"] for m in BLOCK.finditer(text)}
            new = {m["args"]: m["body"] for m in BLOCK.finditer(fresh)}
            stale = [args for args in old if old[args] != new.get(args)]
            problems += [
                f"{path.relative_to(ROOT)}: block `{a}` differs from its files" for a in stale
            ]
    return problems


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(ROOT))
    if "--check" in argv:
        problems = drift()
        print("\n".join(problems) or "every cited number matches its files")
        return 1 if problems else 0
    for path in documents():
        text = path.read_text()
        fresh = render(text)
        if fresh != text:
            path.write_text(fresh)
            print(f"rewrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
