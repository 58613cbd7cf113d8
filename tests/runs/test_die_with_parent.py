"""common.runs.die_with_parent: a worker stops within seconds when its parent dies, even by SIGKILL."""

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from tests.compare.conftest import REPO_ROOT, alive, gone_within

# The parent starts a worker-like child (which arms the lifeline), prints its pid, then sleeps.
PARENT = textwrap.dedent(
    """
    import os, subprocess, sys
    child = subprocess.Popen([sys.executable, "-c", sys.argv[1]],
                             env={**os.environ, "SALTBENCH_PARENT_PID": str(os.getpid())})
    print(child.pid, flush=True)
    child.wait()
    """
)
CHILD = textwrap.dedent(
    """
    import sys, time
    from common.runs import die_with_parent as lifeline
    if {watchdog_only}:
        lifeline._set_parent_death_signal = lambda: None
    lifeline.die_with_parent()
    print("armed", file=sys.stderr, flush=True)
    time.sleep(60)
    """
)


@pytest.mark.parametrize("watchdog_only", [False, True], ids=["pdeathsig", "watchdog"])
def test_child_dies_within_seconds_of_parent_sigkill(watchdog_only):
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, CHILD.format(watchdog_only=watchdog_only)],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    child = int(parent.stdout.readline())
    assert parent.stderr.readline().strip() == "armed"
    assert alive(child)
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    try:
        assert gone_within(child, 5.0)
    finally:
        if alive(child):
            os.kill(child, signal.SIGKILL)


def test_a_parent_that_died_before_the_child_armed_is_noticed():
    code = CHILD.format(watchdog_only=False)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "SALTBENCH_PARENT_PID": "999999"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, timeout=30
    )
    assert result.returncode == -signal.SIGTERM and b"armed" not in result.stderr
