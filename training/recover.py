"""``python -m training recover``: a model folder's ONNX graphs -> a checkpoint that continues training.

The exporter folds every BatchNorm into the convolution before it, so a model folder holds no BN
statistics and most of its conv weights lose their names. This rebuilds the network from the manifest's
architecture record and fills it from the graphs:

* initializers that kept their state-dict name (``model.<key>``) are copied as they are;
* the other convolutions are matched in execution order: a forward pass with hooks lists the network's
  ``Conv2d`` calls (and which ones feed a ``BatchNorm2d``), the graph lists its ``Conv`` nodes in node
  order (the tracer's order); the cost volume's constant kernels have no module and are skipped;
* a folded pair becomes the fused weight in the conv and an identity BatchNorm that adds the fused bias
  (gamma 1, running mean 0, running variance 1 - eps).

So the rebuilt network reproduces the graphs in eval mode (checked: the largest difference between
PyTorch and ONNX Runtime on random inputs is printed and must stay below ``PARITY_FAIL``), and it must
be trained with frozen BatchNorm (``train --frozen-bn``): batch statistics would undo the folding.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np
import torch
import torch.nn as nn

from .checkpoint import atomic_save, make_checkpoint
from .export import GEN_IN, GEN_OUT, PARITY_FAIL, WARP_IN, WARP_OUT, GenGraph, WarpGraph, example_inputs, parity
from .models import build_from_record


def _conv_calls(graph: nn.Module, inputs: Tuple[torch.Tensor, ...]) -> List[Tuple[nn.Conv2d, nn.BatchNorm2d]]:
    """The graph module's Conv2d calls in execution order, each with the BatchNorm2d its output feeds
    directly (or None)."""
    calls: List[list] = []
    outputs: Dict[int, int] = {}  # id(conv output) -> index in calls
    hooks = []

    def conv_hook(mod, _inp, out):
        outputs[id(out)] = len(calls)
        calls.append([mod, None, out])  # keep out alive so its id stays unique

    def bn_pre_hook(mod, inp):
        i = outputs.get(id(inp[0]))
        if i is not None:
            calls[i][1] = mod

    for m in graph.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.BatchNorm2d):
            hooks.append(m.register_forward_pre_hook(bn_pre_hook))
    try:
        with torch.no_grad():
            graph(*inputs)
    finally:
        for h in hooks:
            h.remove()
    return [(c, bn) for c, bn, _ in calls]


def _graph_convs(model) -> Tuple[Dict[str, np.ndarray], List[Tuple[str, np.ndarray, np.ndarray]]]:
    """The graph's named initializers and its Conv nodes' (weight name, weight, bias-or-None) in node
    order."""
    from onnx import numpy_helper

    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    for n in model.graph.node:  # constants that stayed nodes
        if n.op_type == "Constant" and n.attribute and n.attribute[0].name == "value":
            inits.setdefault(n.output[0], numpy_helper.to_array(n.attribute[0].t))
    convs = []
    for n in model.graph.node:
        if n.op_type != "Conv":
            continue
        w = inits.get(n.input[1])
        b = inits.get(n.input[2]) if len(n.input) > 2 and n.input[2] else None
        convs.append((n.input[1], w, b))
    return inits, convs


def _fill(graph: nn.Module, inputs, onnx_model, name: str) -> None:
    """Copy one graph's weights into ``graph`` (a WarpGraph/GenGraph)."""
    inits, convs = _graph_convs(onnx_model)
    state = graph.state_dict()
    for k, v in inits.items():
        if k in state:
            if state[k].numel() != np.size(v):
                raise ValueError(f"{name}: {k} has {np.size(v)} values, the manifest's network wants "
                                 f"{tuple(state[k].shape)}")
            state[k].copy_(torch.from_numpy(np.array(v)).view_as(state[k]))
    j = 0
    done = set()
    for conv, bn in _conv_calls(graph, inputs):
        want = tuple(conv.weight.shape)
        while j < len(convs) and (convs[j][1] is None or tuple(convs[j][1].shape) != want):
            j += 1  # a cost-volume kernel or another constant conv: no module behind it
        if j == len(convs):
            raise ValueError(f"{name}: no Conv node left for a {want} convolution")
        wname, w, b = convs[j]
        j += 1
        if id(conv) in done:
            continue  # a module run twice appears twice in the graph
        done.add(id(conv))
        with torch.no_grad():
            conv.weight.copy_(torch.from_numpy(np.array(w)))
            bias = torch.from_numpy(np.array(b)) if b is not None else torch.zeros(want[0])
            if bn is not None:
                if conv.bias is not None:
                    conv.bias.zero_()
                bn.weight.fill_(1.0)
                bn.bias.copy_(bias)
                bn.running_mean.zero_()
                bn.running_var.fill_(1.0 - bn.eps)
            elif conv.bias is not None:
                conv.bias.copy_(bias)
            elif b is not None and np.abs(b).max() > 0:
                raise ValueError(f"{name}: Conv {wname} has a bias but its module has none and feeds no BN")


def recover(model_dir: str):
    """The network of a model folder, its weights read back from the graphs; returns (model, record,
    parity), parity the largest |PyTorch - ORT| over both stages' outputs (``export.parity``: random
    inputs, seed 1)."""
    import onnx

    d = Path(model_dir)
    manifest = json.loads((d / "manifest.json").read_text())
    rec = manifest["provenance"]["architecture"]
    h, w = manifest["height"], manifest["width"]
    model = build_from_record(rec).eval()
    worst = 0.0
    for stage, wrap, ins, outs in (("warp", WarpGraph, WARP_IN, WARP_OUT), ("gen", GenGraph, GEN_IN, GEN_OUT)):
        path = d / manifest["stages"][stage]["file"]
        graph = wrap(model).eval()
        _fill(graph, example_inputs(ins, h, w), onnx.load(str(path)), str(path))
        worst = max(worst, *parity(graph, str(path), ins, outs, h, w).values())
    return model, rec, worst


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m training recover", description=__doc__.split("\n")[0])
    p.add_argument("--model", required=True, help="model folder (manifest.json, warp.onnx, gen.onnx)")
    p.add_argument("--out", required=True, help="checkpoint to write (never overwritten)")
    args = p.parse_args(argv)
    out = Path(args.out)
    if out.exists():
        raise SystemExit(f"recover: {out}: exists; give a new name")
    model, rec, diff = recover(args.model)
    if diff > PARITY_FAIL:
        raise SystemExit(f"recover: {args.model}: the rebuilt network differs from the graphs by {diff:.2e}")
    out.parent.mkdir(parents=True, exist_ok=True)
    ck = make_checkpoint(rec, model.state_dict(), "gen", 0,
                         train_config={"recovered_from": str(args.model), "frozen_bn": True},
                         metrics={"recover_parity": diff})
    atomic_save(ck, out)
    print(f"recover: {args.model} -> {out} (PyTorch vs ONNX Runtime max abs diff {diff:.2e}); "
          "train it with --frozen-bn")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
