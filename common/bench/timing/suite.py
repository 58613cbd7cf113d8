"""ResUNet throughput per variant: training step, inference, harness epoch (README: Throughput benchmarks).

Packaged so `saltbench bench` works from an installed wheel: the runner gives pytest this file's path
and `-p common.bench.timing.plugin` (one process per backend). benchmarks/test_model_bench.py re-exports it,
so `KERAS_BACKEND=tensorflow pytest benchmarks/test_model_bench.py --saltbench-variants torch-eager,keras-tf`
runs the same suite from a source checkout.
One pytest-benchmark group per (model, operation, batch) puts the variants side by side.
"""

from __future__ import annotations

import time
from functools import partial

import numpy as np
import pytest

from common.bench.timing.roofline import ceiling_for, percent_of_peak
from common.bench.timing.rounds import timed_rounds
from common.bench.timing.settings import cpu_name, library_versions
from common.core.memory import MemoryWindow
from common.subjects.table import (
    HARNESS_VARIANTS,
    TRAIN_FLOPS_FACTOR,
    flops_per_step_image,
    get_variant,
    group_name,
    parse_variants,
)

FLOPS_CONVENTION = (
    f"forward FLOPs from the model spec's flops_per_image() (multiply-add = 2, convolutions only); "
    f"training step = {TRAIN_FLOPS_FACTOR}x forward"
)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "variant_name" not in metafunc.fixturenames:
        return
    names = [v.name for v in parse_variants(metafunc.config.getoption("saltbench_variants"))]
    if metafunc.function.__name__ == "test_epoch_overhead":
        names = [n for n in names if n in HARNESS_VARIANTS]
    metafunc.parametrize("variant_name", names)


def throughput_info(
    times: dict, batch: int, flops_per_image: float, peak: dict, precision: str = "fp32"
) -> dict:
    """images/s (median, IQR, min-max), GFLOP/s and % of the ceiling of the row's precision
    (common/bench/timing/roofline.py); the rounds' own times and turns, and the memory they used."""
    ips = batch / times["median"]
    gflops = ips * flops_per_image / 1e9
    ceiling, ceiling_source = ceiling_for(peak, precision)
    memory = times.get("memory")
    return {
        **(memory.to_info() if memory is not None else {}),
        "round_seconds": times.get("round_seconds", []),
        "round_turns": times.get("round_turns", []),
        "images_per_s": ips,
        "images_per_s_q1": batch / times["q3"],
        "images_per_s_q3": batch / times["q1"],
        "images_per_s_min": batch / times["max"],
        "images_per_s_max": batch / times["min"],
        "gflops_per_s": gflops,
        "pct_of_peak": percent_of_peak(gflops, ceiling),
        "ceiling_gflops": ceiling,
        "ceiling_source": ceiling_source,
        "pct_of_conv_ref": percent_of_peak(gflops, peak["conv_gflops"]),
        "peak_matmul_gflops": peak["matmul_gflops"],
        "conv_ref_gflops": peak["conv_gflops"],
        "timed": times["timed"],
    }


def common_info(variant, operation: str, batch: int, settings, runner) -> dict:
    return {
        "variant": variant.name,
        "framework": variant.framework,
        "backend": variant.backend,
        "precision": variant.precision,
        "compiled": variant.jit_compile,
        "runtime": variant.runtime,
        "operation": operation,
        "batch": batch,
        "model": settings.model,
        "width": settings.width,
        "threads": settings.threads,
        "device": runner.device,
        "cpu": cpu_name(),
        "versions": library_versions(),
        "quick": settings.quick,
        "rounds": settings.rounds,
        "warmup_rounds": settings.warmup,
        "flops_convention": FLOPS_CONVENTION,
    }


def prepare(variant_name, operation, saltbench_models, saltbench_settings, saltbench_report):
    """The variant and its runner, or a recorded pytest.skip with the reason."""
    from common.bench.timing.steps import skip_reason

    variant = get_variant(variant_name)
    reason = skip_reason(variant, operation, saltbench_settings)
    if reason:
        pytest.skip(saltbench_report.skip(variant.name, operation, reason))
    return variant, saltbench_models.get(variant)


def bench_step(
    benchmark,
    variant_name,
    operation,
    saltbench_models,
    saltbench_settings,
    saltbench_report,
    saltbench_rooflines,
    saltbench_turns,
):
    from common.bench.timing.steps import make_batch

    settings = saltbench_settings
    variant, runner = prepare(variant_name, operation, saltbench_models, settings, saltbench_report)
    batch = settings.batch(operation)
    x, y = make_batch(batch)
    fn = (lambda: runner.train(x, y)) if operation == "train" else (lambda: runner.infer(x))
    first_call_s = saltbench_models.first_call(variant, operation, fn)  # tracing/compiling, untimed
    benchmark.group = group_name(settings.model, settings.width, operation, batch)
    window = MemoryWindow(runner.memory_counter)
    times = timed_rounds(
        benchmark, fn, settings.rounds, settings.warmup, saltbench_turns, operation, window
    )
    saltbench_models.medians[(variant.name, operation)] = times["median"]
    forward = saltbench_models.spec.flops_per_image()
    info = common_info(variant, operation, batch, settings, runner)
    info.update(
        throughput_info(
            times,
            batch,
            flops_per_step_image(forward, operation),
            saltbench_rooflines.get(runner.device),
            variant.precision,
        )
    )
    info.update(
        flops_per_image_forward=forward,
        flops_per_image=flops_per_step_image(forward, operation),
        first_call_s=first_call_s,
        first_call_working_set_mib=saltbench_models.first_call_memory[
            (variant.name, operation)
        ].working_set_mib,
        compile_s=max(0.0, first_call_s - times["median"]) if variant.jit_compile else None,
    )
    benchmark.extra_info.update(info)
    saltbench_report.record(variant.name, benchmark.group, info)
    if settings.breakdown:  # after the timed rounds, in the same process (they are not disturbed)
        from common.bench.breakdown.measure import measure_breakdown

        saltbench_report.breakdowns.append(
            measure_breakdown(
                variant,
                operation,
                fn,
                settings.breakdown,
                saltbench_models.spec,
                times["median"],
                runner.trainer,
            )
        )


@pytest.fixture
def saltbench_step(
    benchmark,
    variant_name,
    saltbench_models,
    saltbench_settings,
    saltbench_report,
    saltbench_rooflines,
    saltbench_turns,
):
    """`saltbench_step(operation)` times "train" or "infer" of this test's variant (bench_step)."""
    return partial(
        bench_step,
        benchmark,
        variant_name,
        saltbench_models=saltbench_models,
        saltbench_settings=saltbench_settings,
        saltbench_report=saltbench_report,
        saltbench_rooflines=saltbench_rooflines,
        saltbench_turns=saltbench_turns,
    )


def test_train_step(saltbench_step):
    """One optimiser step on a batch (forward, BCE loss, backward, Adam update), loss back on host."""
    saltbench_step("train")


def test_inference(saltbench_step):
    """Inference-mode logits for a batch, copied back to host as NumPy."""
    saltbench_step("infer")


def test_epoch_overhead(
    benchmark,
    variant_name,
    saltbench_models,
    saltbench_settings,
    saltbench_report,
    saltbench_turns,
):
    """A harness epoch (stream + flips + train steps + metric) against the same number of bare steps."""
    from common.bench.timing.steps import make_batch

    settings = saltbench_settings
    variant, runner = prepare(variant_name, "epoch", saltbench_models, settings, saltbench_report)
    batch, n_batches = settings.train_batch, settings.epoch_batches
    x, y = make_batch(batch)
    saltbench_models.first_call(variant, "train", lambda: runner.train(x, y))
    step_s = saltbench_models.medians.get((variant.name, "train"))
    if step_s is None:  # the train benchmark did not run in this session: time bare steps here
        step_s = float(
            np.median([_time(lambda: runner.train(x, y)) for _ in range(max(2, settings.rounds))])
        )
    # the first, untimed epoch (Keras `fit` traces its own train function) ran at most once, before
    epoch, first_epoch_s = saltbench_models.harness_epoch(variant)
    epoch.reset()
    harness_only_s = epoch.harness_only_seconds()
    benchmark.group = group_name(settings.model, settings.width, "epoch", batch)
    window = MemoryWindow(runner.memory_counter)
    times = timed_rounds(
        benchmark, epoch.run, max(1, settings.rounds // 2), 0, saltbench_turns, "epoch", window
    )
    # a run's train images/s clock: epochs after the first of each fit_epochs call
    loop_epoch_s = float(np.median(epoch.loop_seconds()))
    bare_epoch_s = n_batches * step_s
    info = common_info(variant, "epoch", batch, settings, runner)
    info.update(
        batches_per_epoch=n_batches,
        epochs_per_call=epoch.epochs_per_call,
        timed_epochs=len(epoch.loop_seconds()),
        call_s=times["median"],
        images_per_s=n_batches * batch / loop_epoch_s,
        bare_images_per_s=batch / step_s,
        overhead_pct=100.0 * (loop_epoch_s / bare_epoch_s - 1.0),
        harness_work_pct=100.0 * harness_only_s / bare_epoch_s,
        harness_only_s=harness_only_s,
        first_call_s=first_epoch_s,
        harness_loop=epoch.description,
        timed=times["timed"],
        round_seconds=times["round_seconds"],
        round_turns=times["round_turns"],
        **times["memory"].to_info(),
    )
    benchmark.extra_info.update(info)
    saltbench_report.record(variant.name, benchmark.group, info)


def _time(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start
