"""Size table: the paper's figures for MG-VTON and the official DM-VTON student at 512x384."""
from __future__ import annotations

import json
import subprocess
import sys

import torch

from training.count import count_macs, count_params, measure
from training.tests.conftest import REPO


def _close(got: float, want: float, rel: float) -> bool:
    return abs(got - want) <= rel * want


def test_mg_paper_size():
    r = measure("mg", 512, 384)
    assert _close(r["params"], 9.36e6, 0.03), r
    assert _close(r["macs"], 140.00e9, 0.03), r
    assert _close(r["weights_mib"], 35.88, 0.03), r


def test_dmvton_baseline_size():
    r = measure("dmvton", 512, 384)
    assert _close(r["params"], 9_350_124, 0.01), r
    assert _close(r["macs"], 139.65e9, 0.01), r


def test_thop_rules_on_a_toy_net():
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1, groups=1), torch.nn.BatchNorm2d(8),
                              torch.nn.Conv2d(8, 8, 3, padding=1, groups=8), torch.nn.AdaptiveAvgPool2d(1),
                              torch.nn.Flatten(), torch.nn.Linear(8, 4))
    macs = count_macs(net, torch.zeros(1, 3, 4, 4))
    conv = 16 * 8 * 27 + 16 * 8 * 9
    bn = 4 * 8 * 16
    pool = (16 + 1) * 8
    assert macs == conv + bn + pool + 8 * 4
    assert count_params(net) == sum(p.numel() for p in net.parameters())


def test_count_cli_json():
    r = subprocess.run([sys.executable, "-m", "training", "count", "--arch", "mg-lite", "--height", "64",
                        "--width", "48", "--json"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert {"params", "macs", "weights_mib"} <= set(d)
    assert d["params"] > 0 and d["macs"] > 0
