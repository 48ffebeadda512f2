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


def test_import_cli_exports_model_folder(official_files, tmp_path, monkeypatch):
    import training.models.common as common

    monkeypatch.setattr(common, "EXPORT_COST_VOLUME", "stacked")  # the faster-graph candidate, checked below
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
