"""Export: model folder per docs/model-contract.md, ONNX Runtime parity with PyTorch, atomic writes."""
from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
import torch

from training.export import GEN_IN, GEN_OUT, WARP_IN, WARP_OUT, export_checkpoints, ort_session, write_model_folder
from training.data.fake import FakeVitonHD
from training.train import TrainConfig, train


@pytest.fixture(scope="module")
def tiny_ckpts(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("exp")
    ds = FakeVitonHD(n=4, height=64, width=48)
    base = dict(model="student", arch="tiny", height=64, width=48, batch=2, steps=2, threads=1, lr=1e-3,
                sample_every=100, ckpt_every=100)
    w = train(TrainConfig(stage="warp", out=str(tmp / "w"), **base), ds)
    g = train(TrainConfig(stage="gen", out=str(tmp / "g"), warp_ckpt=w["checkpoint"], **base), ds)
    return w["checkpoint"], g["checkpoint"]


def test_export_contract_and_parity(tiny_ckpts, tmp_path):
    out = tmp_path / "models" / "tiny"
    m = export_checkpoints(tiny_ckpts[0], tiny_ckpts[1], str(out))
    assert sorted(p.name for p in out.iterdir()) == ["gen.onnx", "manifest.json", "warp.onnx"]
    man = json.loads((out / "manifest.json").read_text())
    assert man == json.loads(json.dumps(m, default=str))
    assert man["format"] == 1 and man["height"] == 64 and man["width"] == 48
    assert man["flow_align_corners"] is False
    prov = man["provenance"]
    assert prov["parity"]["max_abs_diff"] < 1e-3
    assert prov["warp_checkpoint"]["step"] == 2 and prov["architecture"]["arch"] == "tiny"
    assert prov["data"]["items"] == 4
    for stage, ins, outs in (("warp", WARP_IN, WARP_OUT), ("gen", GEN_IN, GEN_OUT)):
        st = man["stages"][stage]
        g = onnx.load(str(out / st["file"]))
        onnx.checker.check_model(g)
        assert g.opset_import[0].version == 17
        assert [i.name for i in g.graph.input] == list(ins) == [i["name"] for i in st["inputs"]]
        assert [o.name for o in g.graph.output] == list(outs) == [o["name"] for o in st["outputs"]]
        for decl, real in zip(st["inputs"] + st["outputs"], list(g.graph.input) + list(g.graph.output)):
            dims = [d.dim_value for d in real.type.tensor_type.shape.dim]
            assert dims == decl["shape"], (decl, dims)
            assert real.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    # the two graphs chain as the runtime runs them, and match the PyTorch model end to end
    ds = FakeVitonHD(n=1, height=64, width=48, seed=3)
    x = ds[0]
    feed = {"person": x["person"][None].numpy(), "garment": x["cloth"][None].numpy(),
            "garment_mask": x["cloth_mask"][None].numpy()}
    wo = ort_session(str(out / "warp.onnx")).run(None, feed)
    go = ort_session(str(out / "gen.onnx")).run(None, {"person": feed["person"], "warped_garment": wo[0],
                                                         "warped_mask": wo[1]})
    from training.checkpoint import model_from_checkpoint
    model = model_from_checkpoint(tiny_ckpts[1]).eval()
    with torch.no_grad():
        ref = model(*(torch.from_numpy(feed[k]) for k in WARP_IN))
    assert np.abs(go[0] - ref["tryon"].numpy()).max() < 1e-3


class _Trivial(torch.nn.Module):
    """Exports in a second: identity flow, garment passed through."""
    flow_align_corners = False

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(7, 4, 3, padding=1)

    def warp_forward(self, person, garment, garment_mask):
        b, _, h, w = person.shape
        from training.models.common import identity_grid, warp
        flow = identity_grid(b, h, w, like=person) + 0 * person[:, :2]  # keep the input in the graph
        return {"warped_garment": warp(garment, flow), "warped_mask": warp(garment_mask, flow), "flow": flow}

    def gen_forward(self, person, warped_garment, warped_mask):
        from training.models.mfg import compose_tryon
        tryon, _, m = compose_tryon(self.conv(torch.cat([person, warped_garment, warped_mask], 1)),
                                    warped_garment, warped_mask)
        return {"tryon": tryon, "composite_mask": m}


def test_export_fp16_keeps_fp32_io_and_records_its_difference(tiny_ckpts, tmp_path):
    from training.export import main

    out = tmp_path / "tiny16"
    assert main(["--ckpt", tiny_ckpts[0], "--gen-ckpt", tiny_ckpts[1], "--out", str(out), "--fp16"]) == 0
    prov = json.loads((out / "manifest.json").read_text())["provenance"]
    assert prov["precision"] == "fp16" and prov["parity"]["max_abs_diff"] < 1e-3  # fp32 graph vs PyTorch
    for stage, outs in (("warp", WARP_OUT), ("gen", GEN_OUT)):
        g = onnx.load(str(out / f"{stage}.onnx"))
        assert {i.type.tensor_type.elem_type for i in list(g.graph.input) + list(g.graph.output)} == \
            {onnx.TensorProto.FLOAT}
        assert any(t.data_type == onnx.TensorProto.FLOAT16 for t in g.graph.initializer)
        diff = prov["fp16_parity"]["per_output"][stage]
        assert set(diff) == set(outs)
        # fp16 rounding, not a broken graph: the outputs live in [-1, 1]
        assert all(0 <= d["mean_abs"] < 0.05 for d in diff.values()), diff
    feed = {n: np.zeros((1, 1 if n.endswith("mask") else 3, 64, 48), np.float32) for n in WARP_IN}
    assert ort_session(str(out / "warp.onnx")).run(None, feed)[0].dtype == np.float32


def test_export_refuses_existing_folder_and_leaves_nothing_half_written(tiny_ckpts, tmp_path, monkeypatch):
    out = tmp_path / "m"
    out.mkdir()
    with pytest.raises(FileExistsError):
        export_checkpoints(tiny_ckpts[0], None, str(out))
    ok = tmp_path / "ok"
    write_model_folder(_Trivial(), ok, name="t", architecture="trivial", height=32, width=24, provenance={},
                       quiet=True)
    assert (ok / "manifest.json").is_file()

    import training.config as C

    def fail(*a, **k):
        raise OSError("disk full")

    # the final rename (training.config.atomic_dir) fails: nothing may be left behind
    monkeypatch.setattr(C.os, "replace", fail)
    target = tmp_path / "never"
    with pytest.raises(OSError):
        write_model_folder(_Trivial(), target, name="x", architecture="trivial", height=32, width=24,
                           provenance={}, quiet=True)
    assert not target.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".never")]


def test_export_refuses_teacher(tmp_path):
    ds = FakeVitonHD(n=2, height=64, width=48)
    t = train(TrainConfig(model="teacher", arch="tiny", stage="warp", out=str(tmp_path / "t"), height=64, width=48,
                          batch=2, steps=1, threads=1), ds)
    with pytest.raises(ValueError):
        export_checkpoints(t["checkpoint"], None, str(tmp_path / "x"))
