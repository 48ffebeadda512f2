"""MobileNetV2 perceptual loss: hash check, architecture vs the real weights, loss behaviour."""
import pytest
import torch

from training import perceptual as P
from training.losses import PerceptualLoss

WEIGHTS = P.default_weights_path()
needs_weights = pytest.mark.skipif(not WEIGHTS.is_file(), reason=f"{WEIGHTS} absent (scripts/setup.sh fetches it)")


def test_wrong_hash_is_refused_with_one_line(tmp_path):
    bad = tmp_path / P.FILE_NAME
    torch.save(P.MobileNetV2Features().features.state_dict(), bad)
    with pytest.raises(P.WeightsError) as e:
        P.load_mobilenet_v2(bad)
    msg = str(e.value)
    assert "\n" not in msg and str(bad) in msg and "sha256" in msg


def test_missing_file_names_it(tmp_path):
    with pytest.raises(P.WeightsError, match="not found"):
        P.load_mobilenet_v2(tmp_path / "nope.pth")
    assert P.try_load(tmp_path / "nope.pth") is None


def test_fallback_without_file(tmp_path):
    loss = PerceptualLoss(None, str(tmp_path / "absent.pth"))
    assert loss.mobilenet is None and "SSIM" in loss.kind


def test_architecture_shapes():
    net = P.MobileNetV2Features()
    fs = net(torch.zeros(1, 3, 64, 64))
    assert [f.shape[1] for f in fs] == [16, 24, 32, 96, 320]
    assert [f.shape[-1] for f in fs] == [32, 16, 8, 4, 2]


@needs_weights
def test_real_weights_load_and_keys_match():
    net = P.load_mobilenet_v2(WEIGHTS)
    sd = torch.load(str(WEIGHTS), map_location="cpu")
    k = "features.17.conv.2.weight"
    assert torch.equal(net.features.state_dict()[k[len("features."):]], sd[k])
    assert not any(p.requires_grad for p in net.parameters())


@needs_weights
def test_loss_zero_for_equal_grows_with_noise_and_backprops():
    loss = PerceptualLoss(None, str(WEIGHTS))
    assert loss.mobilenet is not None and "mobilenet_v2" in loss.kind
    g = torch.Generator().manual_seed(0)
    t = torch.rand(2, 3, 64, 48, generator=g) * 2 - 1
    small = (t + 0.05 * torch.randn(t.shape, generator=g)).clamp(-1, 1)
    big = (t + 0.4 * torch.randn(t.shape, generator=g)).clamp(-1, 1)
    assert float(loss(t, t)) < 1e-6
    assert 0 < float(loss(small, t)) < float(loss(big, t))
    x = small.clone().requires_grad_(True)
    loss(x, t).backward()
    assert x.grad is not None and float(x.grad.abs().sum()) > 0
    d = P.feature_distance(loss.mobilenet, torch.cat([t[:1], big[1:]]), t)
    assert d.shape == (2,) and float(d[0]) < 1e-6 < float(d[1])
    loss.train()  # batch-norm statistics must stay frozen
    assert not loss.mobilenet.net.training


def test_train_flag_selects_the_file():
    from training.train import parse_args
    base = ["--model", "student", "--stage", "warp", "--data", "d", "--out", "o"]
    assert parse_args(base + ["--mobilenet-weights", "auto"]).mobilenet_weights == str(P.default_weights_path())
    assert parse_args(base + ["--mobilenet-weights", "x.pth"]).mobilenet_weights == "x.pth"


@needs_weights
def test_warp_and_gen_losses_use_it():
    from training.losses import GenLoss, LossWeights, WarpLoss
    for cls in (WarpLoss, GenLoss):
        assert "mobilenet_v2" in cls(LossWeights(), None, str(WEIGHTS)).perceptual.kind
