"""Evaluation: metrics on known cases, weight-file loaders, the report on the generated fixture."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from training import metrics as M
from training.tests.conftest import REPO

FIXTURE = REPO / "training" / "tests" / "fixtures" / "vitonhd_tiny"


def test_ssim_psnr_known_values():
    a = torch.rand(2, 3, 32, 24)
    assert torch.allclose(M.ssim(a, a), torch.ones(2), atol=1e-5)
    assert (M.ssim(a, 1 - a) < 0.5).all()
    b = (a + 0.1).clamp(0, 1)
    assert (M.psnr(a, b) > 19).all() and (M.psnr(a, b) < 21).all()


def test_frechet_distance():
    rng = np.random.default_rng(0)
    f = rng.normal(size=(500, 8))
    assert abs(M.frechet_distance(f, f)) < 1e-6
    shifted = M.frechet_distance(f, f + 1.0)
    assert abs(shifted - 8.0) < 0.5  # |mu1 - mu2|^2 = 8, same covariance


def test_fid_and_lpips_load_official_layouts(tmp_path):
    fid = M.FIDInception()
    sd = {k: torch.randn_like(v) * 0.01 if v.is_floating_point() else v for k, v in fid.state_dict().items()}
    sd["fc.weight"], sd["fc.bias"] = torch.zeros(1008, 2048), torch.zeros(1008)
    torch.save(sd, tmp_path / "pt_inception.pth")
    net = M.FIDInception.from_file(str(tmp_path / "pt_inception.pth"))
    with torch.no_grad():
        assert net(torch.rand(1, 3, 64, 48)).shape == (1, 2048)

    lp = M.LPIPS()
    torch.save({f"features.{k}": v for k, v in lp.features.state_dict().items()}, tmp_path / "vgg16.pth")
    torch.save({f"lin{k}.model.1.weight": torch.rand(1, c, 1, 1) for k, c in enumerate(M.LPIPS_CHANNELS)},
               tmp_path / "lpips_vgg.pth")
    net = M.LPIPS.from_files(str(tmp_path / "vgg16.pth"), str(tmp_path / "lpips_vgg.pth"))
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(net(x, x), torch.zeros(2)) and (net(x, -x) > 0).all()


@pytest.mark.skipif(not FIXTURE.is_dir(), reason="fixture vitonhd_tiny not present")
def test_eval_naive_report(tmp_path):
    from training.evaluate import evaluate

    r = evaluate("naive", str(FIXTURE), "test", str(tmp_path / "rep"), height=64, width=48, quiet=True)
    out = tmp_path / "rep"
    assert {p.name for p in out.iterdir()} == {"report.md", "metrics.json", "samples.png", "worst.png"}
    md = (out / "report.md").read_text()
    assert "SSIM" in md and "weights not available" in md
    m = json.loads((out / "metrics.json").read_text())["metrics"]
    assert 0 < m["ssim"]["mean"] <= 1 and 0 <= m["warp_iou"]["mean"] <= 1
    assert r["data"]["items"] == 2
    with pytest.raises(FileExistsError):
        evaluate("naive", str(FIXTURE), "test", str(out), height=64, width=48, quiet=True)


@pytest.mark.skipif(not FIXTURE.is_dir(), reason="fixture vitonhd_tiny not present")
def test_eval_checkpoint(tmp_path):
    from training.evaluate import evaluate
    from training.data.fake import FakeVitonHD
    from training.train import TrainConfig, train

    ck = train(TrainConfig(model="student", arch="tiny", stage="warp", out=str(tmp_path / "run"), height=64,
                           width=48, batch=2, steps=1, threads=1), FakeVitonHD(n=2))["checkpoint"]
    r = evaluate(ck, str(FIXTURE), "test", str(tmp_path / "rep"), quiet=True)
    assert r["model"]["architecture"] == "tiny" and r["data"]["height"] == 64
    # the fixture has exact garment flow: an untrained warp is pixels off it
    assert r["metrics"]["flow_epe"]["mean"] > 0.5 and len(r["per_image"]["flow_epe"]) == r["data"]["items"]


@pytest.mark.skipif(not FIXTURE.is_dir(), reason="fixture vitonhd_tiny not present")
def test_eval_teacher_input_setting(tmp_path):
    from training.evaluate import evaluate
    from training.data.fake import FakeVitonHD
    from training.train import TrainConfig, train

    small = dict(arch="tiny", height=64, width=48, batch=2, steps=1, threads=1)
    ds = FakeVitonHD(n=2)
    tw = train(TrainConfig(model="teacher", stage="warp", out=str(tmp_path / "tw"), **small), ds)["checkpoint"]
    tg = train(TrainConfig(model="teacher", stage="gen", warp_ckpt=tw, out=str(tmp_path / "tg"), **small),
               ds)["checkpoint"]
    paired = evaluate("naive", str(FIXTURE), "test", str(tmp_path / "a"), height=64, width=48, quiet=True)
    dressed = evaluate("naive", str(FIXTURE), "test", str(tmp_path / "b"), height=64, width=48, quiet=True,
                       input_from=tg)
    # the untrained teacher's try-on is a poor picture of the person: pasting onto it scores lower
    assert dressed["metrics"]["ssim"]["mean"] < paired["metrics"]["ssim"]["mean"]
    assert "teacher" in dressed["data"]["input"] and "teacher" in (tmp_path / "b" / "report.md").read_text()
    with pytest.raises(ValueError, match="not a teacher"):
        student = train(TrainConfig(model="student", stage="warp", out=str(tmp_path / "s"), **small), ds)
        evaluate("naive", str(FIXTURE), "test", str(tmp_path / "c"), height=64, width=48, quiet=True,
                 input_from=student["checkpoint"])


def test_compare_reports_per_image(tmp_path, capsys):
    from training.compare import compare, load_report, main

    def report(name, ssim, iou):
        d = tmp_path / name
        d.mkdir()
        per = {"name": ["a", "b", "c", "d"], "ssim": ssim, "warp_iou": iou}
        (d / "metrics.json").write_text(json.dumps({"per_image": per}))
        return str(d)

    a = report("model", [0.9, 0.8, 0.7, 0.6], [0.5, 0.5, 0.5, 0.5])
    b = report("naive", [0.8, 0.8, 0.5, 0.7], [0.5, 0.5, 0.5, 0.5])
    r = compare(load_report(a), load_report(b))
    d = np.array([0.1, 0.0, 0.2, -0.1])
    assert r["ssim"]["mean"] == pytest.approx(d.mean())
    assert r["ssim"]["se"] == pytest.approx(d.std(ddof=1) / 2)
    assert r["ssim"]["better"] == 2 and r["ssim"]["n"] == 4
    assert r["warp_iou"] == {"mean": 0.0, "se": 0.0, "n": 4, "better": 0}
    other = tmp_path / "other"
    other.mkdir()
    (other / "metrics.json").write_text(json.dumps({"per_image": {"name": ["x"], "ssim": [1.0]}}))
    assert main([a, str(other)]) == 2 and "different images" in capsys.readouterr().err
    assert main([a, str(tmp_path / "missing")]) == 2 and "no metrics.json or report.json" in capsys.readouterr().err


def test_compare_realeval_reports_skips_pictures_without_a_person(tmp_path):
    from training.compare import compare, load_report

    def report(name, cover, outside, found):
        d = tmp_path / name
        d.mkdir()
        frames = [{"name": n, "person_found": f, "torso_coverage": c if f else 0, "garment_outside_person": o,
                   "torso_replaced": c, "face_ssim": 1.0} for n, c, o, f in zip("abc", cover, outside, found)]
        (d / "report.json").write_text(json.dumps({"input": "x", "summary": {}, "frames": frames}))
        return str(d)

    a = report("new", [0.9, 0.8, 0.7], [0.05, 0.10, 0.2], [True, True, False])
    b = report("old", [0.8, 0.8, 0.1], [0.10, 0.10, 0.1], [True, True, True])
    r = compare(load_report(a), load_report(b))
    assert r["torso_coverage"]["n"] == 2 and r["torso_coverage"]["mean"] == pytest.approx(0.05)
    assert r["torso_coverage"]["better"] == 1
    assert r["garment_outside_person"]["mean"] == pytest.approx(-0.025)
    assert r["garment_outside_person"]["better"] == 1  # lower is better


def test_flow_epe_in_pixels():
    h, w = 8, 6
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32),
                            indexing="ij")
    true = torch.stack([(2 * xs + 1) / w - 1, (2 * ys + 1) / h - 1])[None]  # identity, align_corners=False
    assert torch.allclose(M.grid_to_pixels(true, False)[0, 0], xs, atol=1e-5)
    shifted = true.clone()
    shifted[:, 0] += 2 * 3 / w  # 3 pixels to the right
    valid = torch.ones(1, 1, h, w)
    assert torch.allclose(M.flow_epe(shifted, False, true, valid), torch.tensor([3.0]), atol=1e-4)
    # the same pixels in align_corners=True units: no error
    ident_ac = torch.stack([2 * xs / (w - 1) - 1, 2 * ys / (h - 1) - 1])[None]
    assert M.flow_epe(ident_ac, True, true, valid).item() < 1e-4
    assert torch.isnan(M.flow_epe(shifted, False, true, torch.zeros(1, 1, h, w))).all()


@pytest.mark.skipif(not FIXTURE.is_dir(), reason="fixture vitonhd_tiny not present")
def test_eval_exact_flow_is_the_warp_upper_bound(tmp_path):
    from training.evaluate import evaluate

    exact = evaluate("exact-flow", str(FIXTURE), "test", str(tmp_path / "x"), height=64, width=48, quiet=True)
    naive = evaluate("naive", str(FIXTURE), "test", str(tmp_path / "n"), height=64, width=48, quiet=True)
    assert exact["metrics"]["flow_epe"]["mean"] < 1e-3
    assert exact["metrics"]["ssim"]["mean"] > naive["metrics"]["ssim"]["mean"]
    assert "flow_epe" not in naive["metrics"]  # the naive paste has no flow
    assert "end-point error" in (tmp_path / "x" / "report.md").read_text()
