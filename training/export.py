"""``python -m training export``: checkpoint(s) -> model folder per docs/model-contract.md.

The folder holds ``warp.onnx`` (person, garment, garment_mask -> warped_garment,
warped_mask, flow), ``gen.onnx`` (person, warped_garment, warped_mask -> tryon,
composite_mask) and ``manifest.json``. Graphs are opset 17, batch 1, fixed H x W,
checked with ``onnx.checker``, then run in ONNX Runtime on random inputs and
compared with PyTorch; the max abs differences go into the manifest provenance
together with the architecture config, the data description, the training step
and the last metrics. Everything is written to a temporary folder next to the
target and renamed at the end: no half-written model folder is ever visible.
"""
from __future__ import annotations

import argparse
import inspect
import io
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

import numpy as np
import torch
import torch.nn as nn

from .config import atomic_dir

OPSET = 17
WARP_IN = ("person", "garment", "garment_mask")
WARP_OUT = ("warped_garment", "warped_mask", "flow")
GEN_IN = ("person", "warped_garment", "warped_mask")
GEN_OUT = ("tryon", "composite_mask")
KINDS = {"person": "image", "garment": "image", "garment_mask": "mask", "warped_garment": "image",
         "warped_mask": "mask", "flow": "grid", "tryon": "image", "composite_mask": "mask"}
CHANNELS = {"person": 3, "garment": 3, "garment_mask": 1, "warped_garment": 3, "warped_mask": 1, "flow": 2,
            "tryon": 3, "composite_mask": 1}
PARITY_FAIL = 1e-2  # beyond this the graph is wrong, not just rounded differently
PARITY_WARN = 1e-3
# ops left in fp32 by --fp16: ONNX Runtime's CPU kernels take no fp16 GridSample or Range, and Resize
# interpolates the flow, whose rounding moves whole pixels
FP16_KEEP_FP32 = ["GridSample", "Resize", "Range"]


class WarpGraph(nn.Module):
    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, person, garment, garment_mask):
        out = self.model.warp_forward(person, garment, garment_mask)
        return out["warped_garment"], out["warped_mask"], out["flow"]


class GenGraph(nn.Module):
    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, person, warped_garment, warped_mask):
        out = self.model.gen_forward(person, warped_garment, warped_mask)
        return out["tryon"], out["composite_mask"]


def example_inputs(names, h: int, w: int, seed: int = 0) -> Tuple[torch.Tensor, ...]:
    """Random inputs of the right kinds: images in [-1,1], masks a {0,1} blob (warped masks soft)."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for n in names:
        c = CHANNELS[n]
        if KINDS[n] == "image":
            out.append(torch.rand(1, c, h, w, generator=g) * 2 - 1)
        else:
            ys = torch.linspace(-1, 1, h).view(h, 1)
            xs = torch.linspace(-1, 1, w).view(1, w)
            blob = ((xs / 0.6) ** 2 + (ys / 0.7) ** 2 < 1).float().view(1, 1, h, w)
            out.append(blob if n == "garment_mask" else blob * torch.rand(1, 1, h, w, generator=g))
    return tuple(out)


def export_graph(module: nn.Module, inputs, in_names, out_names) -> bytes:
    f = io.BytesIO()
    with torch.no_grad(), warnings.catch_warnings():
        # shapes are fixed by design (batch 1, one H x W): the tracer's "constant shape" notes are expected
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", message=".*shape inference.*")
        warnings.filterwarnings("ignore", message=".*Constant folding.*")  # Slice steps: harmless
        kw = {}
        if "dynamo" in inspect.signature(torch.onnx.export).parameters:
            # the TorchScript exporter: PyTorch >= 2.9 defaults to the torch.export one and calls this one
            # deprecated; it is the one both 1.13 and 2.x have, and the parity tests check what it writes
            kw["dynamo"] = False
            warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.onnx.*")
            warnings.filterwarnings("ignore", message=".*legacy TorchScript-based ONNX export.*")
        torch.onnx.export(module, inputs, f, opset_version=OPSET, input_names=list(in_names),
                          output_names=list(out_names), do_constant_folding=True, **kw)
    return f.getvalue()


def ort_session(model_bytes_or_path, threads: int = 0):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads or 1
    # no busy-waiting worker threads: on a shared CPU spinning made small graphs many times slower
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    so.log_severity_level = 3
    return ort.InferenceSession(model_bytes_or_path, so, providers=["CPUExecutionProvider"])


def fix_output_shapes(onnx_bytes: bytes, shapes: Dict[str, Tuple[int, ...]]) -> bytes:
    """Declare the graph outputs' static shapes.

    The tracer leaves GridSample outputs with unknown H and W; the runtime checks
    every declared dimension, so the graph states what it produces (verified
    against ONNX Runtime's actual outputs in ``parity``).
    """
    import onnx

    m = onnx.load_from_string(onnx_bytes)
    for o in m.graph.output:
        dims = o.type.tensor_type.shape.dim
        want = shapes[o.name]
        if len(dims) != len(want):
            raise RuntimeError(f"export: output {o.name} has rank {len(dims)}, expected {len(want)}")
        for d, v in zip(dims, want):
            if d.HasField("dim_value") and d.dim_value not in (0, v):
                raise RuntimeError(f"export: output {o.name} is {d.dim_value} where {v} was expected")
            d.dim_value = v
    return m.SerializeToString()


def parity(module: nn.Module, onnx_bytes: bytes, in_names, out_names, h: int, w: int) -> Dict[str, float]:
    """ONNX Runtime vs PyTorch on the same random inputs: max abs difference per output."""
    inputs = example_inputs(in_names, h, w, seed=1)
    with torch.no_grad():
        ref = module(*inputs)
    sess = ort_session(onnx_bytes)
    got = sess.run(list(out_names), {n: t.numpy() for n, t in zip(in_names, inputs)})
    for n, g, r in zip(out_names, got, ref):
        if tuple(g.shape) != tuple(r.shape):
            raise RuntimeError(f"export: {n}: ONNX Runtime gives {g.shape}, PyTorch {tuple(r.shape)}")
    return {n: float(np.abs(g - r.numpy()).max()) for n, g, r in zip(out_names, got, ref)}


def latency_ms(onnx_bytes: bytes, in_names, h: int, w: int, threads: int, runs: int = 5) -> float:
    sess = ort_session(onnx_bytes, threads)
    feed = {n: t.numpy() for n, t in zip(in_names, example_inputs(in_names, h, w))}
    sess.run(None, feed)
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        sess.run(None, feed)
        ts.append(time.perf_counter() - t0)
    return 1000 * float(np.median(ts))


def _io(names, h: int, w: int):
    return [{"name": n, "shape": [1, CHANNELS[n], h, w], "kind": KINDS[n]} for n in names]


def _ckpt_summary(path: Optional[str], ck: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    if ck is None:
        return None
    p = Path(path) if path else None
    return {
        "file": f"{p.parent.name}/{p.name}" if p else None,  # the run folder and file, not a machine path
        "stage": ck.get("stage"),
        "step": ck.get("step"),
        "train_config": ck.get("train_config"),
        "data": ck.get("data"),
        "metrics": ck.get("metrics"),
        "teacher": Path(ck["teacher"]).parent.name if ck.get("teacher") else None,
    }


def to_fp16(onnx_bytes: bytes) -> bytes:
    """The graph with fp16 weights and arithmetic, fp32 inputs and outputs (the app feeds it unchanged)."""
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    m = convert_float_to_float16(onnx.load_from_string(onnx_bytes), keep_io_types=True,
                                 op_block_list=FP16_KEEP_FP32)
    # the converter appends the input casts at the end of the node list; ONNX wants producers first
    known = {i.name for i in m.graph.input} | {t.name for t in m.graph.initializer} | {""}
    todo, order = list(m.graph.node), []
    while todo:
        ready = [n for n in todo if all(i in known for i in n.input)]
        if not ready:
            raise RuntimeError("export: fp16 graph has a cycle or an input nothing produces")
        for n in ready:
            order.append(n)
            known.update(n.output)
        todo = [n for n in todo if all(n is not r for r in ready)]
    del m.graph.node[:]
    m.graph.node.extend(order)
    return m.SerializeToString()


def fp16_parity(fp32: bytes, fp16: bytes, in_names, out_names, h: int, w: int) -> Dict[str, Dict[str, float]]:
    """fp16 graph against the fp32 graph in ONNX Runtime, same random inputs: max and mean abs difference."""
    feed = {n: t.numpy() for n, t in zip(in_names, example_inputs(in_names, h, w, seed=1))}
    a = ort_session(fp32).run(list(out_names), feed)
    b = ort_session(fp16).run(list(out_names), feed)
    return {n: {"max_abs": float(np.abs(x - y).max()), "mean_abs": float(np.abs(x - y).mean())}
            for n, x, y in zip(out_names, a, b)}


def write_model_folder(model: nn.Module, out: Path, *, name: str, architecture: str, height: int, width: int,
                       provenance: Dict[str, Any], threads: Tuple[int, int] = (2, 1),
                       measure_threads: bool = False, quiet: bool = False, fp16: bool = False) -> Dict[str, Any]:
    """Export ``model`` (warp_forward/gen_forward interface) into the model folder ``out`` atomically.

    ``fp16``: the graphs are converted to fp16 after the fp32 parity check against PyTorch; the manifest
    records the fp16 graphs' difference from the fp32 ones (``provenance.fp16_parity``)."""
    import onnx

    out = Path(out)
    if out.exists():
        raise FileExistsError(f"export: {out} exists; choose another --out or remove it")
    model = model.eval().float()
    h, w = height, width
    warp_g, gen_g = WarpGraph(model).eval(), GenGraph(model).eval()
    graphs = {}
    diffs: Dict[str, Dict[str, float]] = {}
    for stage, mod, ins, outs in (("warp", warp_g, WARP_IN, WARP_OUT), ("gen", gen_g, GEN_IN, GEN_OUT)):
        data = export_graph(mod, example_inputs(ins, h, w), ins, outs)
        data = fix_output_shapes(data, {n: (1, CHANNELS[n], h, w) for n in outs})
        proto = onnx.load_from_string(data)
        onnx.checker.check_model(proto)
        got_in = [i.name for i in proto.graph.input]
        if got_in != list(ins):  # e.g. an input the graph does not use is dropped by the exporter
            raise RuntimeError(f"export: {stage} graph inputs are {got_in}, the contract wants {list(ins)}")
        graphs[stage] = data
        diffs[stage] = parity(mod, data, ins, outs, h, w)
    max_diff = max(v for d in diffs.values() for v in d.values())
    if not quiet:
        for stage, d in diffs.items():
            print(f"parity {stage}: " + ", ".join(f"{k} {v:.2e}" for k, v in d.items()))
        print(f"parity: max abs diff ONNX Runtime vs PyTorch = {max_diff:.3e}")
    if max_diff > PARITY_FAIL:
        raise RuntimeError(f"export: ONNX Runtime disagrees with PyTorch by {max_diff:.3e} (> {PARITY_FAIL})")
    if max_diff > PARITY_WARN:
        print(f"export: warning: parity {max_diff:.3e} above {PARITY_WARN}", file=sys.stderr)
    half: Dict[str, Dict[str, Dict[str, float]]] = {}
    if fp16:
        for stage, ins, outs in (("warp", WARP_IN, WARP_OUT), ("gen", GEN_IN, GEN_OUT)):
            data = to_fp16(graphs[stage])
            onnx.checker.check_model(onnx.load_from_string(data))
            half[stage] = fp16_parity(graphs[stage], data, ins, outs, h, w)
            graphs[stage] = data
            if not quiet:
                print(f"fp16 vs fp32 {stage}: " + ", ".join(
                    f"{k} max {v['max_abs']:.2e} mean {v['mean_abs']:.2e}" for k, v in half[stage].items()))
    timing = {}
    warp_threads, gen_threads = threads
    if measure_threads:
        for stage, ins, key in (("warp", WARP_IN, 0), ("gen", GEN_IN, 1)):
            t = {n: latency_ms(graphs[stage], ins, h, w, n) for n in (1, 2)}
            timing[stage] = {f"{n}_threads_ms": round(v, 2) for n, v in t.items()}
            best = min(t, key=t.get)
            if key == 0:
                warp_threads = best
            else:
                gen_threads = best
        if not quiet:
            print(f"latency (ms, median of 5, this machine): {json.dumps(timing)}")
    manifest = {
        "format": 1,
        "name": name,
        "architecture": architecture,
        "height": h,
        "width": w,
        "flow_align_corners": bool(getattr(model, "flow_align_corners", False)),
        "stages": {
            "warp": {"file": "warp.onnx", "threads": warp_threads, "inputs": _io(WARP_IN, h, w),
                     "outputs": _io(WARP_OUT, h, w)},
            "gen": {"file": "gen.onnx", "threads": gen_threads, "inputs": _io(GEN_IN, h, w),
                    "outputs": _io(GEN_OUT, h, w)},
        },
        "provenance": {
            **provenance,
            "parity": {"max_abs_diff": max_diff, "per_output": diffs, "inputs": "uniform random, seed 1"},
            "precision": "fp16" if fp16 else "fp32",
            **({"fp16_parity": {"against": "the fp32 graphs in ONNX Runtime", "per_output": half,
                                "inputs": "uniform random, seed 1"}} if fp16 else {}),
            "latency_ms": timing or None,
            "opset": OPSET,
            "exported_with": {"torch": torch.__version__, "onnx": onnx.__version__,
                              "onnxruntime": __import__("onnxruntime").__version__},
            "exported_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        },
    }
    with atomic_dir(out) as tmp:
        (tmp / "warp.onnx").write_bytes(graphs["warp"])
        (tmp / "gen.onnx").write_bytes(graphs["gen"])
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    return manifest


def export_checkpoints(warp_ckpt: str, gen_ckpt: Optional[str], out: str, name: Optional[str] = None,
                       height: Optional[int] = None, width: Optional[int] = None,
                       measure_threads: bool = False, fp16: bool = False) -> Dict[str, Any]:
    from .count import count_macs, count_params
    from .checkpoint import generator_state, load_checkpoint
    from .models import build_from_record

    wck = load_checkpoint(warp_ckpt)
    gck = load_checkpoint(gen_ckpt) if gen_ckpt else None
    rec = wck["model_config"]
    if rec["kind"] == "teacher":
        raise ValueError("export: the teacher needs parsing, pose and densepose inputs; export a student")
    if gck is not None and gck["model_config"]["config"] != rec["config"]:
        raise ValueError("export: warp and gen checkpoints are different architectures")
    model = build_from_record(rec)
    model.load_state_dict(wck["model"])
    if gck is not None:
        model.load_state_dict({**model.state_dict(), **generator_state(model, gck["model"])})
    elif wck.get("stage") == "warp":
        print("export: warning: no --gen-ckpt and the checkpoint is from the warp stage: the generator is untrained",
              file=sys.stderr)
    tc = wck.get("train_config", {})
    h = height or tc.get("height", 256)
    w = width or tc.get("width", 192)
    model.eval()
    x = (torch.zeros(1, 3, h, w), torch.zeros(1, 3, h, w), torch.ones(1, 1, h, w))
    prov = {
        "architecture": rec,
        "params": count_params(model),
        "macs": count_macs(model, *x),
        "warp_checkpoint": _ckpt_summary(warp_ckpt, wck),
        "gen_checkpoint": _ckpt_summary(gen_ckpt, gck),
        "data": wck.get("data"),
        "metrics": (gck or wck).get("metrics"),
    }
    return write_model_folder(model, Path(out), name=name or Path(out).name, architecture=rec["arch"], height=h,
                              width=w, provenance=prov, measure_threads=measure_threads, fp16=fp16)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m training export", description=__doc__.split("\n\n")[0])
    ap.add_argument("--ckpt", required=True, help="warp-stage (or gen-stage) checkpoint")
    ap.add_argument("--gen-ckpt", help="gen-stage checkpoint (its generator weights are used)")
    ap.add_argument("--out", required=True, help="model folder to create (models/NAME); must not exist")
    ap.add_argument("--name", help="model name in the manifest (default: folder name)")
    ap.add_argument("--height", type=int, help="input height (default: the training height)")
    ap.add_argument("--width", type=int, help="input width (default: the training width)")
    ap.add_argument("--measure-threads", action="store_true",
                    help="time each stage with 1 and 2 ONNX Runtime threads and record the faster")
    ap.add_argument("--fp16", action="store_true",
                    help="fp16 weights and arithmetic (fp32 inputs and outputs); the manifest records the "
                         "difference from the fp32 graphs")
    a = ap.parse_args(argv)
    try:
        m = export_checkpoints(a.ckpt, a.gen_ckpt, a.out, a.name, a.height, a.width, a.measure_threads, a.fp16)
    except (ValueError, FileExistsError, FileNotFoundError, RuntimeError) as e:
        print(str(e), file=sys.stderr)
        return 2
    print(f"wrote {a.out} ({m['architecture']}, {m['height']}x{m['width']}, "
          f"parity {m['provenance']['parity']['max_abs_diff']:.2e})")
    return 0
