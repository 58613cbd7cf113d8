"""`compare --executor ray`: a run's Ray settings (address, CPUs and GPUs per task, retries),
checked and recorded in its config before anything runs, and the import of Ray itself."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from common.core.errors import SaltbenchError

RAY_EXTRA = "--executor ray needs Ray: pip install 'saltbench[ray]'"
DEFAULT_SETTINGS = {"address": None, "cpus_per_task": 1, "gpus_per_task": 0, "max_retries": 2}


def settings_of(config: dict[str, Any]) -> dict[str, Any]:
    return {**DEFAULT_SETTINGS, **(config.get("ray") or {})}


def check_settings(settings: dict[str, Any]) -> None:
    """Refuse resource requests Ray cannot schedule, in one line."""
    cpus, gpus = settings["cpus_per_task"], settings["gpus_per_task"]
    if not isinstance(cpus, int) or cpus < 1:
        raise SaltbenchError(f"--cpus-per-task must be an integer >= 1, got {cpus!r}")
    if not isinstance(gpus, int | float) or gpus < 0:
        raise SaltbenchError(f"--gpus-per-task must be a number >= 0, got {gpus!r}")


def configure_new_run(
    config: dict[str, Any],
    address: str | None,
    cpus_per_task: int | None,
    gpus_per_task: float | None,
    threads: int | None,
) -> None:
    """Record a new Ray run's settings in its config; worker threads = the task's CPU request."""
    if config["recipe"].get("eval", {}).get("noise_floor"):
        raise SaltbenchError("--noise-floor runs with the local executor (not yet on Ray)")
    import_ray(joining=bool(address))  # without the extra: one line, before anything is written
    if threads and cpus_per_task and threads != cpus_per_task:
        raise SaltbenchError(
            f"--threads {threads} and --cpus-per-task {cpus_per_task} disagree: with --executor "
            "ray each worker uses as many threads as its task requests CPUs"
        )
    settings = {
        **DEFAULT_SETTINGS,
        "address": address,
        "cpus_per_task": cpus_per_task or threads or 1,
        "gpus_per_task": gpus_per_task or 0,
    }
    check_settings(settings)
    config["ray"] = settings
    config["threads"] = settings["cpus_per_task"]


def configure_resume(config: dict[str, Any], executor: str | None, address: str | None) -> None:
    """A resumed run may go on elsewhere (--executor, --address); what each unit computes stays."""
    if executor:
        config["recipe"]["run"]["executor"] = executor
    if config["recipe"]["run"].get("executor", "local") == "ray":
        settings = {**settings_of(config), "cpus_per_task": int(config["threads"])}
        if address:
            settings["address"] = address
        import_ray(joining=bool(settings["address"]))
        config["ray"] = settings


def send_auth_token() -> None:
    """Joining a cluster: authenticate with Ray's token when one is at hand and no mode is set.

    `ray start --head` turns token authentication on by default; a driver that joins it must
    then send the token (RAY_AUTH_TOKEN, or the head's ~/.ray/auth_token copied to this node).
    """
    has_token = os.environ.get("RAY_AUTH_TOKEN") or (Path.home() / ".ray" / "auth_token").is_file()
    if has_token and "RAY_AUTH_MODE" not in os.environ:
        os.environ["RAY_AUTH_MODE"] = "token"


def import_ray(joining: bool = False):
    """The ray module, or one line naming the optional extra; `joining` a cluster or starting one."""
    if "ray" not in sys.modules:  # Ray reads these when it is imported
        if joining:
            send_auth_token()
        else:  # a local instance then binds to loopback only
            os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
            # Ray starts its workers at nice 15; ours must compete for the CPU as local ones do
            os.environ.setdefault("RAY_worker_niceness", "0")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # nothing leaves the machine
    try:
        import ray
    except ImportError as err:
        raise SaltbenchError(RAY_EXTRA) from err
    return ray
