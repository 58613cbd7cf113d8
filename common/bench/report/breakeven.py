"""When a compiled variant pays for its compile time: the training steps after which compiled
(compile time plus its steps) beats the same twin without compiling.

n steps of a variant cost `first + (n - 1) * step` = `compile + n * step`, with compile = first
call - steady step. The compiled variant is ahead once n > (compile_c - compile_b) / (step_b -
step_c); where its step is not faster, it never is.
"""

from __future__ import annotations

import math

# compiled variant -> the same twin, not compiled: what it has to beat
BASELINES = {"torch-compile": "torch-eager", "keras-tf-xla": "keras-tf", "keras-jax": "keras-tf"}
NEVER = "never"


def break_even(
    compiled_first_s: float, compiled_step_s: float, base_first_s: float, base_step_s: float
) -> dict:
    """compile_s of both, and the steps after which the compiled one is ahead ("never" if none)."""
    compile_c = max(0.0, compiled_first_s - compiled_step_s)
    compile_b = max(0.0, base_first_s - base_step_s)
    extra = compile_c - compile_b
    if compiled_step_s >= base_step_s:
        steps = 1 if extra < 0 and compiled_step_s == base_step_s else NEVER
    elif extra <= 0:
        steps = 1
    else:
        steps = math.floor(extra / (base_step_s - compiled_step_s)) + 1
    return {"compile_s": compile_c, "baseline_compile_s": compile_b, "break_even_steps": steps}


def break_even_rows(rows) -> dict[str, dict]:
    """Per compiled variant with a training row and its baseline's: the break-even (a dict)."""
    train = {r["variant"]: r for r in rows if r["operation"] == "train"}
    out = {}
    for name, baseline in BASELINES.items():
        if name in train and baseline in train:
            c, b = train[name], train[baseline]
            result = break_even(c["first_call_s"], c["median_s"], b["first_call_s"], b["median_s"])
            out[name] = {**result, "baseline": baseline}
    return out


def steps_text(steps) -> str:
    return steps if isinstance(steps, str) else f"{steps:,}"
