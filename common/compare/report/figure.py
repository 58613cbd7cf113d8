"""What every plot of a run shares: a colour per subject, headless matplotlib, atomic PNG saves."""

from __future__ import annotations

import io
from pathlib import Path

from common.core.io import atomic_write_bytes

COLORS = {  # every subject its own colour; the two default ones keep theirs
    "keras": "tab:red",
    "torch": "tab:blue",
    "torch-compile": "tab:cyan",
    "keras-tf": "tab:orange",
    "keras-tf-xla": "tab:brown",
    "keras-jax": "tab:green",
    "keras-torch": "tab:purple",
}


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_png(fig, path: Path) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    pyplot().close(fig)
    atomic_write_bytes(path, buffer.getvalue())
    return path.name
