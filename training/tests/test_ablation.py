"""The ablation table is made from the reports and benchmarks on disk, and says where one is missing."""
from __future__ import annotations

import json

from training.ablation import main


def _metrics(path, ssim, iou, model):
    path.mkdir(parents=True)
    m = {"ssim": {"mean": ssim, "std": 0}, "psnr": {"mean": 20.0, "std": 0}, "warp_iou": {"mean": iou, "std": 0}}
    (path / "metrics.json").write_text(json.dumps({"metrics": m, "data": {"items": 3}, "model": model}))


def test_table_from_reports(tmp_path, capsys):
    _metrics(tmp_path / "mg" / "report", 0.9, 0.8, {"kind": "onnx", "architecture": "tiny"})
    _metrics(tmp_path / "mg" / "report-t", 0.7, 0.8, {"kind": "onnx", "architecture": "tiny"})
    (tmp_path / "mg" / "bench.json").write_text(json.dumps({"model_fps": 12.5}))
    _metrics(tmp_path / "naive" / "report", 0.8, 0.7, {"kind": "naive"})
    assert main(["--dir", str(tmp_path), "--rows", "mg,naive,gone", "--budget", "one step each"]) == 0
    md = (tmp_path / "ablation.md").read_text()
    assert "one step each" in md
    row = next(line for line in md.splitlines() if line.startswith("| mg |"))
    assert "0.900" in row and "0.700" in row and "12.50" in row
    rows = json.loads((tmp_path / "ablation.json").read_text())
    assert rows[0]["params"] > 0 and rows[1].get("params") is None
    assert "no " in capsys.readouterr().err  # the missing row is reported, not invented
