"""PyTorch op names (torch.profiler's top-level events) to operation classes: the PyTorch twin and
Keras on the torch backend.

Forward ops are the aten calls the model makes; backward ops are the autograd nodes the engine
evaluates (`autograd::engine::evaluate_function: ConvolutionBackward0`, matched without that
prefix). ConvolutionBackward0 serves both kinds of convolution: it is transposed when its autograd
sequence number is that of an aten::conv_transpose2d (profilers.transposed_sequence_numbers).

Keras on torch computes batch norm from elementwise ops (no fused kernel): in the forward pass its
ops sit inside the layer's scope (profilers.keras_layer_scopes) and go to batch norm; their
gradients (PowBackward0, RsqrtBackward0, MulBackward0…) carry no scope and count as elementwise.
"""

from __future__ import annotations

AUTOGRAD_PREFIX = "autograd::engine::evaluate_function: "

TORCH_OPS: dict[str, str] = {
    # convolutions (transposed ones are told apart by their argument, see classify)
    "aten::conv2d": "conv_fwd",
    "aten::convolution": "conv_fwd",
    "aten::_convolution": "conv_fwd",
    "aten::mkldnn_convolution": "conv_fwd",
    "aten::conv_transpose2d": "tconv_fwd",
    "ConvolutionBackward0": "conv_bwd",
    # batch norm
    "aten::batch_norm": "batchnorm",
    "aten::_batch_norm_impl_index": "batchnorm",
    "aten::native_batch_norm": "batchnorm",
    "NativeBatchNormBackward0": "batchnorm",
    "CudnnBatchNormBackward0": "batchnorm",
    # activations (and their gradients)
    "aten::relu": "activation",
    "aten::relu_": "activation",
    "aten::clamp_min": "activation",
    "aten::sigmoid": "activation",
    "aten::tanh": "activation",
    "aten::softplus": "activation",
    "aten::silu": "activation",
    "aten::mish": "activation",
    "ReluBackward0": "activation",
    "SigmoidBackward0": "activation",
    "TanhBackward0": "activation",
    "SoftplusBackward0": "activation",
    "SiluBackward0": "activation",
    "MishBackward0": "activation",
    # pooling (max pooling; the squeeze-excite mean over H, W)
    "aten::max_pool2d": "pooling",
    "aten::max_pool2d_with_indices": "pooling",
    "aten::adaptive_avg_pool2d": "pooling",
    "aten::mean": "pooling",
    "MaxPool2DWithIndicesBackward0": "pooling",
    "MeanBackward1": "pooling",
    "MeanBackward0": "pooling",
    # concat, add and other elementwise
    "aten::cat": "elementwise",
    "aten::add": "elementwise",
    "aten::add_": "elementwise",
    "aten::mul": "elementwise",
    "aten::mul_": "elementwise",
    "aten::sub": "elementwise",
    "aten::div": "elementwise",
    "aten::where": "elementwise",
    "aten::subtract": "elementwise",
    "aten::square": "elementwise",
    "aten::pow": "elementwise",
    "aten::rsqrt": "elementwise",
    "aten::sqrt": "elementwise",
    "aten::sum": "elementwise",
    "aten::var_mean": "elementwise",
    "PowBackward0": "elementwise",
    "RsqrtBackward0": "elementwise",
    "SqrtBackward0": "elementwise",
    "SumBackward1": "elementwise",
    "CatBackward0": "elementwise",
    "AddBackward0": "elementwise",
    "MulBackward0": "elementwise",
    "SubBackward0": "elementwise",
    "DivBackward0": "elementwise",
    # dropout
    "aten::dropout": "dropout",
    "aten::feature_dropout": "dropout",
    "aten::bernoulli_": "dropout",
    "aten::native_dropout": "dropout",
    "NativeDropoutBackward0": "dropout",
    # loss
    "aten::binary_cross_entropy_with_logits": "loss",
    "BinaryCrossEntropyWithLogitsBackward0": "loss",
    "aten::ones_like": "loss",  # the seed gradient of backward()
    # optimizer update
    "Optimizer.step#Adam.step": "optimizer",
    "Optimizer.zero_grad#Adam.zero_grad": "optimizer",
    "torch::autograd::AccumulateGrad": "optimizer",
    # layout and copies
    "aten::permute": "layout",
    "aten::contiguous": "layout",
    "aten::to": "layout",
    "aten::_to_copy": "layout",
    "aten::copy_": "layout",
    "aten::clone": "layout",
    "aten::slice": "layout",
    "aten::reshape": "layout",
    "aten::view": "layout",
    "aten::lift_fresh": "layout",
    "aten::detach": "layout",
    "aten::item": "layout",
    "aten::_local_scalar_dense": "layout",
    "aten::pad": "layout",
    "aten::constant_pad_nd": "layout",
    "aten::squeeze": "layout",
    "aten::unsqueeze": "layout",
    "aten::expand": "layout",
    "aten::transpose": "layout",
    "SliceBackward0": "layout",
    "ViewBackward0": "layout",
    "SqueezeBackward2": "layout",
    "UnsqueezeBackward0": "layout",
    "ExpandBackward0": "layout",
    "TransposeBackward0": "layout",
    "PermuteBackward0": "layout",
    "ToCopyBackward0": "layout",
    "ConstantPadNdBackward0": "layout",
}


def classify(name: str, transposed: bool = False) -> str:
    """The class of one top-level profiler event; `transposed`: the op is (the backward of) a
    transposed convolution."""
    op = name.removeprefix(AUTOGRAD_PREFIX)
    found = TORCH_OPS.get(op)
    if found is None and op.startswith(("Optimizer.", "aten::_foreach_")):
        return "optimizer"  # Keras's optimizer on torch updates with foreach ops
    if found in ("conv_fwd", "conv_bwd") and transposed:
        return "tconv_fwd" if found == "conv_fwd" else "tconv_bwd"
    return found or "other"
