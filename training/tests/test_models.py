"""Shape and gradient tests for every network block (timm tests/test_models.py style)."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from training.models import build, build_from_record, config_to_record, model_config, person_representation
from training.models.afen import AFEN
from training.models.common import (Correlation, convert_grid, correlation_reference, correlation_stacked,
                                    identity_grid, offset_to_grid, warp)
from training.models.mf import MF
from training.models.mfg import MFG
from training.models import presets
from training.models.uib import UIB, UIBConfig, VARIANTS


def _assert_all_grads(module: torch.nn.Module) -> None:
    missing = [n for n, p in module.named_parameters()
               if p.requires_grad and (p.grad is None or not torch.any(p.grad != 0))]
    assert not missing, f"parameters without gradient: {missing[:10]}"


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("stride", [1, 2])
def test_uib_shapes_and_grads(variant, stride):
    if variant == "ffn" and stride == 2:
        with pytest.raises(ValueError):
            UIBConfig(8, 16, variant, 2.0, stride)
        return
    block = UIB(UIBConfig(8, 16 if stride == 2 else 8, variant, 2.0, stride))
    x = torch.randn(2, 8, 16, 12, requires_grad=True)
    y = block(x)
    assert y.shape == (2, 16 if stride == 2 else 8, 16 // stride, 12 // stride)
    y.square().mean().backward()
    _assert_all_grads(block)
    assert block.use_residual == (stride == 1)


def test_uib_optional_layers_are_identity():
    b = UIB(UIBConfig(8, 8, "ffn", 2.0))
    assert isinstance(b.start_dw, torch.nn.Identity) and isinstance(b.middle_dw, torch.nn.Identity)
    b = UIB(UIBConfig(8, 8, "convnext", 2.0, 2))
    assert b.start_dw[0].stride == (2, 2) and isinstance(b.middle_dw, torch.nn.Identity)
    b = UIB(UIBConfig(8, 8, "extradw", 2.0, 2))
    assert b.start_dw[0].stride == (1, 1) and b.middle_dw[0].stride == (2, 2)


@pytest.mark.parametrize("arch", ["tiny", "mg-lite"])
def test_mf_pyramid(arch):
    cfg = presets.student(arch).person_mf
    mf = MF(cfg)
    x = torch.randn(2, 3, 64, 48)
    feats = mf(x)
    assert len(feats) == 5
    for k, f in enumerate(feats):
        assert f.shape[:2] == (2, cfg.fpn_channels)
        assert f.shape[-2] == 64 // 2 ** (k + 1)
    sum(f.square().mean() for f in feats).backward()
    _assert_all_grads(mf)


def test_afen_shapes_grads_and_identity_start():
    cfg = presets.student("tiny").afen
    afen = AFEN(cfg)
    c = cfg.fpn_channels

    def feats():
        return [torch.randn(2, c, 32 // 2 ** k, 24 // 2 ** k, requires_grad=True) for k in range(5)]

    pf, gf = feats(), feats()
    garment, mask = torch.randn(2, 3, 64, 48), torch.ones(2, 1, 64, 48)
    out = afen(pf, gf, garment, mask)
    assert out["flow"].shape == (2, 2, 64, 48)
    assert out["warped_garment"].shape == (2, 3, 64, 48) and out["warped_mask"].shape == (2, 1, 64, 48)
    assert [f.shape[-2] for f in out["flows"]] == [2, 4, 8, 16, 32]  # coarse first
    # small head init: the initial flow is close to the identity grid
    assert (out["flow"] - identity_grid(2, 64, 48)).abs().max() < 0.1
    (out["warped_garment"].mean() + sum(f.mean() for f in out["flows"])).backward()
    _assert_all_grads(afen)


def test_mfg_shapes_and_grads():
    mfg = MFG(presets.student("tiny").mfg)
    y = mfg(torch.randn(2, 7, 64, 48))
    assert y.shape == (2, 4, 64, 48)
    y.square().mean().backward()
    _assert_all_grads(mfg)


def test_mfg_paper_topology_matches_dmvton_unet():
    mfg = MFG(presets.student("mg").mfg)
    assert [u.out_channels for u in mfg.ups] == [96, 32, 24, 16]
    assert [b.cfg.in_channels for b in mfg.dec] == [192, 64, 48, 32]


OUT_KEYS = {"warped_garment", "warped_mask", "flow", "flows", "tryon", "rendered", "composite_mask",
            "person_feats", "garment_feats"}


@pytest.mark.parametrize("kind,arch,size", [("student", "tiny", (64, 48)), ("student", "mg-lite", (64, 48)),
                                            ("teacher", "tiny", (64, 48)), ("student", "dmvton", (64, 64)),
                                            ("student", "mg-mf", (64, 64))])
def test_full_model_train_eval_same_dict_and_grads(kind, arch, size):
    torch.manual_seed(0)
    cfg = model_config(kind, arch)
    if arch == "dmvton":
        cfg.fpn_channels = 32  # same topology, a fraction of the compute
    model = build(kind, cfg)
    h, w = size
    pc = model.person_channels
    x = (torch.rand(2, pc, h, w) * 2 - 1, torch.rand(2, 3, h, w) * 2 - 1, (torch.rand(2, 1, h, w) > 0.3).float())
    out = model(*x)
    assert OUT_KEYS <= set(out)
    assert out["tryon"].shape == (2, 3, h, w) and out["composite_mask"].shape == (2, 1, h, w)
    assert out["flow"].shape == (2, 2, h, w)
    loss = out["tryon"].mean() + out["warped_garment"].mean() + sum(f.mean() for f in out["person_feats"])
    loss.backward()
    _assert_all_grads(model)
    model.eval()
    with torch.no_grad():
        out_eval = model(*x)
    assert set(out_eval) == set(out)
    assert out_eval["tryon"].abs().max() <= 1.0


def test_teacher_blends_three_part_flows(fake_batch):
    model = build("teacher", model_config("teacher", "tiny")).eval()
    with torch.no_grad():
        out = model(person_representation(fake_batch), fake_batch["cloth"], fake_batch["cloth_mask"])
    w = out["part_weights"]
    assert w.shape == (2, 3, 64, 48)
    assert torch.allclose(w.sum(1), torch.ones(2, 64, 48), atol=1e-5)


def test_teacher_and_student_pyramids_are_comparable():
    for arch in ["mg", "mg-lite", "tiny"]:
        s, t = model_config("student", arch), model_config("teacher", arch)
        assert s.person_mf.fpn_channels == t.person_mf.fpn_channels == t.garment_mf.fpn_channels


def test_config_record_round_trip():
    for kind, arch in [("student", "mg-lite"), ("teacher", "tiny"), ("student", "dmvton")]:
        m = build(kind, model_config(kind, arch))
        rec = config_to_record(kind, arch, m.cfg)
        m2 = build_from_record(rec)
        assert m2.cfg == m.cfg


# ----------------------------------------------------------------------------- correlation


def test_correlation_matches_reference_and_gradcheck():
    torch.manual_seed(0)
    a = torch.randn(1, 3, 5, 4, dtype=torch.double, requires_grad=True)
    b = torch.randn(1, 3, 5, 4, dtype=torch.double, requires_grad=True)
    out = Correlation.apply(a, b, 3)
    ref = correlation_reference(a, b, 3)
    assert out.shape == (1, 49, 5, 4)
    assert torch.allclose(out, ref)
    # centre channel is the plain channel mean of the product
    assert torch.allclose(out[:, 24], (a * b).mean(1))
    assert torch.autograd.gradcheck(lambda x, y: Correlation.apply(x, y, 3), (a, b), fast_mode=True)
    g = torch.randn_like(out)
    ga, gb = torch.autograd.grad(out, (a, b), g)
    ra, rb = torch.autograd.grad(ref, (a, b), g)
    assert torch.allclose(ga, ra) and torch.allclose(gb, rb)


@pytest.mark.parametrize("rows", [0, 1, 2, 3, 7])
def test_correlation_stacked_matches_reference(rows):
    torch.manual_seed(2)
    a, b = torch.randn(2, 5, 6, 7), torch.randn(2, 5, 6, 7)
    ref = correlation_reference(a, b, 3)
    out = correlation_stacked(a, b, 3, rows=rows)
    assert out.shape == ref.shape == (2, 49, 6, 7)
    assert torch.allclose(out, ref, atol=1e-6), (out - ref).abs().max()


def test_correlation_stacked_splits_big_levels(monkeypatch):
    # a level bigger than the budget is cut into chunks of offset rows; the volume is the same
    import training.models.common as common

    torch.manual_seed(3)
    a, b = torch.randn(1, 4, 8, 8), torch.randn(1, 4, 8, 8)
    monkeypatch.setattr(common, "STACK_BUDGET_FLOATS", 3 * 7 * 4 * 8 * 8)  # 3 rows fit
    assert torch.allclose(common.correlation_stacked(a, b, 3), correlation_reference(a, b, 3), atol=1e-6)


def test_correlation_offset_convention():
    # second shifted right by 2 pixels: the best match for first(y, x) is second(y, x+2)
    torch.manual_seed(1)
    first = torch.randn(1, 16, 12, 12)
    second = torch.roll(first, shifts=2, dims=-1)
    out = correlation_reference(first, second)
    k = out[0, :, 4:8, 4:8].mean((1, 2)).argmax().item()
    assert k == 3 * 7 + (3 + 2)  # dy = 0, dx = +2


def test_offset_grid_conventions():
    off = torch.zeros(1, 2, 5, 4)
    off[:, 0] = 1.0  # one pixel to the right
    img = torch.arange(20.0).view(1, 1, 5, 4)
    for ac in (False, True):
        out = warp(img, offset_to_grid(off, ac), align_corners=ac)
        assert torch.allclose(out[..., :3], img[..., 1:])
    g = identity_grid(1, 5, 4, False)
    assert torch.allclose(convert_grid(convert_grid(g, False, True), True, False), g, atol=1e-6)
    assert torch.allclose(convert_grid(g, False, True), identity_grid(1, 5, 4, True), atol=1e-6)


def test_person_skip_renders_a_residual_over_the_person():
    cfg = model_config("student", "tiny")
    cfg.person_skip = True
    m = build("student", cfg).eval()
    torch.manual_seed(0)
    person = torch.rand(2, 3, 64, 48) * 2 - 1
    warped = torch.rand(2, 3, 64, 48) * 2 - 1
    wmask = torch.zeros(2, 1, 64, 48)  # nothing warped: the try-on is the rendered person
    with torch.no_grad():
        assert not torch.allclose(m.gen_forward(person, warped, wmask)["tryon"], person, atol=1e-2)
        m.start_from_person()  # zero RGB residual: the rendered image is the person as it is
        out = m.gen_forward(person, warped, wmask)
    assert torch.allclose(out["tryon"], person, atol=1e-6)
    cfg.person_skip = False
    plain = build("student", cfg).eval()
    for p in plain.mfg.parameters():
        torch.nn.init.zeros_(p)
    with torch.no_grad():
        assert torch.allclose(plain.gen_forward(person, warped, wmask)["tryon"], torch.zeros_like(person))


def test_mf_only_ablation_row_swaps_just_the_generator():
    from training.models.dmvton import MobileNetV2UNet

    mg, mf_only = build("student", model_config("student", "mg")), build("student", model_config("student", "mg-mf"))
    assert isinstance(mf_only.mfg, MobileNetV2UNet) and isinstance(mg.mfg, MFG)
    for part in ("person_mf", "garment_mf", "afen"):
        a, b = getattr(mg, part).state_dict(), getattr(mf_only, part).state_dict()
        assert {k: v.shape for k, v in a.items()} == {k: v.shape for k, v in b.items()}, part


def test_teacher_input_keeps_the_person_outside_both_garments():
    from training.models.teacher import keep_person

    person, tryon = torch.full((1, 3, 4, 4), 0.5), torch.full((1, 3, 4, 4), -0.5)
    region, comp = torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 4, 4)
    region[..., :2, :] = 1  # the old garment: top half
    comp[..., :, :2] = 1  # the new garment: left half
    t = keep_person({"tryon": tryon, "composite_mask": comp}, {"person": person, "garment_region": region})
    assert torch.equal(t[..., 2:, 2:], person[..., 2:, 2:])  # neither garment: the person's own pixels
    assert torch.equal(t[..., :2, :], tryon[..., :2, :]) and torch.equal(t[..., :, :2], tryon[..., :, :2])


def test_flow_at_half_resolution_matches_the_half_resolution_network():
    from training.models.common import resize_flow

    torch.manual_seed(0)
    cfg = model_config("student", "tiny")
    half = build("student", cfg).eval()
    cfg2 = model_config("student", "tiny")
    cfg2.flow_downsample = 2
    full = build("student", cfg2).eval()
    full.load_state_dict(half.state_dict())  # same weights, no new parameters
    person, garment = torch.rand(1, 3, 128, 96) * 2 - 1, torch.rand(1, 3, 128, 96) * 2 - 1
    mask = torch.zeros(1, 1, 128, 96)
    mask[..., 20:100, 16:80] = 1
    with torch.no_grad():
        small = half.warp_forward(F.avg_pool2d(person, 2), F.avg_pool2d(garment * mask, 2), F.avg_pool2d(mask, 2))
        big = full.warp_forward(person, garment, mask)
    assert big["flow"].shape[-2:] == (128, 96) and big["warped_garment"].shape[-2:] == (128, 96)
    assert torch.allclose(big["flow"], resize_flow(small["flow"], (128, 96)), atol=1e-5)
