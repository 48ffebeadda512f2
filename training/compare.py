"""``python -m training compare A B``: per-image differences between two evaluation reports.

A and B are report folders (or their ``metrics.json``) of ``python -m training eval`` on the same images
(the same data, split and item count), or two ``report.json`` of ``mgvton realeval`` on the same pictures
(pictures where either run found no person are left out, and the count says so). For each metric it
prints the mean of A - B over the images, its standard error (std / sqrt(n), the images being the
samples), and on how many images A is better. This is the test of "clearly better": a mean difference
several standard errors from zero.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any, Dict, List

# metric -> True when higher is better
METRICS = {"ssim": True, "psnr": True, "l1": False, "l1_garment": False, "warp_iou": True, "flow_epe": False,
           # mgvton realeval (real pictures, no ground truth)
           "torso_coverage": True, "torso_replaced": True, "garment_outside_person": False, "face_ssim": True}
REALEVAL_METRICS = ("torso_coverage", "torso_replaced", "garment_outside_person", "face_ssim")


def _from_realeval(rep: Dict[str, Any]) -> Dict[str, Any]:
    """A realeval report as per-image lists (None where the picture had no person)."""
    frames = rep["frames"]
    per = {"name": [f["name"] for f in frames]}
    for k in REALEVAL_METRICS:
        per[k] = [f.get(k) if f.get("person_found") else None for f in frames]
    return {"per_image": per}


def load_report(path: str) -> Dict[str, Any]:
    p = Path(path)
    if p.is_dir():
        p = p / "metrics.json" if (p / "metrics.json").is_file() else p / "report.json"
    if not p.is_file():
        raise FileNotFoundError(f"compare: {path}: no metrics.json or report.json (an eval or realeval report?)")
    try:
        rep = json.loads(p.read_text())
        if isinstance(rep, dict) and "frames" in rep and "per_image" not in rep:
            rep = _from_realeval(rep)
        rep["per_image"]["name"]
    except (ValueError, KeyError, TypeError) as e:
        raise ValueError(f"compare: {p}: not an eval report ({e})") from None
    return rep


def compare(a: Dict[str, Any], b: Dict[str, Any]) -> Dict[str, Dict[str, float]]:
    """{metric: {mean, se, better, n}} of A - B per image; ``better`` counts images where A is better."""
    na, nb = a["per_image"]["name"], b["per_image"]["name"]
    if na != nb:
        raise ValueError(f"compare: the reports are on different images ({len(na)} and {len(nb)} items, "
                         f"first {na[:1]} and {nb[:1]})")
    out = {}
    for k, higher in METRICS.items():
        if k not in a["per_image"] or k not in b["per_image"]:
            continue
        d: List[float] = [x - y for x, y in zip(a["per_image"][k], b["per_image"][k])
                          if x is not None and y is not None]
        n = len(d)
        if n == 0:
            continue
        mean = sum(d) / n
        var = sum((x - mean) ** 2 for x in d) / (n - 1) if n > 1 else 0.0
        out[k] = {"mean": mean, "se": math.sqrt(var / n), "n": n,
                  "better": sum(1 for x in d if (x > 0 if higher else x < 0))}
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m training compare", description=__doc__.split("\n\n")[0])
    ap.add_argument("a", help="report folder of the model (A)")
    ap.add_argument("b", help="report folder of the reference (B), e.g. the naive baseline")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    try:
        res = compare(load_report(args.a), load_report(args.b))
    except (ValueError, FileNotFoundError) as e:
        print(str(e), file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(res, indent=2))
        return 0
    print(f"A = {args.a}, B = {args.b}, per image (A - B, mean ± standard error; images where A is better):")
    for k, r in res.items():
        print(f"  {k:11s} {r['mean']:+.4f} ± {r['se']:.4f}   {r['better']}/{r['n']}")
    return 0
