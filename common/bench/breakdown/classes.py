"""The operation classes every framework's profile is sorted into, in the order tables show them.

One set for every framework, so a column of the breakdown means the same for Keras and PyTorch.
Rules that a table alone cannot say:
- A fused kernel goes to its dominant op: oneDNN's conv+bias(+add) is a convolution, TF's fused
  batch-norm pieces are batch norm. XLA fusions whose dominant op the trace does not name (JAX
  on CPU gives HLO instruction names only) go to `fused`, so nothing is guessed.
- A gradient op goes to the class of the forward op it differentiates (ReluGrad: activation).
- Dropout's mask multiply in the backward pass is an elementwise multiply in every framework's
  trace; it is counted as elementwise.
"""

from __future__ import annotations

OP_CLASSES: dict[str, str] = {
    "conv_fwd": "convolution forward",
    "conv_bwd": "convolution backward (data and weights)",
    "tconv_fwd": "transposed convolution forward",
    "tconv_bwd": "transposed convolution backward",
    "batchnorm": "batch norm",
    "activation": "activation",
    "pooling": "pooling",
    "elementwise": "concat, add and other elementwise",
    "dropout": "dropout",
    "loss": "loss",
    "optimizer": "optimizer update",
    "layout": "layout and copies (reorders, transposes, casts)",
    "fused": "fused (XLA, dominant op not named)",
    "other": "other",
}
UNATTRIBUTED = "unattributed"
CLASS_IDS = (*OP_CLASSES, UNATTRIBUTED)
BACKWARD_OF = {"conv_fwd": "conv_bwd", "tconv_fwd": "tconv_bwd"}


def label(class_id: str) -> str:
    """The class's words for tables and charts."""
    if class_id == UNATTRIBUTED:
        return "unattributed (profiled step minus the classified ops)"
    return OP_CLASSES[class_id]
