"""Loss terms: values on known cases, gating, and the perceptual fallback/loader."""
from __future__ import annotations

import logging

import torch

from training import losses as L
from training.models.common import identity_grid, offset_to_grid


def test_l1_mask():
    a, b = torch.zeros(1, 3, 4, 4), torch.ones(1, 3, 4, 4)
    m = torch.zeros(1, 1, 4, 4)
    m[..., :2, :] = 1
    assert L.l1(a, b) == 1
    b2 = b * (1 - m)  # equal inside the mask
    assert L.l1(a, b2, m) == 0


def test_second_order_smoothness():
    g = identity_grid(2, 16, 12)
    affine = g * 0.7 + 0.1
    smooth_id = L.second_order_smoothness(g)
    assert smooth_id < 1e-2  # only the Charbonnier floor eps^0.9
    assert torch.isclose(L.second_order_smoothness(affine), smooth_id, atol=1e-4)
    noisy = g + 0.05 * torch.randn_like(g)
    assert L.second_order_smoothness(noisy) > 10 * smooth_id


def test_flow_supervision_and_downsampling():
    g = offset_to_grid(torch.randn(1, 2, 16, 12))
    valid = torch.ones(1, 1, 16, 12)
    assert L.flow_supervision(g, g, valid) < 1e-7
    coarse, v = L.downsample_flow(identity_grid(1, 16, 12), valid, (4, 3))
    assert torch.allclose(coarse, identity_grid(1, 4, 3), atol=1e-6) and v.all()


def test_distillation_gated_by_psi():
    s = [torch.zeros(2, 4, 8, 6), torch.zeros(2, 4, 4, 3)]
    t = [torch.ones(2, 4, 8, 6), torch.ones(2, 4, 4, 3)]
    assert L.distillation(s, t, torch.zeros(2)) == 0
    full = L.distillation(s, t, torch.ones(2))
    half = L.distillation(s, t, torch.tensor([1.0, 0.0]))
    assert torch.isclose(full, torch.tensor(0.04 * 1 + 0.04 * 2)) and torch.isclose(half, full / 2)


def test_psi_gate_prefers_the_better_teacher():
    target = torch.zeros(2, 3, 8, 6)
    region = torch.ones(2, 1, 8, 6)
    teacher = torch.stack([torch.zeros(3, 8, 6), torch.ones(3, 8, 6)])  # good, bad
    student = torch.full((2, 3, 8, 6), 0.5)
    assert L.psi_gate(teacher, student, target, region).tolist() == [1.0, 0.0]


def test_perceptual_fallback_warns_once_and_has_gradient(caplog):
    L.PerceptualLoss._warned = False
    with caplog.at_level(logging.WARNING):
        p1 = L.PerceptualLoss(None)
        L.PerceptualLoss(None)
    msgs = [r.getMessage() for r in caplog.records if "VGG19 weights not available" in r.getMessage()]
    assert len(msgs) == 1 and "perceptual loss uses" in msgs[0]
    x = torch.rand(1, 3, 32, 24, requires_grad=True)
    y = torch.rand(1, 3, 32, 24)
    loss = p1(x * 2 - 1, y * 2 - 1)
    loss.backward()
    assert loss > 0 and x.grad.abs().sum() > 0
    assert p1(y, y) < 1e-4


def test_vgg19_loads_torchvision_layout(tmp_path):
    net = L.VGG19Features()
    sd = {k: torch.randn_like(v) for k, v in net.state_dict().items() if k.startswith("features.")}
    sd["classifier.0.weight"] = torch.zeros(2, 2)  # a full torchvision state dict has more; ignored
    path = tmp_path / "vgg19.pth"
    torch.save(sd, path)
    loss = L.PerceptualLoss(str(path))
    assert loss.vgg is not None
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    assert loss(x, x) == 0 and loss(x, -x) > 0


def test_warp_loss_prefers_the_true_flow(fake_batch):
    b = fake_batch
    h, w = b["person"].shape[-2:]
    crit = L.WarpLoss()

    def out_for(flow):
        flows = [torch.nn.functional.interpolate(flow, size=(h // 2 ** k, w // 2 ** k), mode="bilinear",
                                                 align_corners=False) for k in (3, 2, 1)]
        garment = b["cloth"] * b["cloth_mask"]
        return {"flow": flow, "flows": flows, "warped_garment": L.warp(garment, flow),
                "warped_mask": L.warp(b["cloth_mask"], flow)}

    true = crit(out_for(b["flow"]), b)
    ident = crit(out_for(identity_grid(2, h, w)), b)
    assert true["total"] < ident["total"]
    assert true["flow"] < ident["flow"] and true["l1"] < ident["l1"]


def test_distillation_pools_teacher_features_to_a_half_resolution_student():
    # flow_downsample 2: the student's pyramid levels are half the teacher's size; the teacher's are averaged
    s = [torch.zeros(1, 2, 4, 3)]
    t = [torch.arange(2 * 8 * 6, dtype=torch.float32).view(1, 2, 8, 6)]
    pooled = torch.nn.functional.avg_pool2d(t[0], 2)
    assert torch.isclose(L.distillation(s, t, torch.ones(1)), 0.04 * pooled.pow(2).mean())
