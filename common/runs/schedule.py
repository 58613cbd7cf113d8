"""The run's schedule: when each subject's worker started and ended, and how many ran at once.

Subjects that train at the same time share the machine's memory bandwidth and caches, so the
report states who overlapped whom; `schedule.json` keeps one record per worker start (a resumed
run adds its own), written atomically.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from common.core.io import UNREADABLE, atomic_write_json

SCHEDULE = "schedule.json"


def read_schedule(run_dir: Path) -> list[dict[str, Any]]:
    """Every worker start recorded so far (a missing or damaged file reads as none)."""
    try:
        records = json.loads((Path(run_dir) / SCHEDULE).read_text())
    except (*UNREADABLE, FileNotFoundError):
        return []
    return records if isinstance(records, list) else []


def record_start(run_dir: Path, subject: str, slots: int, threads: int) -> None:
    records = read_schedule(run_dir)
    records.append(
        {"subject": subject, "start": time.time(), "end": None, "slots": slots, "threads": threads}
    )
    atomic_write_json(Path(run_dir) / SCHEDULE, records)


def record_end(run_dir: Path, subject: str, returncode: int | None) -> None:
    """Close the subject's last open record."""
    records = read_schedule(run_dir)
    for record in reversed(records):
        if record["subject"] == subject and record["end"] is None:
            record.update(end=time.time(), returncode=returncode)
            break
    atomic_write_json(Path(run_dir) / SCHEDULE, records)


def schedule_line(run_dir: Path | None, cpus: int | None) -> str:
    """'Schedule: 2 workers at a time (2 CPUs, 1 thread each): torch 0–212 s, keras-tf 0–260 s,
    keras-jax 212–450 s.' (empty for a run without a schedule: Ray, or made before it existed)."""
    records = [r for r in read_schedule(run_dir) if r.get("end") is not None] if run_dir else []
    if not records:
        return ""
    first = min(r["start"] for r in records)
    slots, threads = records[-1]["slots"], records[-1]["threads"]
    spans = ", ".join(
        f"{r['subject']} {r['start'] - first:.0f}–{r['end'] - first:.0f} s" for r in records
    )
    together = concurrent_groups(records)
    overlap = (
        "; trained at the same time: " + "; ".join(" + ".join(g) for g in together)
        if together
        else "; no two subjects trained at the same time"
    )
    return (
        f"Schedule: at most {slots} worker{'s' * (slots > 1)} at a time ({cpus} CPUs, "
        f"{threads} thread{'s' * (threads > 1)} each; never more threads than CPUs), seconds from "
        f"the first start: {spans}{overlap}."
    )


def concurrent_groups(records: list[dict[str, Any]]) -> list[list[str]]:
    """Maximal sets of subjects whose workers ran at the same moment (only sets of two or more)."""
    moments = sorted({r["start"] for r in records})
    groups: list[list[str]] = []
    for moment in moments:
        alive = sorted(
            {r["subject"] for r in records if r["start"] <= moment < r["end"]},
            key=[r["subject"] for r in records].index,
        )
        if len(alive) > 1 and not any(set(alive) <= set(g) for g in groups):
            groups = [g for g in groups if not set(g) <= set(alive)] + [alive]
    return groups


def co_runners(records: list[dict[str, Any]], subject: str) -> list[str]:
    """The other subjects whose workers ran at some moment while `subject`'s did (the noise-floor
    copy included: it shares the machine too), in the order of the records."""
    mine = [r for r in records if r["subject"] == subject and r.get("end") is not None]
    found: list[str] = []
    for other in records:
        if other["subject"] in (subject, *found) or other.get("end") is None:
            continue
        if any(other["start"] < r["end"] and r["start"] < other["end"] for r in mine):
            found.append(other["subject"])
    return found


def sharing_of(run_dir: Path, subject: str, reference: str) -> dict[str, Any] | None:
    """Who shared the machine with each side of a pair, and whether both had the same company
    (the pair itself aside); None where the run kept no schedule (Ray, or older runs)."""
    records = [r for r in read_schedule(run_dir) if r.get("end") is not None]
    if not records:
        return None
    company = {s: co_runners(records, s) for s in (subject, reference)}
    others = {s: sorted(set(c) - {subject, reference}) for s, c in company.items()}
    return {"co_runners": company, "same": others[subject] == others[reference]}
