"""`python -m common.runs.probe --framework F --device cuda`: can this subject use the device?

Run by `compare`, `predict` and `bench` before anything is written when `--device cuda` is asked
for, in the environment a worker would get: exits 0, or 2 with the twin's one-line reason.
"""

from __future__ import annotations

import argparse
import sys

from common.core.errors import SaltbenchError
from common.models.twin import load_twin
from common.subjects.selection import TWINS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--framework", required=True, choices=TWINS, help="the twin to probe")
    parser.add_argument("--device", required=True)
    args = parser.parse_args(argv)
    try:
        load_twin(args.framework).configure_device(args.device, tf32=False, cudnn_benchmark=False)
    except SaltbenchError as err:
        print(f"saltbench: error: {err}", file=sys.stderr)
        return err.exit_code
    return 0


def check_device(subjects: list[tuple[str, dict[str, str]]], device: str) -> None:
    """Raise the first subject's one-line reason when `device` is `cuda` and it sees none.

    `subjects`: (framework, the environment its worker gets), e.g. KERAS_BACKEND set.
    """
    import subprocess

    if device != "cuda":
        return
    for framework, env in subjects:
        done = subprocess.run(
            [sys.executable, "-m", "common.runs.probe", "--framework", framework,
             "--device", device],
            env=env, capture_output=True, text=True,
        )  # fmt: skip
        if done.returncode:
            lines = [ln for ln in done.stderr.splitlines() if ln.startswith("saltbench: error: ")]
            reason = lines[-1].removeprefix("saltbench: error: ") if lines else done.stderr[-300:]
            raise SaltbenchError(reason)


if __name__ == "__main__":
    sys.exit(main())
