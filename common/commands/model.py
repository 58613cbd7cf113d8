"""`saltbench model summary`: a model spec, its parameter count and its FLOPs per image (analytic)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from common.models.spec import add_spec_arguments, spec_from_args


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("model", help="describe a model spec")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    summary = actions.add_parser(
        "summary", help="spec, parameter count and FLOPs per image (no framework needed)"
    )
    add_spec_arguments(summary)
    summary.add_argument("--json", action="store_true", help="print one JSON object instead")
    summary.add_argument(
        "--encoder-weights",
        type=Path,
        metavar="FILE",
        help="resnet34_unet: check that a local torchvision ResNet34 state dict fits the encoder",
    )
    summary.set_defaults(func=run)


def summarize(spec) -> dict:
    """The numbers `model summary` prints, as a dict."""
    flops = spec.flops_per_image()
    return {
        "spec": spec.to_dict(),
        "weight_layers": len(spec.layer_names()),
        "parameters": spec.parameter_count(),
        "trainable_parameters": spec.parameter_count(trainable_only=True),
        "forward_gflop_per_image": flops / 1e9,
        "train_step_gflop_per_image": 3 * flops / 1e9,
    }


def run(args: argparse.Namespace) -> int:
    spec = spec_from_args(args)
    info = summarize(spec)
    if getattr(args, "encoder_weights", None) is not None:
        from common.models.encoder_weights import with_encoder_weights

        loaded = with_encoder_weights({}, args.encoder_weights, spec)
        info["encoder_weights"] = {"file": str(args.encoder_weights), "tensors": len(loaded)}
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    print("spec:")
    for key, value in info["spec"].items():
        print(f"  {key:<14} {value}")
    print(f"weight-bearing layers   {info['weight_layers']}")
    print(f"parameters              {info['parameters']:,} (incl. BN running statistics)")
    print(f"trainable parameters    {info['trainable_parameters']:,}")
    print(f"forward FLOPs/image     {info['forward_gflop_per_image']:.3f} GFLOP (multiply-add = 2)")
    print(f"train step FLOPs/image  ~{info['train_step_gflop_per_image']:.2f} GFLOP (3x forward)")
    if "encoder_weights" in info:
        loaded = info["encoder_weights"]
        print(f"encoder weights         {loaded['tensors']} tensors from {loaded['file']} fit")
    return 0
