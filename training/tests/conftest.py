"""Shared fixtures: a tiny in-memory dataset with exactly the keys of the data contract
(``training.data.fake.FakeVitonHD``), and ``synth_root``, a small dataset on disk made by
the synthetic generator (a generator failure fails the tests that use it).
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
