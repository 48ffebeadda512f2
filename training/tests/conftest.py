"""Shared fixtures: a tiny in-memory dataset with exactly the keys of the data contract
(``training.data.fake.FakeVitonHD``). When the data engineer's
``training.data`` and its synthetic generator exist, ``synth_root`` generates a
real fixture on the fly; tests that need it skip otherwise.
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
    """A dataset written by the data engineer's generator (skips while it does not exist)."""
    try:
        import training.data  # noqa: F401
        import training.data.synth  # noqa: F401
    except Exception as e:  # the data package is someone else's and may not exist yet
        pytest.skip(f"training.data not available: {e}")
    out = tmp_path_factory.mktemp("synth") / "vitonhd"
    cmd = [sys.executable, "-m", "training", "synth", "--out", str(out), "--n", "6", "--seed", "0",
           "--height", "64", "--width", "48"]
    r = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        pytest.skip(f"synth failed: {r.stderr[-500:]}")
    return out
