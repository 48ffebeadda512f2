"""CPU timings behind the lite config: ``python -m training.bench blocks|model|train``.

* ``blocks``: each UIB variant (and expansion) at 64 channels, 128x96, batch 1, in
  PyTorch eager and in ONNX Runtime - MACs do not predict CPU time for
  depthwise-heavy blocks;
* ``model --arch A``: ONNX Runtime latency of the exported warp and gen stages
  (1 and 2 intra-op threads), what the app will see;
* ``compare --arch A --threads 2``: ORT warp+gen against PyTorch eager on the same weights, in one run,
  with the stacked and the 49-slice cost volume (issue 15);
* ``train --arch A``: seconds per student warp-stage training step.

Timings are medians over a few runs on whatever else this machine is doing;
compare within one invocation.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time

import torch


def _median_ms(fn, runs: int = 7, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return 1000 * statistics.median(ts)


def bench_blocks(threads: int) -> None:
    from .count import count_macs
    from .export import export_graph, ort_session
    from .models.uib import UIB, UIBConfig, VARIANTS

    torch.set_num_threads(threads)
    x = torch.randn(1, 64, 128, 96)
    print(f"UIB 64->64 at 128x96, batch 1, {threads} thread(s)")
    print(f"{'variant':10s} {'expand':>6s} {'MMACs':>8s} {'torch ms':>9s} {'ORT ms':>8s}")
    for v in sorted(VARIANTS):
        for e in (2, 4, 6):
            m = UIB(UIBConfig(64, 64, v, e)).eval()
            data = export_graph(m, (x,), ("x",), ("y",))
            with torch.no_grad():
                t_torch = _median_ms(lambda m=m: m(x))
            s = ort_session(data, threads)
            t_ort = _median_ms(lambda s=s: s.run(None, {"x": x.numpy()}))
            print(f"{v:10s} {e:6d} {count_macs(m, x) / 1e6:8.1f} {t_torch:9.1f} {t_ort:8.1f}")


def bench_model(arch: str, h: int, w: int) -> None:
    from .export import GEN_IN, GEN_OUT, WARP_IN, WARP_OUT, GenGraph, WarpGraph, example_inputs, export_graph
    from .export import ort_session
    from .models import build, model_config

    model = build("student", model_config("student", arch)).eval()
    stages = (("warp", WarpGraph(model), WARP_IN, WARP_OUT), ("gen", GenGraph(model), GEN_IN, GEN_OUT))
    for name, mod, ins, outs in stages:
        data = export_graph(mod.eval(), example_inputs(ins, h, w), ins, outs)
        feed = {n: t.numpy() for n, t in zip(ins, example_inputs(ins, h, w))}
        for th in (1, 2):
            s = ort_session(data, th)
            ms = _median_ms(lambda s=s, feed=feed: s.run(None, feed), runs=10)
            print(f"{arch} {name} {h}x{w} ORT {th} thread(s): {ms:.1f} ms")


def bench_compare(arch: str, h: int, w: int, threads: int, runs: int, manifest: str = "") -> None:
    """ORT warp+gen of the exported graphs against PyTorch eager on the same weights, in one run.

    Eager runs the cost volume as 49 slices (``correlation_reference``, its fastest eager writing); the
    graphs are exported twice, with the stacked cost volume (what ``export`` writes) and with the 49-slice
    one (what it wrote before), so the table shows what the reformulation bought. Weights are random
    (seed 0): speed only. ``parity`` is ORT's largest difference from eager on the warp and gen outputs.
    ``manifest``: take the architecture from a model folder's manifest (e.g. models/default, whose
    mg-lite estimates the flow at half resolution) instead of the preset."""
    import numpy as np

    from .export import GEN_IN, GEN_OUT, WARP_IN, WARP_OUT, GenGraph, WarpGraph, example_inputs, export_graph
    from .export import ort_session
    from .models import build, build_from_record, common, model_config

    torch.manual_seed(0)
    torch.set_num_threads(threads)
    if manifest:
        import json
        from pathlib import Path

        rec = json.loads(Path(manifest).read_text())["provenance"]["architecture"]
        model, arch = build_from_record(rec).eval(), f"{rec['arch']} ({manifest})"
    else:
        model = build("student", model_config("student", arch)).eval()
    warp_in = example_inputs(WARP_IN, h, w, seed=1)
    with torch.no_grad():
        out = model.warp_forward(*warp_in)
    gen_in = (warp_in[0], out["warped_garment"], out["warped_mask"])
    with torch.no_grad():
        eager_ms = _median_ms(lambda: model(*warp_in), runs=runs, warmup=1)
        ref = [t.numpy() for t in WarpGraph(model)(*warp_in)] + [t.numpy() for t in GenGraph(model)(*gen_in)]
    print(f"{arch} {h}x{w}, {threads} thread(s), medians of {runs}:")
    print(f"  PyTorch {torch.__version__} eager warp+gen (49-slice cost volume): {eager_ms:8.1f} ms")
    for form in ("stacked", "slices"):
        common.EXPORT_COST_VOLUME = form
        try:
            warp_g = export_graph(WarpGraph(model), warp_in, WARP_IN, WARP_OUT)
            gen_g = export_graph(GenGraph(model), gen_in, GEN_IN, GEN_OUT)
        finally:
            common.EXPORT_COST_VOLUME = "stacked"
        ws, gs = ort_session(warp_g, threads), ort_session(gen_g, threads)
        wfeed = {n: t.numpy() for n, t in zip(WARP_IN, warp_in)}

        def both(ws=ws, gs=gs, wfeed=wfeed):
            wo = ws.run(None, wfeed)
            return wo + gs.run(None, {"person": wfeed["person"], "warped_garment": wo[0], "warped_mask": wo[1]})

        got = both()
        diff = max(float(np.abs(g - r).max()) for g, r in zip(got, ref))
        ort_ms = _median_ms(both, runs=runs, warmup=1)
        print(f"  ORT warp+gen, {form:7s} cost volume: {ort_ms:8.1f} ms   eager/ORT {eager_ms / ort_ms:5.2f}x   "
              f"parity {diff:.1e}")


def bench_train(arch: str, h: int, w: int, batch: int, threads: int, steps: int) -> None:
    from torch.utils.data import default_collate

    from .data.fake import FakeVitonHD
    from .train import TrainConfig, Trainer, _to, train_mode

    ds = FakeVitonHD(n=batch, height=h, width=w)
    tmp = tempfile.mkdtemp(prefix="mgvton-bench-")
    cfg = TrainConfig(model="student", arch=arch, stage="warp", out=f"{tmp}/run", height=h, width=w,
                      batch=batch, steps=10 ** 6, threads=threads)
    tr = Trainer(cfg, ds)
    b = _to(default_collate([ds[i] for i in range(batch)]), tr.device, tr.channels_last)
    train_mode(tr.model, "warp")
    t = _median_ms(lambda: tr.train_step(b), runs=steps, warmup=1) / 1000
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"{arch} student warp step {h}x{w} batch {batch}, {threads} thread(s): {t:.2f} s/step, "
          f"{batch / t:.2f} samples/s")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m training.bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("what", choices=["blocks", "model", "compare", "train"])
    ap.add_argument("--arch", default="mg-lite")
    ap.add_argument("--height", type=int, default=256)
    ap.add_argument("--width", type=int, default=192)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--manifest", default="", help="compare: the architecture of this model folder's manifest")
    a = ap.parse_args(argv)
    if a.what == "blocks":
        bench_blocks(a.threads)
    elif a.what == "model":
        bench_model(a.arch, a.height, a.width)
    elif a.what == "compare":
        bench_compare(a.arch, a.height, a.width, a.threads, a.steps, a.manifest)
    else:
        bench_train(a.arch, a.height, a.width, a.batch, a.threads, a.steps)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
