"""``python -m training ablation``: the paper's Table 2 on our data, from the files ``scripts/ablation.sh`` leaves.

Each row is a folder ``DIR/<row>/`` holding ``report/metrics.json`` (``python -m training eval``, paired
setting), optionally ``report-t/metrics.json`` (the teacher-input setting, ``--input-from``) and, for a
model the app can run, ``bench.json`` (``mgvton bench -json``: the exported ONNX graphs in ONNX Runtime, from
Go). Size columns come from ``training.count`` for the row's architecture. Nothing is typed in by hand: a
row with a missing file shows "—" and the reason is printed.

Output: ``DIR/ablation.md`` (markdown table + how it was made) and ``DIR/ablation.json``.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

from .count import measure

# architecture names of metrics.json -> training.count names
COUNT_NAME = {"mg": "mg", "mg-lite": "mg-lite", "mg-mf": "mg-mf", "dmvton": "dmvton", "tiny": "tiny",
              "teacher:mg-lite": "teacher-lite", "teacher:tiny": "teacher-tiny",
              "teacher:mg": "teacher"}


def _arch(model: Dict[str, Any]) -> Optional[str]:
    arch = model.get("architecture")
    if not arch:
        return None
    return COUNT_NAME.get(f"teacher:{arch}" if model.get("model") == "teacher" else arch)


APP_SIZE = (256, 192)  # the size the app runs, where MACs and FPS are reported


def row(folder: Path) -> Dict[str, Any]:
    r: Dict[str, Any] = {"row": folder.name, "notes": []}
    mpath = folder / "report" / "metrics.json"
    if not mpath.is_file():
        r["notes"].append(f"no {mpath}")
        return r
    rep = json.loads(mpath.read_text())
    m = rep["metrics"]
    r.update(ssim=m["ssim"]["mean"], psnr=m["psnr"]["mean"], warp_iou=m["warp_iou"]["mean"],
             items=rep["data"]["items"], model=rep["model"])
    tpath = folder / "report-t" / "metrics.json"
    if tpath.is_file():
        mt = json.loads(tpath.read_text())["metrics"]
        r.update(ssim_t=mt["ssim"]["mean"], psnr_t=mt["psnr"]["mean"])
    arch = _arch(rep["model"]) if isinstance(rep["model"], dict) else None
    r["arch"] = arch
    if arch:
        small, paper = measure(arch, *APP_SIZE), measure(arch, 512, 384)
        r.update(params=small["params"], macs=small["macs"], macs_512=paper["macs"], weights_mib=small["weights_mib"])
    bpath = folder / "bench.json"
    if bpath.is_file():
        b = json.loads(bpath.read_text())
        r["cpu_fps"] = b.get("model_fps")
    elif arch:
        r["notes"].append(f"no {bpath}")
    return r


def _fmt(v: Any, spec: str) -> str:
    return "—" if v is None else format(v, spec)


def table(rows: List[Dict[str, Any]]) -> str:
    height, width = APP_SIZE
    head = (f"| row | arch | SSIM ↑ | PSNR ↑ | SSIM ↑ (teacher input) | PSNR ↑ (teacher input) | warp IoU ↑ | params | "
            f"MACs {height}x{width} | MACs 512x384 | weights MiB | CPU FPS (Go, ONNX) |\n"
            f"|---|---|---|---|---|---|---|---|---|---|---|---|\n")
    lines = []
    for r in rows:
        lines.append("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |".format(
            r["row"], r.get("arch") or "—", _fmt(r.get("ssim"), ".3f"), _fmt(r.get("psnr"), ".2f"),
            _fmt(r.get("ssim_t"), ".3f"), _fmt(r.get("psnr_t"), ".2f"), _fmt(r.get("warp_iou"), ".3f"),
            _fmt(r.get("params"), ",d"),
            _fmt(None if r.get("macs") is None else r["macs"] / 1e9, ".2f") + ("" if r.get("macs") is None else " G"),
            _fmt(None if r.get("macs_512") is None else r["macs_512"] / 1e9, ".2f")
            + ("" if r.get("macs_512") is None else " G"),
            _fmt(r.get("weights_mib"), ".2f"), _fmt(r.get("cpu_fps"), ".2f")))
    return head + "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m training ablation", description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", required=True, help="folder with one sub-folder per row (scripts/ablation.sh)")
    ap.add_argument("--rows", required=True, help="comma-separated row folders, in table order")
    ap.add_argument("--height", type=int, default=256, help="the size the rows were evaluated at (for the report)")
    ap.add_argument("--width", type=int, default=192)
    ap.add_argument("--budget", default="", help="one line saying the training budget per row (for the report)")
    a = ap.parse_args(argv)
    root = Path(a.dir)
    if not root.is_dir():
        print(f"ablation: {root}: no such folder", file=sys.stderr)
        return 2
    rows = [row(root / name) for name in filter(None, a.rows.split(","))]
    for r in rows:
        for n in r["notes"]:
            print(f"ablation: {r['row']}: {n}", file=sys.stderr)
    md = "# Ablation (paper Table 2 on our data)\n\n"
    if a.budget:
        md += a.budget.strip() + "\n\n"
    md += f"Quality columns measured at {a.height}x{a.width}.\n\n" + table(rows)
    md += ("\nSSIM, PSNR and warp IoU: `python -m training eval` on the held-out synthetic test split (paired "
           "setting: the model sees the person wearing the garment, so a generator that copies its input scores "
           "well). Teacher input: the same with `--input-from TEACHER`, the model sees the teacher's try-on of the "
           "person in another garment and must give back the real person. Sizes: `python -m training count`. "
           "CPU FPS: `mgvton bench -json` field `model_fps` "
           "(warp + gen one frame after another, ONNX Runtime from Go, this machine's CPU).\n")
    (root / "ablation.md").write_text(md)
    (root / "ablation.json").write_text(json.dumps(rows, indent=1, default=str))
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
