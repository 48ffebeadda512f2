"""Shared fixtures: a tiny in-memory dataset with exactly the keys of the data contract
(``training.data.fake.FakeVitonHD``), and ``synth_root``, a small dataset on disk made by
the synthetic generator (a generator failure fails the tests that use it), and ``tiny_model_dir``, an
exported model folder of the tiny student.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from training.data.fake import FakeVitonHD  # noqa: F401 - tests import it from here

# One intra-op thread: on a shared 2-core machine, OpenMP spin-waiting with 2 threads made
# small-tensor steps ~10x slower under load; tests are small, so one thread loses little.
torch.set_num_threads(1)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def fake_dataset():
    return FakeVitonHD(n=8, height=64, width=48)


@pytest.fixture
def fake_batch():
    ds = FakeVitonHD(n=2, height=64, width=48)
    return torch.utils.data.default_collate([ds[0], ds[1]])


@pytest.fixture(scope="session")
def synth_root(tmp_path_factory):
    """A small dataset written by the synthetic generator: 6 train and 2 test samples at 64x48."""
    out = tmp_path_factory.mktemp("synth") / "vitonhd"
    cmd = [sys.executable, "-m", "training", "synth", "--out", str(out), "--n", "8", "--seed", "0",
           "--test-fraction", "0.25", "--height", "64", "--width", "48", "--workers", "1", "--quiet"]
    r = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"synth failed: {r.stderr[-500:]}"
    return out


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """(network, folder): a tiny student with BatchNorm statistics far from identity (so the exporter's
    folding changes every conv before a BN), exported at 64x48 (``synth_root``'s size)."""
    import torch.nn as nn

    from training.checkpoint import atomic_save, make_checkpoint
    from training.export import export_checkpoints
    from training.models import build, config_to_record, model_config

    tmp = tmp_path_factory.mktemp("tiny-model")
    torch.manual_seed(0)
    cfg = model_config("student", "tiny")
    model = build("student", cfg)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    ck = tmp / "g.pt"
    atomic_save(make_checkpoint(config_to_record("student", "tiny", cfg), model.state_dict(), "gen", 1), ck)
    out = tmp / "model"
    export_checkpoints(str(ck), str(ck), str(out), height=64, width=48)
    return model.eval(), out
