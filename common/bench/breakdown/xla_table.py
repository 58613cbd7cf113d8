"""XLA instructions (Keras on JAX: the trace names HLO instructions, `convolution.93`, `fusion.4`) to
operation classes, through the metadata of the compiled module (XLA's own HLO text dump).

Each instruction's `op_name` metadata is the JAX path that made it, with the Keras layer scopes:
`jit(train_step)/transpose(jvp(dec1_res2))/conv2/conv_general_dilated`. Wrappers are unwrapped
(`transpose(jvp(dec1_res2))` is scope `dec1_res2`); `transpose(` anywhere marks the backward pass.
The scope then goes through the same rule as TensorFlow's (tf_table: the spec's layer, else the
scope, else the primitive). Two rules for what the metadata leaves open:
- A fusion goes to its dominant op: the convolution inside it if any, else its root's metadata.
- A fusion with no metadata inside goes by what it fuses (FUSION_ORDER), else `fused`.
- A convolution without metadata (XLA's weight-gradient rewrite drops it) is a backward
  convolution; transposed when its output matches only a transposed-convolution kernel shape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from common.bench.breakdown.tf_table import BACKWARD, layer_class, layer_kind, scope_class

XLA_PRIMITIVES: dict[str, str] = {
    "conv_general_dilated": "conv_fwd",
    "max": "activation",  # relu is max(x, 0) in JAX
    "logistic": "activation",
    "tanh": "activation",
    "reduce_window_max": "pooling",
    "select_and_scatter": "pooling",
    "select_and_scatter_add": "pooling",
    "split": "elementwise",
    "reduce_max": "pooling",
    "concatenate": "elementwise",
    "add": "elementwise",
    "add_any": "elementwise",
    "mul": "elementwise",
    "sub": "elementwise",
    "div": "elementwise",
    "select_n": "elementwise",
    "reduce_sum": "elementwise",
    "transpose": "layout",
    "convert_element_type": "layout",
    "reshape": "layout",
    "broadcast_in_dim": "layout",
    "slice": "layout",
    "pad": "layout",
    "copy": "layout",
}
LAYOUT_IN_LAYERS = {"transpose", "convert_element_type", "copy", "Transpose", "Cast"}
HLO_OPCODES: dict[str, str] = {  # instructions without metadata, by their opcode
    "copy": "layout",
    "transpose": "layout",
    "bitcast": "layout",
    "reshape": "layout",
    "broadcast": "layout",
    "slice": "layout",
    "concatenate": "elementwise",
    "iota": "other",  # index arrays (the dropout RNG's counters among them)
    "fusion": "fused",
}
FUSION_ORDER = ("concatenate", "transpose", "copy", "broadcast", "iota")
_INSTRUCTION = re.compile(r"^\s*(?:ROOT )?%?([\w.\-]+) = (\S+)(?:\{[^}]*\})? ([\w\-]+)\(")
_COMPUTATION = re.compile(r"^(ENTRY )?%?([\w.\-]+) \(.*\) -> .* \{$")
_WRAPPER = re.compile(r"^\w+\((.*)\)$")


@dataclass(frozen=True)
class Instruction:
    opcode: str
    shape: str
    op_name: str | None
    calls: str | None


def parse_hlo_text(text: str) -> tuple[dict[str, Instruction], dict[str, list[Instruction]]]:
    """(instruction by name: the entry computation's only, instructions by computation) of an HLO
    module's text dump. Only the entry's instructions are counted: a while loop's event already
    spans the events of its body's instructions."""
    instructions: dict[str, Instruction] = {}
    computations: dict[str, list[Instruction]] = {}
    current: list[Instruction] = []
    in_entry = False
    for line in text.splitlines():
        if (head := _COMPUTATION.match(line)) is not None:
            current = computations.setdefault(head.group(2), [])
            in_entry = head.group(1) is not None
            continue
        if (found := _INSTRUCTION.match(line)) is None:
            continue
        op_name = re.search(r'op_name="([^"]*)"', line)
        calls = re.search(r"calls=%?([\w.\-]+)", line)
        item = Instruction(found.group(3), found.group(2), op_name and op_name.group(1),
                           calls and calls.group(1))  # fmt: skip
        if in_entry:
            instructions[found.group(1)] = item
        current.append(item)
    return instructions, computations


def scope_of(op_name: str) -> tuple[str, bool]:
    """(`/`-joined scope with the JAX wrappers removed, whether it is the backward pass: JAX's
    `transpose(`, TensorFlow's `gradient_tape/`)."""
    parts = []
    for part in op_name.split("/"):
        if part.startswith("jit("):  # JAX's jit(<function>) segments
            continue
        while (inner := _WRAPPER.match(part)) is not None:
            part = inner.group(1)
        parts.append(part)
    backward = "transpose(" in op_name or op_name.startswith("gradient_tape/")
    return "/".join(parts), backward


def classify_op_name(op_name: str, layer_kinds: dict[str, str]) -> str:
    scope, backward = scope_of(op_name)
    kind = layer_kind(scope, layer_kinds)
    primitive = scope.rsplit("/", 1)[-1]
    in_layer = layer_class(kind, backward, primitive in LAYOUT_IN_LAYERS)
    if in_layer is not None:
        return in_layer
    by_scope = scope_class(scope)
    if by_scope is not None:
        return by_scope
    found = XLA_PRIMITIVES.get(primitive, "other")
    return BACKWARD.get(found, found) if backward and found == "conv_fwd" else found


class XlaClassifier:
    """Classes of one compiled module's instructions (its HLO text), for the trace's names."""

    def __init__(self, hlo_text: str, layer_kinds: dict[str, str], kernels: dict[str, set]):
        self.instructions, self.computations = parse_hlo_text(hlo_text)
        self.layer_kinds = layer_kinds
        self.kernels = kernels  # {"conv": {dims…}, "conv_transpose": {dims…}} sorted tuples

    def covered_ms(self, events: list[tuple[str, float]]) -> float:
        """Traced time of the events that name an entry instruction of this module."""
        return sum(ms for name, ms in events if name in self.instructions)

    def classify(self, name: str) -> str | None:
        """The class of the trace event `name`, or None when it names no instruction here."""
        item = self.instructions.get(name)
        if item is None:
            return None
        if item.opcode == "fusion" and item.calls in self.computations:
            inner = self.computations[item.calls]
            convs = [i for i in inner if i.opcode == "convolution"]
            dominant = convs[0] if convs else next((i for i in reversed(inner) if i.op_name), None)
            if dominant is not None:
                item = dominant if dominant.op_name or dominant.opcode == "convolution" else item
        if item.op_name:
            return classify_op_name(item.op_name, self.layer_kinds)
        if item.opcode == "convolution":
            return self.backward_conv(item.shape)
        if item.opcode == "fusion":  # no metadata inside either: by the ops it fuses
            inner = {i.opcode for i in self.computations.get(item.calls, [])}
            return next((HLO_OPCODES[op] for op in FUSION_ORDER if op in inner), "fused")
        return HLO_OPCODES.get(item.opcode, "other")

    def backward_conv(self, shape: str) -> str:
        inside = re.search(r"\[([\d,]*)\]", shape)
        dims = tuple(sorted(int(d) for d in inside.group(1).split(",") if d)) if inside else ()
        transposed = dims in self.kernels.get("conv_transpose", set())
        plain = dims in self.kernels.get("conv", set())
        return "tconv_bwd" if transposed and not plain else "conv_bwd"


def spec_kernels(spec) -> dict[str, set]:
    """Sorted kernel dims of the spec's layers by kind (to tell a weight gradient's layer)."""
    kinds = {layer.name: layer.kind for layer in spec.layers()}
    out: dict[str, set] = {}
    for key, shape in spec.weight_shapes().items():
        layer, _, param = key.rpartition("/")
        if param == "kernel" and layer in kinds:
            out.setdefault(kinds[layer], set()).add(tuple(sorted(shape)))
    return out
