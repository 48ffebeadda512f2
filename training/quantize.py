"""``python -m training quantize``: a model folder -> the same model with static int8 convolutions.

ONNX Runtime's ``quantize_static`` (QDQ format, int8 per-channel weights, uint8 activations, MinMax
calibration) on the convolutions of both stages; every other op (GridSample, Resize, the elementwise
arithmetic of the flow) stays fp32. Calibration runs the folder's own fp32 graphs on the first ``--n``
paired items of a dataset's *train* split: the warp stage sees those people and garments, the gen stage
sees what the fp32 warp made of them. The new folder keeps the model contract (same inputs, outputs,
shapes, fp32 I/O); its manifest records the calibration and the int8 graphs' largest difference from the
fp32 ones on other items, and the latency of both in this process. Quality is measured with
``python -m training eval`` like any model folder.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Dict, Iterator, List

import numpy as np

OPS = ["Conv"]
# the flow estimator stays fp32: its cost volume's 49 one-channel convolutions per level have constant
# kernels (quantizing them only adds Quantize/Dequantize pairs), and a flow rounded to 8 bits moves the
# warped garment by pixels (all of it quantized: flow off by up to 0.04 of the image width)
KEEP_FP32_PREFIXES = ("/afen/",)


def _items(data: str, split: str, h: int, w: int, start: int, n: int) -> List[Dict[str, np.ndarray]]:
    from .data.vitonhd import VitonHDDataset

    ds = VitonHDDataset(data, split, h, w, pairs="paired")
    if len(ds) < start + n:
        raise ValueError(f"quantize: {data} {split}: {len(ds)} items, need {start + n}")
    out = []
    for i in range(start, start + n):
        it = ds[i]
        out.append({"person": it["person"][None].numpy(), "garment": it["cloth"][None].numpy(),
                    "garment_mask": it["cloth_mask"][None].numpy()})
    return out


class _Reader:
    """``CalibrationDataReader``: one input dict per item."""

    def __init__(self, feeds: List[Dict[str, np.ndarray]]):
        self._it: Iterator = iter(feeds)

    def get_next(self):
        return next(self._it, None)


def _stage_feeds(folder: Path, man, items):
    """Inputs of each stage for these items: warp's from the data, gen's from the fp32 warp."""
    from .export import ort_session

    st = man["stages"]
    warp = ort_session(str(folder / st["warp"]["file"]), 2)
    wnames = [o["name"] for o in st["warp"]["outputs"]]
    warp_feeds, gen_feeds = [], []
    for it in items:
        feed = {x["name"]: it[x["name"]] for x in st["warp"]["inputs"]}
        warp_feeds.append(feed)
        pool = dict(it)
        pool.update(zip(wnames, warp.run(wnames, feed)))
        gen_feeds.append({x["name"]: pool[x["name"]] for x in st["gen"]["inputs"]})
    return {"warp": warp_feeds, "gen": gen_feeds}


def _paired_ms(a, b, feed, runs: int = 21) -> tuple:
    """Median ms of two sessions on one input, run in alternation (a shared CPU's load hits both alike)."""
    for _ in range(3):
        a.run(None, feed)
        b.run(None, feed)
    ta, tb = [], []
    for _ in range(runs):
        for sess, ts in ((a, ta), (b, tb)):
            t0 = time.perf_counter()
            sess.run(None, feed)
            ts.append(time.perf_counter() - t0)
    return 1000 * statistics.median(ta), 1000 * statistics.median(tb)


def quantize_folder(src: str, data: str, out: str, n: int = 64, check: int = 8) -> Dict:
    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from .config import atomic_dir
    from .export import ort_session

    src_p, out_p = Path(src), Path(out)
    if out_p.exists():
        raise ValueError(f"quantize: {out}: exists; give a new folder")
    man = json.loads((src_p / "manifest.json").read_text())
    h, w = man["height"], man["width"]
    items = _items(data, "train", h, w, 0, n)
    held = _items(data, "train", h, w, n, check)  # not calibrated on: the parity check
    feeds, held_feeds = _stage_feeds(src_p, man, items), _stage_feeds(src_p, man, held)
    record = {"method": "onnxruntime.quantization.quantize_static", "format": "QDQ", "weights": "int8 per-channel",
              "activations": "uint8", "calibration": "MinMax", "ops": OPS,
              "kept_fp32": list(KEEP_FP32_PREFIXES),
              "calibration_data": {"root": str(data), "split": "train", "items": n, "pairs": "paired"},
              "stages": {}}
    with atomic_dir(out_p) as tmp:
        for name, st in man["stages"].items():
            pre = tmp / f"{name}.pre.onnx"
            quant_pre_process(str(src_p / st["file"]), str(pre), skip_symbolic_shape=True)
            dst = tmp / st["file"]
            nodes = [nd.name for nd in onnx.load(str(pre)).graph.node
                     if nd.op_type in OPS and not nd.name.startswith(KEEP_FP32_PREFIXES)]
            quantize_static(str(pre), str(dst), _Reader(feeds[name]), quant_format=QuantFormat.QDQ,
                            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, per_channel=True,
                            calibrate_method=CalibrationMethod.MinMax, op_types_to_quantize=OPS,
                            nodes_to_quantize=nodes)
            pre.unlink()
            f32, i8 = ort_session(str(src_p / st["file"]), 2), ort_session(str(dst), 2)
            names = [o["name"] for o in st["outputs"]]
            diff = {k: 0.0 for k in names}
            for feed in held_feeds[name]:
                for k, a, b in zip(names, f32.run(names, feed), i8.run(names, feed)):
                    diff[k] = max(diff[k], float(np.abs(a - b).max()))
            t32, t8 = _paired_ms(f32, i8, held_feeds[name][0])
            record["stages"][name] = {"quantized_nodes": len(nodes), "max_abs_diff_vs_fp32": diff,
                                      "latency_ms_2_threads": {"fp32": round(t32, 2), "int8": round(t8, 2)}}
        man["name"] = f"{man.get('name', src_p.name)}-int8"
        man.setdefault("provenance", {})["quantization"] = record
        man["provenance"].pop("latency_ms", None)
        man["provenance"].pop("evaluation", None)  # the fp32 model's: evaluate this folder on its own
        (tmp / "manifest.json").write_text(json.dumps(man, indent=1) + "\n")
    return record


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m training quantize", description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True, help="fp32 model folder")
    ap.add_argument("--data", required=True, help="dataset root whose train split calibrates")
    ap.add_argument("--out", required=True, help="int8 model folder to create")
    ap.add_argument("--n", type=int, default=64, help="calibration items")
    ap.add_argument("--check", type=int, default=8, help="further items for the int8-vs-fp32 difference")
    a = ap.parse_args(argv)
    try:
        rec = quantize_folder(a.model, a.data, a.out, a.n, a.check)
    except (ValueError, FileNotFoundError) as e:
        print(str(e), file=sys.stderr)
        return 2
    for name, st in rec["stages"].items():
        lat = st["latency_ms_2_threads"]
        print(f"quantize: {name}: fp32 {lat['fp32']:.1f} ms, int8 {lat['int8']:.1f} ms "
              f"({lat['fp32'] / lat['int8']:.2f}x); max |int8 - fp32| "
              + ", ".join(f"{k} {v:.3g}" for k, v in st["max_abs_diff_vs_fp32"].items()))
    print(f"quantize: wrote {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
