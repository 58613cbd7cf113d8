"""The variant registry behind `saltbench bench`: names, processes, quick skips, FLOPs convention."""

import pytest

from common.core.errors import SaltbenchError
from common.subjects.table import (
    HARNESS_VARIANTS,
    REFERENCE_VARIANT,
    VARIANT_NAMES,
    flops_per_step_image,
    get_variant,
    group_by_process,
    group_name,
    parse_variants,
)


def test_every_required_variant_is_registered():
    required = {
        "torch-eager",
        "torch-channels-last",
        "torch-compile",
        "keras-tf",
        "keras-tf-xla",
        "keras-torch",
        "keras-jax",
    }
    assert required <= set(VARIANT_NAMES)
    assert REFERENCE_VARIANT in VARIANT_NAMES and set(HARNESS_VARIANTS) <= set(VARIANT_NAMES)
    assert {get_variant(n).precision for n in VARIANT_NAMES} >= {"fp32", "bf16", "fp16"}


def test_each_keras_backend_gets_its_own_process():
    groups = group_by_process(parse_variants("all"))
    assert set(groups) == {"torch", "keras-tensorflow", "keras-torch", "keras-jax"}
    assert all(v.framework == "torch" for v in groups["torch"])
    assert {v.backend for v in groups["keras-jax"]} == {"jax"}


def test_parse_variants_keeps_registry_order_and_rejects_unknown_names():
    assert [v.name for v in parse_variants("keras-tf, torch-eager")] == ["torch-eager", "keras-tf"]
    with pytest.raises(SaltbenchError, match="unknown benchmark variant 'tf-eager'"):
        parse_variants("torch-eager,tf-eager")
    with pytest.raises(SaltbenchError, match="empty"):
        parse_variants(" , ")


def test_compiled_modes_are_extra_rows_left_out_of_quick_with_a_reason():
    assert get_variant("torch-compile").quick_skip_reason("train")
    assert get_variant("keras-tf-xla").quick_skip_reason("train")
    assert get_variant("torch-eager").quick_skip_reason("train") is None
    assert not get_variant("torch-eager").jit_compile and not get_variant("keras-tf").jit_compile


def test_training_step_counts_three_forwards_and_groups_name_operation_and_batch():
    assert flops_per_step_image(2.0, "train") == 6.0
    assert flops_per_step_image(2.0, "infer") == 2.0
    assert group_name("resunet", 16, "train", 32) == "resunet16-train-b32"


def test_onnx_rows_are_inference_only_and_run_in_their_twins_processes():
    groups = group_by_process(parse_variants("onnx-from-torch,onnx-from-keras"))
    assert {name: [v.name for v in vs] for name, vs in groups.items()} == {
        "torch": ["onnx-from-torch"],
        "keras-tensorflow": ["onnx-from-keras"],
    }
    for name in ("onnx-from-torch", "onnx-from-keras"):
        variant = get_variant(name)
        assert variant.operations == ("infer",) and variant.not_applicable_reason("infer") is None
        assert "not applicable" in variant.not_applicable_reason("train")
        assert "not applicable" in variant.not_applicable_reason("epoch")
    assert get_variant("torch-eager").not_applicable_reason("train") is None
