"""import-dmvton: a randomly initialised DM-VTON saved in the official key format loads strictly and exports."""
from __future__ import annotations

import json

import pytest
import torch

from training.dmvton_import import SECOND_ORDER, load_official, main
from training.models.dmvton import DMVTON, DMVTONConfig

# a sample of the official state-dict keys (models/warp_modules/mobile_afwm.py, models/generators/mobile_unet.py)
OFFICIAL_WARP_KEYS = ["image_mobile.first_layer.0.weight", "cond_mobile.inverted_residual_blocks.1.0.conv.3.weight",
                      "cond_mobile.lateral_layers.4.bias", "image_mobile.smooth_layers.3.weight",
                      "image_mobile.top_layer.weight", "aflow_net.netMain.0.0.weight",
                      "aflow_net.netRefine.4.6.bias"]
OFFICIAL_GEN_KEYS = ["backbone.features.0.0.weight", "backbone.features.1.conv.0.weight",
                     "backbone.features.2.conv.7.running_var", "backbone.features.8.1.bias", "dconv1.weight",
                     "invres4.conv.7.weight", "conv_last.weight"]


@pytest.fixture(scope="module")
def official_files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dmvton")
    torch.manual_seed(0)
    ref = DMVTON(DMVTONConfig())
    warp_sd = dict(ref.warp_model.state_dict())
    warp_sd["aflow_net.weight"] = SECOND_ORDER.clone()  # what a training-phase forward leaves in the official dict
    torch.save({"epoch": 3, "model": warp_sd, "optimizer": {}}, tmp / "dmvton_pf_warp.pt")
    torch.save({f"module.{k}": v for k, v in ref.gen_model.state_dict().items()}, tmp / "dmvton_pf_gen.pt")
    return tmp, ref


def test_official_key_names():
    m = DMVTON(DMVTONConfig())
    wk, gk = set(m.warp_model.state_dict()), set(m.gen_model.state_dict())
    assert set(OFFICIAL_WARP_KEYS) - {"aflow_net.weight"} <= wk
    assert set(OFFICIAL_GEN_KEYS) <= gk
    assert sum(p.numel() for p in m.parameters()) == 9_350_124


def test_strict_load_matches_reference(official_files):
    tmp, ref = official_files
    model, notes = load_official(str(tmp / "dmvton_pf_warp.pt"), str(tmp / "dmvton_pf_gen.pt"))
    assert any("aflow_net.weight" in n for n in notes) and any("module." in n for n in notes)
    for k, v in ref.state_dict().items():
        assert torch.equal(model.state_dict()[k], v), k
    bad = dict(ref.gen_model.state_dict())
    bad["extra.weight"] = torch.zeros(1)
    torch.save(bad, tmp / "bad_gen.pt")
    with pytest.raises(ValueError, match="official layout"):
        load_official(str(tmp / "dmvton_pf_warp.pt"), str(tmp / "bad_gen.pt"))


def test_import_cli_exports_model_folder(official_files, tmp_path):
    tmp, _ = official_files
    out = tmp_path / "dmvton"
    rc = main(["--warp", str(tmp / "dmvton_pf_warp.pt"), "--gen", str(tmp / "dmvton_pf_gen.pt"), "--out", str(out),
               "--height", "64", "--width", "64", "--save-ckpt", str(tmp_path / "dmvton.pt")])
    assert rc == 0
    man = json.loads((out / "manifest.json").read_text())
    assert man["architecture"] == "dmvton" and man["flow_align_corners"] is True
    assert man["provenance"]["parity"]["max_abs_diff"] < 1e-3
    assert man["provenance"]["params"] == 9_350_124
    # the graph holds the stacked cost volume (one grouped 1x1 Conv per pyramid level), not 49 slices' Convs;
    # the parity above compares it with the eager model's 49-slice volume (the official semantics)
    import onnx
    g = onnx.load(str(out / "warp.onnx")).graph
    groups = [a.i for n in g.node if n.op_type == "Conv" for a in n.attribute if a.name == "group"]
    assert groups.count(49) == 5, groups
    from training.checkpoint import model_from_checkpoint
    assert isinstance(model_from_checkpoint(str(tmp_path / "dmvton.pt")), DMVTON)


# --- the official training format, loaded safely ---------------------------------------

def _official_training_ckpt(sd, path, best_fid, protocol=2):
    """What the official train_*.py scripts write: the weights with the epoch, the best FID
    (a NumPy float from pytorch-fid) and the Adam optimizer state (floats, tuples, tensors)."""
    import numpy as np
    params = [torch.nn.Parameter(torch.zeros(2, 2))]
    opt = torch.optim.Adam(params, lr=5e-5, betas=(0.5, 0.999))
    params[0].grad = torch.ones(2, 2)
    opt.step()
    torch.save({"epoch": 100, "best_fid": np.float64(best_fid), "model": sd, "optimizer": opt.state_dict()}, path,
               pickle_protocol=protocol)


@pytest.mark.parametrize("protocol", [2, 4])
def test_official_training_checkpoints_load_without_trust(official_files, tmp_path, protocol):
    tmp, ref = official_files
    _official_training_ckpt(dict(ref.warp_model.state_dict()), tmp_path / "pf_warp_best.pt", 12.34, protocol)
    _official_training_ckpt(dict(ref.gen_model.state_dict()), tmp_path / "pf_gen_best.pt", 12.34, protocol)
    model, notes = load_official(str(tmp_path / "pf_warp_best.pt"), str(tmp_path / "pf_gen_best.pt"))
    for k, v in ref.state_dict().items():
        assert torch.equal(model.state_dict()[k], v), k
    assert any("epoch 100, best FID 12.340; optimizer state ignored" in n for n in notes), notes


class _Boom:
    def __reduce__(self):
        import os
        return (os.system, ("echo unpickled >&2",))


@pytest.mark.parametrize("protocol", [2, 4])  # GLOBAL (torch.save's default), STACK_GLOBAL
def test_code_in_a_checkpoint_is_refused_by_name(official_files, tmp_path, capsys, protocol):
    tmp, ref = official_files
    torch.save({"epoch": 1, "model": dict(ref.warp_model.state_dict()), "hook": _Boom()}, tmp_path / "evil.pt",
               pickle_protocol=protocol)
    with pytest.raises(ValueError) as e:
        load_official(str(tmp_path / "evil.pt"), str(tmp / "dmvton_pf_gen.pt"))
    msg = str(e.value)
    assert "evil.pt" in msg and ("posix.system" in msg or "os.system" in msg) and "--trust-checkpoint" in msg, msg
    assert "unpickled" not in capsys.readouterr().err
    # the command says the same in one line and exits 2
    rc = main(["--warp", str(tmp_path / "evil.pt"), "--gen", str(tmp / "dmvton_pf_gen.pt"),
               "--out", str(tmp_path / "m")])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "--trust-checkpoint" in err, err
    assert not (tmp_path / "m").exists()


def test_garbage_is_not_a_checkpoint(official_files, tmp_path):
    tmp, _ = official_files
    (tmp_path / "junk.pt").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ValueError, match="junk.pt: not a PyTorch checkpoint"):
        load_official(str(tmp_path / "junk.pt"), str(tmp / "dmvton_pf_gen.pt"))


# --- --no-align-corners: the official semantics ----------------------------------------

def _apply_offset_official(offset):
    """The official apply_offset, written from its definition: pixel grid plus offset,
    normalised by (size - 1) / 2 - whatever align_corners the model was built with."""
    b, _, h, w = offset.shape
    ys, xs = torch.meshgrid(torch.arange(h, dtype=offset.dtype), torch.arange(w, dtype=offset.dtype), indexing="ij")
    gx = (xs.unsqueeze(0) + offset[:, 0]) / ((w - 1.0) / 2.0) - 1.0
    gy = (ys.unsqueeze(0) + offset[:, 1]) / ((h - 1.0) / 2.0) - 1.0
    return torch.stack([gx, gy], dim=-1)  # (B, H, W, 2)


def _aflownet_official(net, x_warps, x_conds, align_corners):
    """The official AFlowNet test-phase forward (models/warp_modules/mobile_afwm.py), step by
    step with F.grid_sample, using ``net``'s layers and cost volume."""
    import torch.nn.functional as F
    last_flow = None
    n = len(x_warps)
    for i in range(n):
        x_warp, x_cond = x_warps[n - 1 - i], x_conds[n - 1 - i]
        x_after = x_warp if last_flow is None else F.grid_sample(
            x_warp, last_flow.permute(0, 2, 3, 1), mode="bilinear", padding_mode="border", align_corners=align_corners)
        corr = F.leaky_relu(net.cost(x_after, x_cond), 0.1)
        flow = _apply_offset_official(net.netMain[i](corr))
        if last_flow is not None:
            flow = F.grid_sample(last_flow, flow, mode="bilinear", padding_mode="border", align_corners=align_corners)
        else:
            flow = flow.permute(0, 3, 1, 2)
        last_flow = flow
        x_w = F.grid_sample(x_warp, flow.permute(0, 2, 3, 1), mode="bilinear", padding_mode="border",
                            align_corners=align_corners)
        flow = _apply_offset_official(net.netRefine[i](torch.cat([x_w, x_cond], 1)))
        flow = F.grid_sample(last_flow, flow, mode="bilinear", padding_mode="border", align_corners=align_corners)
        last_flow = F.interpolate(flow, scale_factor=2, mode="bilinear", align_corners=False)
    return last_flow


@pytest.mark.parametrize("align_corners", [True, False])
def test_flow_matches_the_official_semantics(align_corners):
    torch.manual_seed(3)
    m = DMVTON(DMVTONConfig(align_corners=align_corners)).eval()
    net = m.warp_model.aflow_net
    with torch.no_grad():
        for head in list(net.netMain) + list(net.netRefine):  # offsets of a few pixels, not ~0
            head[-1].weight.mul_(20.0)
        person, garment = torch.rand(1, 3, 64, 64) * 2 - 1, torch.rand(1, 3, 64, 64) * 2 - 1
        cond = m.warp_model.cond_mobile(person)
        image = m.warp_model.image_mobile(garment)
        got, _ = net(image, cond)
        want = _aflownet_official(net, image, cond, align_corners)
        # the offsets moved the grid by pixels, so a convention slip would show
        ident = _apply_offset_official(torch.zeros(1, 2, 64, 64)).permute(0, 3, 1, 2)
        assert (want - ident).abs().max() > 0.05
    assert torch.allclose(got, want, atol=1e-5), (got - want).abs().max().item()
