"""recover: a model folder's graphs back to a checkpoint that reproduces them and trains with frozen BatchNorm."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn as nn

from training.checkpoint import load_checkpoint
from training.data.fake import FakeVitonHD
from training.export import GEN_IN, WARP_IN, GenGraph, WarpGraph, example_inputs
from training.models import config_to_record, model_config
from training.recover import main as recover_main, recover
from training.train import TrainConfig, train


def test_recovered_network_matches_the_original_and_the_graphs(tiny_model_dir):
    orig, folder = tiny_model_dir
    got, rec, parity = recover(str(folder))
    assert parity < 1e-4
    assert rec["arch"] == "tiny"
    man = json.loads((folder / "manifest.json").read_text())
    h, w = man["height"], man["width"]
    for wrap, ins in ((WarpGraph, WARP_IN), (GenGraph, GEN_IN)):
        x = example_inputs(ins, h, w, seed=11)  # not the inputs recover checked itself on
        with torch.no_grad():
            for a, b in zip(wrap(orig)(*x), wrap(got.eval())(*x)):
                assert torch.allclose(a, b, atol=1e-4)
    # the folding really happened: the recovered BNs are identities that add the fused bias
    bns = [m for m in got.modules() if isinstance(m, nn.BatchNorm2d)]
    assert bns and all(torch.all(m.weight == 1) and torch.all(m.running_mean == 0) for m in bns)


def test_a_wrong_graph_is_refused(tiny_model_dir, tmp_path):
    _, folder = tiny_model_dir
    bad = tmp_path / "bad"
    bad.mkdir()
    for name in ("warp.onnx", "gen.onnx"):
        (bad / name).write_bytes((folder / name).read_bytes())
    man = json.loads((folder / "manifest.json").read_text())
    man["provenance"]["architecture"] = config_to_record("student", "mg-lite", model_config("student", "mg-lite"))
    (bad / "manifest.json").write_text(json.dumps(man))
    with pytest.raises(ValueError, match="gen.onnx|warp.onnx"):
        recover(str(bad))


def test_cli_writes_a_checkpoint_that_fine_tunes_with_frozen_bn(tiny_model_dir, tmp_path, capsys):
    _, folder = tiny_model_dir
    out = tmp_path / "rec.pt"
    assert recover_main(["--model", str(folder), "--out", str(out)]) == 0
    assert "frozen-bn" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="exists"):
        recover_main(["--model", str(folder), "--out", str(out)])
    ck = load_checkpoint(str(out))
    assert ck["train_config"]["frozen_bn"] is True
    before = {k: v.clone() for k, v in ck["model"].items() if "running_" in k}
    ds = FakeVitonHD(n=4, height=64, width=48)
    res = train(TrainConfig(model="student", arch="tiny", stage="warp", out=str(tmp_path / "w"), init=str(out),
                            height=64, width=48, batch=2, steps=2, threads=1, lr=1e-3, sample_every=100,
                            ckpt_every=100), ds)
    after = load_checkpoint(res["checkpoint"])
    assert after["train_config"]["frozen_bn"] is True  # carried on without the flag
    for k, v in before.items():
        assert torch.equal(after["model"][k], v), k  # batch statistics did not move the folded BNs
    assert not all(np.array_equal(after["model"][k].numpy(), ck["model"][k].numpy())
                   for k in ck["model"] if k.startswith("afen") and k.endswith("weight"))
