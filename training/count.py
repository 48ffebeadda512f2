"""``python -m training count``: parameters, multiply-accumulates and weight size of a network.

MACs are counted the way thop (pytorch-OpCounter) counts them, which is how the
MG-VTON and DM-VTON papers report "GFLOPs" (thop 0.1.x): forward hooks on
modules, ``output elements x (input channels / groups) x kernel area`` for every
Conv2d/ConvTranspose2d call (a module called five times counts five times, bias
not counted), ``in_features x output elements`` for Linear, ``4 x elements`` for
an affine BatchNorm (thop's ``calculate_norm`` doubled for the affine part) and
``(pooled window + 1) x output elements`` for adaptive average pooling; activations,
functional interpolation, grid_sample and the correlation count nothing. With
these rules the official DM-VTON student measures 139.65 G at 512x384, as quoted
by the MG-VTON paper. Parameters are unique tensors
(a shared module counts once). Weight size is the fp32 size of parameters plus
floating-point buffers (BatchNorm running statistics), in MiB.
"""
from __future__ import annotations

import argparse
import json
from typing import Dict

import torch
import torch.nn as nn


def count_macs(model: nn.Module, *inputs: torch.Tensor) -> int:
    """thop-style MACs of one forward of ``model(*inputs)``."""
    total = [0]

    def conv_hook(m: nn.Module, inp, out) -> None:
        cin = inp[0].shape[1]
        total[0] += out.numel() * (cin // m.groups) * int(torch.tensor(m.kernel_size).prod())

    def linear_hook(m: nn.Linear, inp, out) -> None:
        total[0] += out.numel() * m.in_features

    def bn_hook(m: nn.BatchNorm2d, inp, out) -> None:
        total[0] += inp[0].numel() * (4 if m.affine else 2)

    def pool_hook(m: nn.AdaptiveAvgPool2d, inp, out) -> None:
        window = (inp[0].shape[-1] * inp[0].shape[-2]) // (out.shape[-1] * out.shape[-2])
        total[0] += (window + 1) * out.numel()

    handles = []
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            handles.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            handles.append(m.register_forward_hook(linear_hook))
        elif isinstance(m, nn.BatchNorm2d):
            handles.append(m.register_forward_hook(bn_hook))
        elif isinstance(m, nn.AdaptiveAvgPool2d):
            handles.append(m.register_forward_hook(pool_hook))
    try:
        with torch.no_grad():
            model(*inputs)
    finally:
        for h in handles:
            h.remove()
    return total[0]


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def weights_mib(model: nn.Module) -> float:
    n = count_params(model)
    seen = set()
    for b in model.buffers():
        if b.is_floating_point() and id(b) not in seen:
            seen.add(id(b))
            n += b.numel()
    return n * 4 / 2 ** 20


def measure(arch: str, height: int, width: int) -> Dict[str, object]:
    from .models import build_for_count

    model, inputs = build_for_count(arch, height, width)
    model.eval()
    return {
        "arch": arch,
        "height": height,
        "width": width,
        "params": count_params(model),
        "macs": count_macs(model, *inputs),
        "weights_mib": round(weights_mib(model), 3),
    }


def main(argv=None) -> int:
    from .models import COUNT_ARCHES

    ap = argparse.ArgumentParser(prog="python -m training count", description=__doc__.splitlines()[0])
    ap.add_argument("--arch", required=True, choices=COUNT_ARCHES)
    ap.add_argument("--height", type=int, default=512)
    ap.add_argument("--width", type=int, default=384)
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    r = measure(args.arch, args.height, args.width)
    if args.json:
        print(json.dumps(r))
    else:
        print(f"{r['arch']} at {args.height}x{args.width}: {r['params'] / 1e6:.3f} M params, "
              f"{r['macs'] / 1e9:.2f} G MACs, {r['weights_mib']:.2f} MiB fp32 weights")
    return 0
