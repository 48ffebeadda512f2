"""``python -m training eval``: evaluation report of a model on a dataset split (paired setting).

Models: an exported model folder (run through ONNX Runtime exactly as the app
runs it), a training checkpoint (student, DM-VTON baseline or teacher), or
``naive`` - the garment image pasted without warping onto the bounding box of
the person's garment region, or ``exact-flow`` - the garment warped by the
dataset's own garment flow (synthetic data only): what a perfect warp with no
generator would score.

Paired setting: each test person is "dressed" in the garment they wear, so the
person image is the ground truth. Metrics per image, averaged: SSIM and PSNR
(whole image), L1 over the whole image and over the garment region (images in
[0,1]), warp IoU (warped mask > 0.5 against the true garment region), and on
data with garment flow (synthetic) the flow's mean end-point error in pixels
against the exact flow (models that output their flow). FID
(pytorch-fid InceptionV3) and LPIPS-VGG run only when their weight files are
given; otherwise the report says "weights not available". Caveat printed in the
report: a parser-free student sees the clothed person in this setting, so the
paired numbers flatter it; FID on unpaired try-ons is the standard complement.

Teacher-input setting (``--input-from TEACHER_CKPT``): the model's person input
is the teacher's try-on of the person in another garment (the test pairs
file's partner), and the target is still the real person: the student's
training task on held-out data. Here copying the input cannot score, since
the input wears another garment; the naive baseline pastes onto that input.

Output: ``REPORT_DIR/report.md``, ``metrics.json``, ``samples.png`` (person |
garment | warped | try-on | error) and ``worst.png``; written to a temporary
folder and renamed at the end.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import numpy as np
import torch
import torch.nn.functional as F

from . import metrics as M
from .config import atomic_dir
from .models.common import warp
from . import viz

Runner = Callable[[Dict[str, torch.Tensor]], Dict[str, torch.Tensor]]


def naive_tryon(batch: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Paste the garment (its mask's bounding box) onto the garment region's bounding box, no warping."""
    person, cloth, cmask, region = batch["person"], batch["cloth"], batch["cloth_mask"], batch["garment_region"]
    b, _, h, w = person.shape
    tryon, warped, wmask = person.clone(), torch.zeros_like(cloth), torch.zeros_like(cmask)
    for i in range(b):
        r = _bbox(region[i, 0])
        c = _bbox(cmask[i, 0])
        if r is None or c is None:
            continue
        (ry0, ry1, rx0, rx1), (cy0, cy1, cx0, cx1) = r, c
        size = (ry1 - ry0, rx1 - rx0)
        g = F.interpolate(cloth[i:i + 1, :, cy0:cy1, cx0:cx1], size=size, mode="bilinear", align_corners=False)
        m = (F.interpolate(cmask[i:i + 1, :, cy0:cy1, cx0:cx1], size=size, mode="bilinear",
                           align_corners=False) > 0.5).float()
        warped[i, :, ry0:ry1, rx0:rx1] = g[0] * m[0]
        wmask[i, :, ry0:ry1, rx0:rx1] = m[0]
        tryon[i] = warped[i] * wmask[i] + person[i] * (1 - wmask[i])
    return {"tryon": tryon, "warped_garment": warped, "warped_mask": wmask}


def exact_flow_tryon(batch: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """The garment warped by the dataset's exact flow and pasted where that flow is valid: a perfect warp
    without a generator (no shading, no inpainting), the upper bound of the warp's share of the scores."""
    if not bool(torch.as_tensor(batch["has_flow"]).all()):
        raise ValueError("eval: --model exact-flow needs a dataset with garment-flow/ (synthetic data)")
    valid = batch["flow_valid"]
    warped = warp(batch["cloth"], batch["flow"], padding_mode="border") * valid
    return {"tryon": warped + batch["person"] * (1 - valid), "warped_garment": warped, "warped_mask": valid,
            "flow": batch["flow"]}


def _bbox(mask: torch.Tensor):
    ys, xs = torch.nonzero(mask > 0.5, as_tuple=True)
    if ys.numel() == 0:
        return None
    return int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1


def onnx_runner(folder: Path, threads: int = 0):
    """Run an exported model folder stage by stage as the runtime does (tensor-name pool)."""
    from .export import ort_session

    man = json.loads((folder / "manifest.json").read_text())
    sessions = {name: (ort_session(str(folder / st["file"]), threads or st.get("threads", 1)), st)
                for name, st in man["stages"].items()}
    order = [s for s in ("garment", "warp", "gen") if s in sessions]

    def run(batch):
        outs: Dict[str, List[np.ndarray]] = {}
        for i in range(batch["person"].shape[0]):
            pool = {"person": batch["person"][i:i + 1].numpy(), "garment": batch["cloth"][i:i + 1].numpy(),
                    "garment_mask": batch["cloth_mask"][i:i + 1].numpy()}
            for s in order:
                sess, st = sessions[s]
                names = [o["name"] for o in st["outputs"]]
                res = sess.run(names, {x["name"]: pool[x["name"]] for x in st["inputs"]})
                pool.update(zip(names, res))
            for k in ("tryon", "warped_garment", "warped_mask", "flow"):
                if k in pool:
                    outs.setdefault(k, []).append(pool[k])
        return {k: torch.from_numpy(np.concatenate(v)) for k, v in outs.items()}

    desc = {"kind": "onnx", "name": man.get("name"), "architecture": man.get("architecture"),
            "size": [man["height"], man["width"]], "provenance": man.get("provenance", {}),
            "flow_align_corners": bool(man.get("flow_align_corners", False))}
    return run, desc, (man["height"], man["width"])


def checkpoint_runner(path: Path):
    from .models import person_representation
    from .checkpoint import load_checkpoint, model_from_checkpoint

    ck = load_checkpoint(str(path))
    model = model_from_checkpoint(str(path)).eval()
    teacher = ck["model_config"]["kind"] == "teacher"

    @torch.no_grad()
    def run(batch):
        person = person_representation(batch) if teacher else batch["person"]
        return model(person, batch["cloth"], batch["cloth_mask"])

    tc = ck.get("train_config", {})
    desc = {"kind": "checkpoint", "file": f"{path.parent.name}/{path.name}", "model": ck["model_config"]["kind"],
            "architecture": ck["model_config"]["arch"], "stage": ck.get("stage"), "step": ck.get("step"),
            "data": ck.get("data"), "flow_align_corners": bool(getattr(model, "flow_align_corners", False))}
    return run, desc, (tc.get("height", 256), tc.get("width", 192))


def teacher_input(path: Path) -> Callable[[Dict[str, torch.Tensor]], Dict[str, torch.Tensor]]:
    """The teacher-input setting: a batch whose ``person`` (the model's input) is the teacher's try-on of
    the person in the pairs file's other garment; ``target`` keeps the real person."""
    from .models import person_representation
    from .models.teacher import keep_person
    from .checkpoint import load_checkpoint, model_from_checkpoint

    if load_checkpoint(str(path))["model_config"]["kind"] != "teacher":
        raise ValueError(f"eval: --input-from {path}: not a teacher checkpoint")
    teacher = model_from_checkpoint(str(path)).eval()

    @torch.no_grad()
    def dress(batch):
        t = teacher(person_representation(batch), batch["cloth_unpaired"], batch["cloth_mask_unpaired"])
        return {**batch, "person": keep_person(t, batch).clamp(-1, 1)}

    return dress


def desc_input(input_from: Optional[str]) -> str:
    return f"teacher try-on in another garment ({Path(input_from).parent.name})" if input_from else "the person"


def evaluate(model: str, data: str, split: str, out: str, height: Optional[int] = None, width: Optional[int] = None,
             batch_size: int = 4, max_items: int = 0, fid_weights: Optional[str] = None,
             vgg16_weights: Optional[str] = None, lpips_weights: Optional[str] = None,
             quiet: bool = False, input_from: Optional[str] = None,
             mobilenet_weights: Optional[str] = "auto") -> Dict[str, Any]:
    from .data import VitonHDDataset

    out_dir = Path(out)
    if out_dir.exists():
        raise FileExistsError(f"eval: {out_dir} exists; choose another --out")
    if model == "naive":
        run, desc, size = naive_tryon, {"kind": "naive", "description": "garment pasted on the garment region's "
                                        "bounding box, no warping"}, (height or 256, width or 192)
    elif model == "exact-flow":
        run, desc, size = exact_flow_tryon, {"kind": "exact-flow", "description": "garment warped by the "
                                             "dataset's exact flow, pasted where it is valid; no generator"}, \
            (height or 256, width or 192)
    elif Path(model).is_dir():
        run, desc, size = onnx_runner(Path(model))
    elif Path(model).is_file():
        run, desc, size = checkpoint_runner(Path(model))
    else:
        raise FileNotFoundError(f"eval: --model {model}: not 'naive', 'exact-flow', a model folder or a "
                                f"checkpoint")
    h, w = height or size[0], width or size[1]
    dress = teacher_input(Path(input_from)) if input_from else None
    ds = VitonHDDataset(data, split=split, height=h, width=w, pairs="paired")
    n = min(len(ds), max_items) if max_items else len(ds)
    idx = list(range(n))
    fid_net = M.maybe(M.FIDInception.from_file, fid_weights)
    lpips_net = M.maybe(M.LPIPS.from_files, vgg16_weights, lpips_weights)
    from .perceptual import feature_distance, try_load  # MobileNetV2 feature distance (not LPIPS-VGG)
    mnv2 = try_load(None if mobilenet_weights in (None, "auto") else mobilenet_weights) \
        if mobilenet_weights != "none" else None

    per: Dict[str, List[float]] = {k: [] for k in ("ssim", "psnr", "l1", "l1_garment", "warp_iou", "flow_epe")
                                   + (("mnv2_dist",) if mnv2 is not None else ())}
    lp: List[float] = []
    feats_real, feats_fake = [], []
    names: List[str] = []
    keep: List[Dict[str, torch.Tensor]] = []
    t0 = time.perf_counter()
    for s in range(0, n, batch_size):
        items = [ds[i] for i in idx[s:s + batch_size]]
        batch = torch.utils.data.default_collate(items)
        inp = dress(batch) if dress else batch
        with torch.no_grad():
            res = run(inp)
        person01, tryon01 = (batch["person"] + 1) / 2, (res["tryon"].float().clamp(-1, 1) + 1) / 2
        region = batch["garment_region"]
        per["ssim"] += M.ssim(tryon01, person01).tolist()
        per["psnr"] += M.psnr(tryon01, person01).tolist()
        per["l1"] += (tryon01 - person01).abs().flatten(1).mean(1).tolist()
        per["l1_garment"] += (((tryon01 - person01).abs() * region).flatten(1).sum(1)
                              / (region.flatten(1).sum(1) * 3).clamp(min=1)).tolist()
        wm = res["warped_mask"].float() > 0.5
        gr = region > 0.5
        inter, union = (wm & gr).flatten(1).sum(1).float(), (wm | gr).flatten(1).sum(1).float()
        per["warp_iou"] += (inter / union.clamp(min=1)).tolist()
        if "flow" in res and res["flow"].shape[1] == 2 and bool(torch.as_tensor(batch["has_flow"]).all()):
            per["flow_epe"] += M.flow_epe(torch.as_tensor(res["flow"]).float(), desc.get("flow_align_corners", False),
                                          batch["flow"], batch["flow_valid"]).tolist()
        if mnv2 is not None:
            per["mnv2_dist"] += feature_distance(mnv2, res["tryon"].float().clamp(-1, 1), batch["person"]).tolist()
        if lpips_net is not None:
            lp += lpips_net(res["tryon"].float().clamp(-1, 1), batch["person"]).tolist()
        if fid_net is not None:
            feats_real.append(fid_net(person01).numpy())
            feats_fake.append(fid_net(tryon01).numpy())
        names += list(batch["name"])
        for j in range(len(items)):
            keep.append({**({"input (teacher)": inp["person"][j]} if dress else {}),
                         "person": batch["person"][j], "garment": batch["cloth"][j] * batch["cloth_mask"][j],
                         "warped": res["warped_garment"][j].float(), "try-on": res["tryon"][j].float().clamp(-1, 1),
                         "error": ((res["tryon"][j].float() - batch["person"][j]).abs().mean(0, keepdim=True) / 2)})
        if not quiet:
            print(f"eval {min(s + batch_size, n)}/{n}", flush=True)
    dt = time.perf_counter() - t0
    if len(per["flow_epe"]) != n:  # the model gives no flow, or the data has none
        del per["flow_epe"]
    summary = {k: {"mean": float(np.mean(v)), "std": float(np.std(v))} for k, v in per.items()}
    na = "weights not available"
    summary["lpips"] = {"mean": float(np.mean(lp)), "std": float(np.std(lp))} if lpips_net is not None else na
    if fid_net is not None and n >= 2:
        summary["fid"] = M.frechet_distance(np.concatenate(feats_real), np.concatenate(feats_fake))
    else:
        summary["fid"] = na if fid_net is None else "needs at least 2 images"
    report = {"model": desc, "data": {"root": Path(data).name, "split": split, "items": n, "height": h, "width": w,
                                      "pairs": "paired", "input": desc_input(input_from)},
              "metrics": summary, "per_image": {"name": names, **per}, "seconds": round(dt, 2)}

    def cols(rows):
        return {k: torch.stack([r[k] for r in rows]) for k in rows[0]}

    with atomic_dir(out_dir) as tmp:
        viz.write_png(tmp / "samples.png", viz.grid_image(cols(keep[:8]), rows=8))
        worst = sorted(range(len(keep)), key=lambda i: per["ssim"][i])[:8]
        viz.write_png(tmp / "worst.png", viz.grid_image(cols([keep[i] for i in worst]), rows=8))
        (tmp / "metrics.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
        (tmp / "report.md").write_text(render_markdown(report))
    return report


def _fmt(v) -> str:
    if isinstance(v, dict):
        return f"{v['mean']:.4f} ± {v['std']:.4f}"
    if isinstance(v, float):
        return f"{v:.3f}"
    return str(v)


def render_markdown(r: Dict[str, Any]) -> str:
    m, d, mod = r["metrics"], r["data"], r["model"]
    name = mod.get("name") or mod.get("file") or mod.get("kind")
    lines = [f"# Evaluation: {name}", "",
             f"- model: {mod.get('kind')}"
             + (f", architecture {mod['architecture']}" if mod.get("architecture") else "")
             + (f", step {mod['step']}" if mod.get("step") is not None else ""),
             f"- data: {d['root']} / {d['split']}, {d['items']} images at {d['height']}x{d['width']}, paired setting",
             f"- model input: {d.get('input', 'the person')}",
             f"- time: {r['seconds']} s", "",
             "| metric | value | better |", "|---|---|---|"]
    rows = [("SSIM", "ssim", "higher"), ("PSNR (dB)", "psnr", "higher"), ("L1, whole image [0,1]", "l1", "lower"),
            ("L1, garment region [0,1]", "l1_garment", "lower"), ("warp IoU (mask vs garment region)", "warp_iou",
                                                                    "higher"),
            ("flow end-point error (px, vs exact flow)", "flow_epe", "lower"),
            ("MobileNetV2 feature distance (not LPIPS-VGG)", "mnv2_dist", "lower"),
            ("LPIPS (VGG)", "lpips", "lower"), ("FID", "fid", "lower")]
    lines += [f"| {label} | {_fmt(m[key])} | {better} |" for label, key, better in rows if key in m]
    lines += ["", "Paired setting: each person is dressed in the garment they wear, so the person image is the "
              "ground truth. A parser-free model sees the clothed person here, so these numbers flatter it; "
              "FID on unpaired try-ons is the usual complement.", "",
              "![samples](samples.png)", "", "Lowest SSIM:", "", "![worst](worst.png)", ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m training eval", description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, help="model folder, checkpoint, 'naive' or 'exact-flow'")
    ap.add_argument("--data", required=True, help="dataset root (VITON-HD layout)")
    ap.add_argument("--split", default="test", choices=["train", "test"])
    ap.add_argument("--out", required=True, help="report folder to create")
    ap.add_argument("--height", type=int)
    ap.add_argument("--width", type=int)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--max-items", type=int, default=0)
    ap.add_argument("--input-from", help="teacher checkpoint: the model's input is the teacher's try-on of the "
                    "person in another garment (the target stays the real person)")
    ap.add_argument("--fid-weights", default=os.environ.get("MGVTON_FID_INCEPTION"),
                    help="pytorch-fid pt_inception-2015-12-05 weights (env MGVTON_FID_INCEPTION)")
    ap.add_argument("--vgg16-weights", default=os.environ.get("MGVTON_VGG16"),
                    help="torchvision VGG16 weights for LPIPS (env MGVTON_VGG16)")
    ap.add_argument("--lpips-weights", default=os.environ.get("MGVTON_LPIPS_VGG"),
                    help="LPIPS v0.1 vgg.pth linear weights (env MGVTON_LPIPS_VGG)")
    ap.add_argument("--mobilenet-weights", default=os.environ.get("MGVTON_MOBILENETV2", "auto"),
                    help="torchvision mobilenet_v2-b0353104.pth for the MobileNetV2 feature distance (not "
                         "LPIPS-VGG); 'auto' = data/weights/ if present, 'none' = off")
    a = ap.parse_args(argv)
    try:
        r = evaluate(a.model, a.data, a.split, a.out, a.height, a.width, a.batch, a.max_items, a.fid_weights,
                     a.vgg16_weights, a.lpips_weights, input_from=a.input_from,
                     mobilenet_weights=a.mobilenet_weights)
    except (ValueError, FileExistsError, FileNotFoundError) as e:
        print(str(e), file=sys.stderr)
        return 2
    m = r["metrics"]
    print(f"wrote {a.out}: SSIM {m['ssim']['mean']:.4f} PSNR {m['psnr']['mean']:.2f} "
          f"L1 {m['l1']['mean']:.4f} IoU {m['warp_iou']['mean']:.3f} "
          + (f"EPE {m['flow_epe']['mean']:.2f} px " if "flow_epe" in m else "")
          + f"FID {_fmt(m['fid'])} LPIPS {_fmt(m['lpips'])}")
    return 0
