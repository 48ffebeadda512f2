"""Training: the loss falls, checkpoints round-trip, resume is exact, DDP runs (gloo, one process),
the teacher -> student distillation chain runs, run folders are never overwritten."""
from __future__ import annotations

import re
import socket
import subprocess
import sys

import pytest
import torch

from training.data.fake import FakeVitonHD
from training.tests.conftest import REPO
from training.checkpoint import load_checkpoint, model_from_checkpoint
from training.train import TrainConfig, train

SMALL = dict(arch="tiny", height=64, width=48, batch=4, lr=1e-3, lr_decay_frac=0.0, threads=1, log_every=10,
             sample_every=1000, ckpt_every=1000)


def _cfg(tmp_path, name, **kw):
    args = {**SMALL, "out": str(tmp_path / name), **kw}
    return TrainConfig(**args)


def test_student_warp_loss_falls(tmp_path):
    ds = FakeVitonHD(n=8, height=64, width=48)
    res = train(_cfg(tmp_path, "fall", model="student", stage="warp", steps=40), ds)
    totals = [h["total"] for h in res["history"]]
    first, last = sum(totals[:5]) / 5, sum(totals[-5:]) / 5
    assert last < 0.8 * first, (first, last)
    run = tmp_path / "fall"
    assert (run / "ckpt_last.pt").is_file() and (run / "losses.png").is_file()
    assert any((run / "samples").glob("*.png"))
    assert "samples/s" in (run / "log.txt").read_text()


def test_checkpoint_is_self_describing_and_resume_is_exact(tmp_path):
    ds = FakeVitonHD(n=8, height=64, width=48)
    straight = train(_cfg(tmp_path, "a", model="student", stage="warp", steps=6), ds)
    part = train(_cfg(tmp_path, "b", model="student", stage="warp", steps=6, stop_after=3), ds)
    ck = load_checkpoint(part["checkpoint"])
    assert ck["step"] == 3 and ck["model_config"]["arch"] == "tiny" and ck["train_config"]["batch"] == 4
    assert part["step"] == 3
    assert ck["data"]["items"] == 8 and "optimizer" in ck
    resumed = train(_cfg(tmp_path, "b", model="student", stage="warp", steps=6, resume=True), ds)
    assert resumed["step"] == 6
    a = load_checkpoint(straight["checkpoint"])["model"]
    b = load_checkpoint(resumed["checkpoint"])["model"]
    for k in a:
        assert torch.allclose(a[k].float(), b[k].float(), atol=1e-5), k
    # rebuilt from the checkpoint alone
    m = model_from_checkpoint(resumed["checkpoint"]).eval()
    x = ds[0]
    with torch.no_grad():
        out = m(x["person"][None], x["cloth"][None], x["cloth_mask"][None])
    assert out["tryon"].shape == (1, 3, 64, 48)


def test_run_folder_never_overwritten(tmp_path):
    ds = FakeVitonHD(n=4, height=64, width=48)
    r1 = train(_cfg(tmp_path, "same", model="student", stage="warp", steps=1), ds)
    r2 = train(_cfg(tmp_path, "same", model="student", stage="warp", steps=1), ds)
    assert r1["run_dir"] != r2["run_dir"] and r2["run_dir"].endswith("same-1")


def test_teacher_then_distilled_student(tmp_path):
    ds = FakeVitonHD(n=4, height=64, width=48)
    tw = train(_cfg(tmp_path, "tw", model="teacher", stage="warp", steps=2), ds)
    tg = train(_cfg(tmp_path, "tg", model="teacher", stage="gen", steps=2, warp_ckpt=tw["checkpoint"]), ds)
    sw = train(_cfg(tmp_path, "sw", model="student", stage="warp", steps=2, teacher=tg["checkpoint"]), ds)
    assert "distill" in sw["history"][-1] and 0 <= sw["history"][-1]["psi"] <= 1
    sg = train(_cfg(tmp_path, "sg", model="student", stage="gen", steps=2, teacher=tg["checkpoint"],
                    warp_ckpt=sw["checkpoint"]), ds)
    # the gen stage froze the warp part
    w0, w1 = load_checkpoint(sw["checkpoint"])["model"], load_checkpoint(sg["checkpoint"])["model"]
    assert all(torch.equal(w0[k], w1[k]) for k in w0 if not k.startswith("mfg."))
    assert any(not torch.equal(w0[k], w1[k]) for k in w0 if k.startswith("mfg.") and w0[k].is_floating_point())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ddp_single_process_gloo(tmp_path, monkeypatch):
    import torch.distributed as dist

    for k, v in {"LOCAL_RANK": "0", "RANK": "0", "WORLD_SIZE": "1", "MASTER_ADDR": "127.0.0.1",
                 "MASTER_PORT": str(_free_port())}.items():
        monkeypatch.setenv(k, v)
    ds = FakeVitonHD(n=4, height=64, width=48)
    try:
        res = train(_cfg(tmp_path, "ddp", model="student", stage="warp", steps=2), ds)
        assert dist.is_initialized() and dist.get_backend() == "gloo"
        assert res["step"] == 2
        ck = load_checkpoint(res["checkpoint"])
        assert not any(k.startswith("module.") for k in ck["model"])  # the bare model is saved, not the wrapper
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


@pytest.mark.skipif(int(torch.__version__.split(".")[0]) < 2,
                    reason="torchrun of Debian's torch 1.13 fails inside torch.distributed.elastic on Python 3.11; "
                           "the same launch is tested on PyTorch 2.x (make test-py-torch2)")
def test_torchrun_two_processes(tmp_path):
    """The real launcher: torchrun, 2 CPU processes over gloo, one shared run folder, one checkpoint."""
    fixture = REPO / "training" / "tests" / "fixtures" / "vitonhd_tiny"
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    cmd = torchrun + ["-m", "training", "train", "--model", "student", "--arch", "tiny", "--stage", "warp",
                      "--data", str(fixture), "--out", str(tmp_path / "ddp"), "--height", "64", "--width", "48",
                      "--batch", "1", "--steps", "3", "--threads", "1", "--log-every", "1"]
    r = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.count("done:") == 1 and "batch 1 x 2" in r.stdout
    assert [p.name for p in tmp_path.iterdir()] == ["ddp"]  # both ranks wrote into one folder
    assert load_checkpoint(str(tmp_path / "ddp" / "ckpt_last.pt"))["step"] == 3


def test_cli_on_generated_fixture(tmp_path):
    fixture = REPO / "training" / "tests" / "fixtures" / "vitonhd_tiny"
    if not fixture.is_dir():
        pytest.skip("fixture vitonhd_tiny not present")
    cmd = [sys.executable, "-m", "training", "train", "--model", "student", "--arch", "tiny", "--stage", "warp",
           "--data", str(fixture), "--out", str(tmp_path / "cli"), "--height", "64", "--width", "48",
           "--batch", "2", "--steps", "2", "--threads", "1", "--log-every", "1"]
    r = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "samples/s" in r.stdout
    ck = load_checkpoint(str(tmp_path / "cli" / "ckpt_last.pt"))
    assert ck["data"]["has_flow"] is True and ck["data"]["synth"]["generator"] == "training.data.synth"


def test_gen_stage_takes_the_architecture_from_the_warp_checkpoint(tmp_path, monkeypatch):
    ds = FakeVitonHD(n=4, height=64, width=48)
    w = train(_cfg(tmp_path, "w", model="student", stage="warp", steps=1), ds)
    from training.models import presets

    real = presets.student

    def changed(arch):  # today's preset differs from the one the warp stage was trained with
        cfg = real(arch)
        cfg.afen.corr_levels = 2
        return cfg

    monkeypatch.setattr(presets, "student", changed)
    g = train(_cfg(tmp_path, "g", model="student", stage="gen", steps=1, warp_ckpt=w["checkpoint"]), ds)
    assert load_checkpoint(g["checkpoint"])["model_config"]["config"]["afen"]["corr_levels"] == 3
    with pytest.raises(ValueError, match="holds a student tiny"):
        train(_cfg(tmp_path, "x", model="teacher", stage="gen", steps=1, warp_ckpt=w["checkpoint"]), ds)


def test_person_skip_is_chosen_before_the_generator_trains(tmp_path):
    ds = FakeVitonHD(n=4, height=64, width=48)
    w = train(_cfg(tmp_path, "w", model="student", stage="warp", steps=1), ds)
    g = train(_cfg(tmp_path, "g", model="student", stage="gen", steps=2, warp_ckpt=w["checkpoint"],
                   person_skip="on"), ds)
    assert load_checkpoint(g["checkpoint"])["model_config"]["config"]["person_skip"] is True
    m = model_from_checkpoint(g["checkpoint"]).eval()
    assert m.cfg.person_skip
    # a trained generator keeps the output form it was trained with
    with pytest.raises(ValueError, match="person_skip=True"):
        train(_cfg(tmp_path, "g2", model="student", stage="gen", steps=1, init=g["checkpoint"], person_skip="off"), ds)


def test_gen_init_fine_tunes_a_trained_generator_on_a_newer_warp(tmp_path):
    from training.checkpoint import generator_state
    from training.train import Trainer

    ds = FakeVitonHD(n=4, height=64, width=48)
    w1 = train(_cfg(tmp_path, "w1", model="student", stage="warp", steps=1), ds)
    g1 = train(_cfg(tmp_path, "g1", model="student", stage="gen", steps=2, warp_ckpt=w1["checkpoint"],
                    person_skip="on", flow_downsample=2), ds)
    w2 = train(_cfg(tmp_path, "w2", model="student", stage="warp", steps=2, seed=5, init=w1["checkpoint"],
                    flow_downsample=1), ds)
    t = Trainer(_cfg(tmp_path, "g2", model="student", stage="gen", steps=1, warp_ckpt=w2["checkpoint"],
                     gen_init=g1["checkpoint"], flow_downsample=2), ds)
    want_gen, want_warp = load_checkpoint(g1["checkpoint"])["model"], load_checkpoint(w2["checkpoint"])["model"]
    got = t.model.state_dict()
    gen_keys = generator_state(t.model, got).keys()
    assert gen_keys and len(gen_keys) < len(got)
    for k, v in got.items():  # the generator from g1, everything else (the warp) from w2
        assert torch.equal(v, (want_gen if k in gen_keys else want_warp)[k]), k
    assert t.model.cfg.person_skip and t.model.cfg.flow_downsample == 2
    # an interrupted run resumes from its own checkpoint, given the same arguments
    j = dict(model="student", stage="gen", steps=2, warp_ckpt=w2["checkpoint"], gen_init=g1["checkpoint"])
    train(_cfg(tmp_path, "j", stop_after=1, **j), ds)
    resumed = train(_cfg(tmp_path, "j", resume=True, **j), ds)
    straight = train(_cfg(tmp_path, "j-straight", **j), ds)
    assert resumed["step"] == 2
    a, b = load_checkpoint(straight["checkpoint"])["model"], load_checkpoint(resumed["checkpoint"])["model"]
    for k in a:
        assert torch.allclose(a[k].float(), b[k].float(), atol=1e-5), k
    # its output form stays the one it was trained with; the error names the checkpoint it came from
    want = f"{g1['checkpoint']} holds a generator trained with person_skip=True"
    with pytest.raises(ValueError, match=re.escape(want)):
        Trainer(_cfg(tmp_path, "x0", model="student", stage="gen", steps=1, warp_ckpt=w2["checkpoint"],
                     gen_init=g1["checkpoint"], person_skip="off"), ds)
    # a generator that never trained, or a run that is not a gen stage from a warp, is refused
    with pytest.raises(ValueError, match="untrained"):
        Trainer(_cfg(tmp_path, "x1", model="student", stage="gen", steps=1, warp_ckpt=w2["checkpoint"],
                     gen_init=w1["checkpoint"]), ds)
    with pytest.raises(ValueError, match="--gen-init is for a gen stage"):
        Trainer(_cfg(tmp_path, "x2", model="student", stage="warp", steps=1, gen_init=g1["checkpoint"]), ds)
    other = train(_cfg(tmp_path, "o", model="student", arch="mg-lite", stage="warp", steps=1), ds)
    with pytest.raises(ValueError, match="a different network"):
        Trainer(_cfg(tmp_path, "x3", model="student", arch="mg-lite", stage="gen", steps=1,
                     warp_ckpt=other["checkpoint"], gen_init=g1["checkpoint"]), ds)


def test_teacher_of_another_width_only_supplies_inputs(tmp_path):
    from training.losses import LossWeights

    ds = FakeVitonHD(n=4, height=64, width=48)
    tw = train(_cfg(tmp_path, "tw", model="teacher", stage="warp", steps=1), ds)
    tg = train(_cfg(tmp_path, "tg", model="teacher", stage="gen", steps=1, warp_ckpt=tw["checkpoint"]), ds)
    wide = dict(arch="mg-lite", teacher=tg["checkpoint"], model="student", stage="warp", steps=1)
    with pytest.raises(ValueError, match="distill=0"):
        train(_cfg(tmp_path, "sw", **wide), ds)
    sw = train(_cfg(tmp_path, "sw", weights=LossWeights(distill=0), **wide), ds)
    assert "distill" not in sw["history"][-1]


def test_flow_downsample_is_recorded_and_refused_for_the_teacher(tmp_path):
    ds = FakeVitonHD(n=4, height=64, width=48)
    w = train(_cfg(tmp_path, "w", model="student", stage="warp", steps=1, flow_downsample=2), ds)
    assert load_checkpoint(w["checkpoint"])["model_config"]["config"]["flow_downsample"] == 2
    with pytest.raises(ValueError, match="no such setting"):
        train(_cfg(tmp_path, "t", model="teacher", stage="warp", steps=1, flow_downsample=2), ds)


def test_self_recon_gives_the_real_person_as_input(tmp_path):
    from training.train import Trainer

    ds = FakeVitonHD(n=4, height=64, width=48)
    tw = train(_cfg(tmp_path, "tw", model="teacher", stage="warp", steps=1), ds)
    tg = train(_cfg(tmp_path, "tg", model="teacher", stage="gen", steps=1, warp_ckpt=tw["checkpoint"]), ds)
    batch = torch.utils.data.default_collate([ds[i] for i in range(4)])
    for stage in ("warp", "gen"):  # warp: the distilling path; gen: the teacher's try-on only
        ckpt = {"warp_ckpt": train(_cfg(tmp_path, "sw", model="student", stage="warp", steps=1), ds)["checkpoint"]} \
            if stage == "gen" else {}
        always = Trainer(_cfg(tmp_path, f"all-{stage}", model="student", stage=stage, steps=1, teacher=tg["checkpoint"],
                              self_recon=1.0, **ckpt), ds)
        never = Trainer(_cfg(tmp_path, f"none-{stage}", model="student", stage=stage, steps=1,
                             teacher=tg["checkpoint"], **ckpt), ds)
        assert torch.equal(always._inputs(batch)[0][0], batch["person"])
        t_img = never._inputs(batch)[0][0]
        assert not torch.equal(t_img, batch["person"])  # the teacher dressed them in another garment
    with pytest.raises(ValueError, match="needs --teacher"):
        Trainer(_cfg(tmp_path, "x", model="student", stage="warp", steps=1, self_recon=0.5), ds)
    with pytest.raises(ValueError, match="fraction"):
        Trainer(_cfg(tmp_path, "y", model="student", stage="warp", steps=1, teacher=tg["checkpoint"],
                     self_recon=1.5), ds)
