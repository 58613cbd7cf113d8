"""Both twins against the one declared twin interface (common/models/twin.py)."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from common.models.spec import ResUNetSpec
from common.models.twin import TWIN_API, TWINS, TwinTrainer, load_twin

pytestmark = [pytest.mark.keras, pytest.mark.torch]

PROTOCOL_METHODS = sorted(
    name
    for name, value in vars(TwinTrainer).items()
    if callable(value) and not name.startswith("_")
)


def parameters(obj) -> list[str]:
    """Parameter names of a function, or of a class's constructor."""
    target = obj.__init__ if inspect.isclass(obj) else obj
    return [p for p in inspect.signature(target).parameters if p != "self"]


@pytest.mark.parametrize("twin", TWINS)
def test_every_declared_name_is_defined(twin):
    missing = [
        f"{twin}_impl.{part}.{name}"
        for part, names in TWIN_API.items()
        for name in names
        if not hasattr(load_twin(twin).module(part), name)
    ]
    assert not missing, f"the twin interface is not implemented: {missing}"


@pytest.mark.parametrize(("part", "name"), [(p, n) for p, ns in TWIN_API.items() for n in ns])
def test_both_twins_agree_on_each_signature(part, name):
    """Same parameter names in the same order; one twin may add trailing keyword options of its
    own framework (torch's step Trainer takes `precision`, Keras sets it by dtype policy).
    A constant (an exporter's name) is of the same type in both."""
    keras_obj, torch_obj = (getattr(load_twin(t).module(part), name) for t in TWINS)
    if not callable(keras_obj) or not callable(torch_obj):
        assert type(keras_obj) is type(torch_obj), f"{part}.{name}"
        return
    keras_params, torch_params = parameters(keras_obj), parameters(torch_obj)
    shared = min(len(keras_params), len(torch_params))
    assert shared and keras_params[:shared] == torch_params[:shared], f"{part}.{name}"


@pytest.mark.parametrize("twin", TWINS)
def test_each_trainer_has_every_protocol_method_with_its_parameters(twin):
    trainer = load_twin(twin).trainer_class
    for method in PROTOCOL_METHODS:
        assert hasattr(trainer, method), f"{twin}_impl.train.TwinTrainer.{method}"
        declared = parameters(getattr(TwinTrainer, method))
        assert parameters(getattr(trainer, method)) == declared, f"{twin}: {method}"


def test_a_missing_name_is_caught(monkeypatch):
    """The check can fail: a twin without one declared function is reported."""
    module = load_twin("torch").module("weights")
    monkeypatch.delattr(module, "parameter_counts")
    with pytest.raises(AssertionError, match="parameter_counts"):
        test_every_declared_name_is_defined("torch")


def test_an_unknown_twin_or_module_is_refused():
    with pytest.raises(ValueError, match="unknown twin"):
        load_twin("mxnet")
    with pytest.raises(KeyError, match="not a module of the twin interface"):
        load_twin("torch").module("layers")


def test_the_interface_builds_both_twins_to_the_same_counts():
    """Through the interface only: build, port weights, count; both twins agree."""
    spec = ResUNetSpec(start_neurons=4)
    keras_twin, torch_twin = load_twin("keras"), load_twin("torch")
    kmodel, tmodel = keras_twin.build_model(spec), torch_twin.build_model(spec)
    torch_twin.import_weights(tmodel, keras_twin.export_weights(kmodel))
    assert keras_twin.parameter_counts(kmodel) == torch_twin.parameter_counts(tmodel)
    ported = torch_twin.export_weights(tmodel)
    original = keras_twin.export_weights(kmodel)
    assert all(np.array_equal(ported[k], original[k]) for k in original)
