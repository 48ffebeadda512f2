"""``python -m training train``: teacher training and student distillation, warp then gen stage.

The paper's schedule (MG-VTON Sec. 3.5, after PF-AFN/DM-VTON):

1. teacher, warp stage: the parser-based teacher learns to warp the garment c
   onto the person p it was photographed on (paired, full supervision);
2. teacher, gen stage: warp frozen, the generator learns to render p;
3. student, warp stage: the teacher dresses p in another garment c' -> t
   (no_grad); the parser-free student gets (t, c) and must warp c back onto p's
   body, with pyramid-feature distillation from the teacher's paired pass gated
   by psi;
4. student, gen stage: warp frozen, the student renders p from (t, c).

With the synthetic generator's exact correspondences, warp stages also get
direct flow supervision. Without ``--teacher`` the student is trained on the
person itself (self-reconstruction; it then tends to copy the worn garment) and
says so.

Run folders are never overwritten (a taken name gets a -1, -2 suffix) unless
``--resume`` continues the run in them. A checkpoint holds the model config, the
training config, the data description, the step, the optimizer and the RNG
states, and is written atomically. Multi-GPU: ``torchrun --nproc_per_node N -m
training train ...`` (DDP; gloo on CPU, nccl on CUDA).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import math
import os
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset
from torch.utils.data.distributed import DistributedSampler

from .checkpoint import atomic_save, generator_state, load_checkpoint, make_checkpoint, model_from_checkpoint
from .config import from_dict, to_dict
from .losses import GenLoss, LossWeights, WarpLoss
from .perceptual import default_weights_path as default_mobilenet
from .models import ARCHES, build, build_from_record, config_to_record, model_config, person_representation
from .models.teacher import keep_person
from .models.common import resize_flow
from . import viz

log = logging.getLogger("training.train")

@dataclass
class TrainConfig:
    model: str = "student"  # student | teacher
    arch: str = "mg-lite"  # mg | mg-lite | dmvton | tiny
    stage: str = "warp"  # warp | gen
    data: str = ""
    out: str = "runs/run"
    teacher: Optional[str] = None  # teacher checkpoint (gen stage) for distillation
    warp_ckpt: Optional[str] = None  # warp-stage checkpoint to start the gen stage from
    gen_init: Optional[str] = None  # gen stage: continue this checkpoint's generator on --warp-ckpt's warp
    init: Optional[str] = None  # start from these weights (any stage)
    height: int = 256
    width: int = 192
    batch: int = 8
    steps: int = 1000
    lr: float = 1e-4
    lr_decay_frac: float = 0.3  # linear decay to 0 over the last fraction of steps
    seed: int = 0
    resume: bool = False
    workers: int = -1  # -1: 0 on CPU, 4 on CUDA
    threads: int = 0  # 0: os.cpu_count()
    bf16: str = "auto"  # auto | on | off (CPU autocast); CUDA uses fp16 AMP
    channels_last: str = "auto"  # auto | on | off
    curriculum: float = 0.0  # fraction of steps trained at half resolution
    log_every: int = 10
    sample_every: int = 200
    ckpt_every: int = 200
    vgg_weights: Optional[str] = None
    mobilenet_weights: Optional[str] = None  # ImageNet MobileNetV2 perceptual loss (training/perceptual.py)
    weights: LossWeights = field(default_factory=LossWeights)
    max_items: int = 0  # 0: the whole split (tests use a few)
    person_skip: str = "keep"  # keep | on | off: generator residual over the person (gen stage from a warp ckpt)
    stop_after: int = 0  # stop (and checkpoint) after this step, the schedule still planned for ``steps``
    flow_downsample: int = 0  # 0: keep the network's; 1 or 2: estimate the flow at 1/N of the input (student)
    self_recon: float = 0.0  # student with a teacher: fraction of items whose input is the real person (paired)
    frozen_bn: bool = False  # every BatchNorm in eval mode (networks recovered from ONNX: BN folded in the convs)


# ------------------------------------------------------------------------------ distributed

@dataclass
class Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")
    enabled: bool = False

    @property
    def main(self) -> bool:
        return self.rank == 0


def setup_distributed() -> Dist:
    """DDP when launched by torchrun (LOCAL_RANK set); gloo on CPU, nccl on CUDA."""
    if "LOCAL_RANK" not in os.environ:
        dev = torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
        return Dist(device=dev)
    local = int(os.environ["LOCAL_RANK"])
    cuda = torch.cuda.is_available()
    if cuda:
        torch.cuda.set_device(local)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if cuda else "gloo")
    return Dist(rank=dist.get_rank(), world=dist.get_world_size(), local_rank=local,
                device=torch.device("cuda", local) if cuda else torch.device("cpu"), enabled=True)


class ResumableSampler(DistributedSampler):
    """DistributedSampler (same permutation per epoch and rank) that can skip the first ``skip`` indices of
    the current epoch, so a resumed run sees exactly the batches it would have seen."""

    def __init__(self, dataset, num_replicas: int, rank: int, seed: int):
        super().__init__(dataset, num_replicas=num_replicas, rank=rank, shuffle=True, seed=seed, drop_last=True)
        self.skip = 0

    def __iter__(self) -> Iterator[int]:
        idx = list(super().__iter__())
        return iter(idx[self.skip:])

    def __len__(self) -> int:
        return self.num_samples - self.skip


# ------------------------------------------------------------------------------ helpers

def cpu_has_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def unique_run_dir(path: Path) -> Path:
    if not path.exists():
        return path
    for i in range(1, 10000):
        p = path.with_name(f"{path.name}-{i}")
        if not p.exists():
            return p
    raise RuntimeError(f"train: no free run folder name next to {path}")


def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2 ** 32)
    torch.manual_seed(seed)


def describe_data(ds: Dataset, cfg: TrainConfig) -> Dict[str, Any]:
    d: Dict[str, Any] = {"root": str(getattr(ds, "root", cfg.data)), "split": getattr(ds, "split", "train"),
                         "items": len(ds), "height": cfg.height, "width": cfg.width, "pairs": "paired"}
    try:
        d["has_flow"] = bool(ds[0]["has_flow"])
    except Exception:  # noqa: BLE001 - descriptive only
        pass
    meta = Path(cfg.data) / "synth.json"
    if cfg.data and meta.is_file():
        d["synth"] = json.loads(meta.read_text())
    return d


def _to(batch: Dict[str, Any], device: torch.device, channels_last: bool) -> Dict[str, Any]:
    out = {}
    for k, v in batch.items():
        if torch.is_tensor(v):
            v = v.to(device, non_blocking=True)
            if channels_last and v.dim() == 4 and v.shape[1] > 1:
                v = v.contiguous(memory_format=torch.channels_last)
        out[k] = v
    return out


def resize_batch(batch: Dict[str, Any], size) -> Dict[str, Any]:
    """Downscale every image-like tensor (curriculum): images area, masks area + threshold, flows via the
    displacement, labels nearest."""
    out = dict(batch)
    for k, v in batch.items():
        if not torch.is_tensor(v) or v.dim() < 3:
            continue
        if k == "flow":
            out[k] = resize_flow(v, size)
        elif k == "parse":
            out[k] = F.interpolate(v[:, None].float(), size=size, mode="nearest")[:, 0].long()
        elif k in ("cloth_mask", "cloth_mask_unpaired", "garment_region", "flow_valid"):
            out[k] = (F.interpolate(v, size=size, mode="area") > (0.999 if k == "flow_valid" else 0.5)).to(v.dtype)
        elif v.dim() == 4:
            out[k] = F.interpolate(v, size=size, mode="area")
    return out


def lr_at(step: int, cfg: TrainConfig) -> float:
    start = int(cfg.steps * (1 - cfg.lr_decay_frac))
    if step < start or cfg.lr_decay_frac <= 0:
        return cfg.lr
    return cfg.lr * max(0.0, (cfg.steps - step) / max(1, cfg.steps - start))


def set_stage(model: nn.Module, stage: str) -> List[nn.Parameter]:
    """Freeze the part the stage does not train; return the trainable parameters."""
    train_mods = model.warp_modules() if stage == "warp" else model.gen_modules()
    frozen_mods = model.gen_modules() if stage == "warp" else model.warp_modules()
    for m in frozen_mods:
        for p in m.parameters():
            p.requires_grad_(False)
    params = []
    for m in train_mods:
        for p in m.parameters():
            p.requires_grad_(True)
            params.append(p)
    return params


class StageForward(nn.Module):
    """What one training stage runs (and what DDP wraps).

    warp stage: ``warp_forward`` only - the generator is frozen and its output
    unused, so it is not computed (it was a quarter of the lite student's MACs).
    gen stage: the frozen warp under ``no_grad``, then ``gen_forward``. The
    networks' own ``forward`` (both stages, same dict) is what export and eval use.
    """

    def __init__(self, model: nn.Module, stage: str):
        super().__init__()
        self.model = model
        self.stage = stage

    def forward(self, person, garment, garment_mask):
        if self.stage == "warp":
            return self.model.warp_forward(person, garment, garment_mask)
        with torch.no_grad():
            out = self.model.warp_forward(person, garment, garment_mask)
        out.update(self.model.gen_forward(person, out["warped_garment"], out["warped_mask"]))
        return out


def train_mode(model: nn.Module, stage: str, frozen_bn: bool = False) -> None:
    model.train()
    for m in (model.gen_modules() if stage == "warp" else model.warp_modules()):
        m.eval()  # frozen BatchNorm statistics stay put
    if frozen_bn:  # batch statistics would undo BatchNorms folded into the convolutions before them
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.eval()


# ------------------------------------------------------------------------------ the run

class Trainer:
    """One training run: ``__init__`` sets it up (each concern in its own method, in the order they depend on
    each other), ``run`` trains, ``checkpoint`` writes the run's state."""

    def __init__(self, cfg: TrainConfig, dataset: Optional[Dataset] = None):
        self.cfg = cfg
        self.dist = setup_distributed()
        self.device = self.dist.device
        self._setup_precision()
        resume_from = self._setup_run_dir()
        self._setup_data(dataset)
        self._setup_model(resume_from)
        self._setup_teacher()
        self.loss = (WarpLoss(cfg.weights, cfg.vgg_weights, cfg.mobilenet_weights) if cfg.stage == "warp"
                     else GenLoss(cfg.weights, cfg.vgg_weights, cfg.mobilenet_weights)).to(self.device)
        if resume_from is not None:
            self._resume(resume_from)
        if self.dist.main:  # only once everything above validated: a failed start leaves no empty run folder
            (self.run_dir / "samples").mkdir(parents=True, exist_ok=True)

    # -------------------------------------------------------------- setup, one concern each
    def _setup_precision(self) -> None:
        """Threads, autocast dtype (bf16 on capable CPUs, fp16/bf16 on CUDA), channels-last, the grad scaler."""
        cfg = self.cfg
        cuda = self.device.type == "cuda"
        torch.set_num_threads(cfg.threads or os.cpu_count() or 1)
        self.amp_dtype: Optional[torch.dtype] = None
        if cuda:
            self.amp_dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        elif cfg.bf16 == "on" or (cfg.bf16 == "auto" and cpu_has_bf16()):
            self.amp_dtype = torch.bfloat16
        self.channels_last = cfg.channels_last == "on" or (cfg.channels_last == "auto" and cuda)
        fp16 = cuda and self.amp_dtype == torch.float16
        # torch.amp.GradScaler("cuda") since PyTorch 2.3; 1.13 only has the torch.cuda.amp one
        self.scaler = (torch.amp.GradScaler("cuda", enabled=fp16) if hasattr(torch.amp, "GradScaler")
                       else torch.cuda.amp.GradScaler(enabled=fp16))

    def _setup_run_dir(self) -> Optional[Path]:
        """The run folder (a fresh name unless resuming); returns the checkpoint to resume from, if any."""
        out = Path(self.cfg.out)
        if self.cfg.resume:
            resume_from = out / "ckpt_last.pt"
            if not resume_from.is_file():
                raise FileNotFoundError(f"train: --resume: no {resume_from}")
            self.run_dir = out
            return resume_from
        self.run_dir = unique_run_dir(out) if self.dist.main else out
        if self.dist.enabled:  # every rank must agree on the folder
            name = [str(self.run_dir)]
            dist.broadcast_object_list(name, src=0)
            self.run_dir = Path(name[0])
        return None

    def _setup_data(self, dataset: Optional[Dataset]) -> None:
        cfg = self.cfg
        self.dataset = dataset if dataset is not None else self._open_data()
        if cfg.max_items:
            self.dataset = torch.utils.data.Subset(self.dataset, range(min(cfg.max_items, len(self.dataset))))
        self.data_desc = describe_data(dataset if dataset is not None else self.dataset, cfg)
        self.data_desc["items"] = len(self.dataset)
        if len(self.dataset) < cfg.batch * self.dist.world:
            raise ValueError(f"train: {len(self.dataset)} items < batch {cfg.batch} x {self.dist.world} ranks")

    def _setup_model(self, resume_from: Optional[Path]) -> None:
        """The network, its trainable stage, the optimizer and the (DDP-wrapped) stage forward.

        A run that continues a checkpoint (resume, gen stage after warp, --init) takes the architecture from
        that checkpoint, so later changes to a preset never break a pipeline in flight."""
        cfg = self.cfg
        set_seed(cfg.seed)
        self.history: List[Dict[str, float]] = []
        self.step = 0
        src = resume_from if cfg.resume else (cfg.warp_ckpt or cfg.init if cfg.stage == "gen" else cfg.init)
        if cfg.stage == "gen" and src is None:
            raise ValueError("train: the gen stage needs --warp-ckpt (a warp-stage checkpoint)")
        if src is not None:
            self._build_from(str(src), load_weights=not cfg.resume)
        else:
            self.model_cfg = model_config(cfg.model, cfg.arch)
            self.model = build(cfg.model, self.model_cfg)
            self.model_record = config_to_record(cfg.model, cfg.arch, self.model_cfg)
            self.src_stage = None
        gen_src = src  # the checkpoint whose generator the run continues
        if cfg.gen_init and not cfg.resume:  # a resumed run has the generator in its own checkpoint
            self._load_generator(cfg.gen_init)
            gen_src = cfg.gen_init
        self._set_person_skip(gen_src)
        if cfg.flow_downsample:
            if not hasattr(self.model_cfg, "flow_downsample"):
                raise ValueError(f"train: --flow-downsample: a {cfg.model} {cfg.arch} has no such setting")
            self.model_cfg.flow_downsample = cfg.flow_downsample
            self.model_record = config_to_record(cfg.model, cfg.arch, self.model_cfg)
        self.params = set_stage(self.model, cfg.stage)
        self.model.to(self.device)
        if self.channels_last:
            self.model.to(memory_format=torch.channels_last)
        self.optimizer = torch.optim.Adam(self.params, lr=cfg.lr, betas=(0.5, 0.999))
        self.net: nn.Module = StageForward(self.model, cfg.stage)
        if self.dist.enabled:
            self.net = nn.parallel.DistributedDataParallel(
                self.net, device_ids=[self.dist.local_rank] if self.device.type == "cuda" else None)

    def _setup_teacher(self) -> None:
        """The frozen teacher a student distils from (``--teacher``), checked against the student."""
        cfg = self.cfg
        self.teacher: Optional[nn.Module] = None
        if cfg.model == "student" and cfg.teacher:
            self.teacher = model_from_checkpoint(cfg.teacher).to(self.device).eval()
            for p in self.teacher.parameters():
                p.requires_grad_(False)
            tc, sc = self.teacher.cfg.person_mf.fpn_channels, _fpn_channels(self.model)
            if tc != sc and self._distilling():
                raise ValueError(f"train: teacher pyramids have {tc} channels, the student's {sc}: "
                                 f"distil with a teacher of the same width (--arch of the teacher run), or pass "
                                 f"--loss-weights distill=0 to use the teacher only for its try-on inputs")
        if cfg.self_recon and self.teacher is None:
            raise ValueError("train: --self-recon needs --teacher (without one every input is the person already)")
        if not 0 <= cfg.self_recon <= 1:
            raise ValueError(f"train: --self-recon {cfg.self_recon}: a fraction in [0, 1]")
        if cfg.model == "student" and not cfg.teacher:
            log.warning("no --teacher: the student is trained on the person itself (self-reconstruction) "
                        "without distillation; it will tend to copy the garment it sees")

    # -------------------------------------------------------------- setup helpers
    def _open_data(self) -> Dataset:
        from .data import VitonHDDataset

        if not self.cfg.data:
            raise ValueError("train: --data is required")
        return VitonHDDataset(self.cfg.data, split="train", height=self.cfg.height, width=self.cfg.width,
                              pairs="paired")

    def _build_from(self, path: str, load_weights: bool) -> None:
        ck = load_checkpoint(path)
        rec = ck["model_config"]
        if rec["kind"] != self.cfg.model or rec["arch"] != self.cfg.arch:
            raise ValueError(f"train: {path} holds a {rec['kind']} {rec['arch']}, not --model {self.cfg.model} "
                             f"--arch {self.cfg.arch}")
        self.model = build_from_record(rec)
        self.model_cfg = self.model.cfg
        self.model_record = rec
        self.src_stage = ck.get("stage")  # what the checkpoint's run trained (the gen stage: its generator)
        preset = config_to_record(rec["kind"], rec["arch"], model_config(rec["kind"], rec["arch"]))
        if rec["config"] != preset["config"]:
            log.warning("%s: its %s config differs from today's preset; continuing with the checkpoint's", path,
                        rec["arch"])
        if load_weights:
            self.model.load_state_dict(ck["model"])
            log.info("loaded weights from %s (stage %s, step %d)", path, ck.get("stage"), ck.get("step", 0))
        if (ck.get("train_config") or {}).get("frozen_bn") and not self.cfg.frozen_bn:
            log.info("%s was trained with frozen BatchNorm (recovered from ONNX): so is this run", path)
            self.cfg.frozen_bn = True

    def _load_generator(self, path: str) -> None:
        """``--gen-init``: the generator (weights and output form) of another gen-stage checkpoint of the same
        network, so a trained generator can be fine-tuned on a newer warp instead of starting over."""
        if self.cfg.stage != "gen" or not self.cfg.warp_ckpt:
            raise ValueError("train: --gen-init is for a gen stage started from --warp-ckpt")
        ck = load_checkpoint(path)
        rec, mine = ck["model_config"], self.model_record
        # the flow resolution and the output form are settings of a run, not of the weights' shapes
        loose = ("flow_downsample", "person_skip")
        same = {k: v for k, v in rec["config"].items() if k not in loose}
        if (rec["kind"], rec["arch"]) != (mine["kind"], mine["arch"]) or \
                same != {k: v for k, v in mine["config"].items() if k not in loose}:
            raise ValueError(f"train: --gen-init {path}: a different network from --warp-ckpt {self.cfg.warp_ckpt}")
        if ck.get("stage") != "gen":
            raise ValueError(f"train: --gen-init {path}: a {ck.get('stage')}-stage checkpoint; its generator is "
                             f"untrained")
        self.model.load_state_dict({**self.model.state_dict(), **generator_state(self.model, ck["model"])})
        self.model_cfg.person_skip = rec["config"]["person_skip"]
        self.model_record = config_to_record(self.cfg.model, self.cfg.arch, self.model_cfg)
        self.src_stage = "gen"
        log.info("generator from %s (step %d, person_skip=%s)", path, ck.get("step", 0), self.model_cfg.person_skip)

    def _set_person_skip(self, src) -> None:
        """``--person-skip on|off`` picks the generator's output form; only before the generator has trained
        (a gen stage started from a warp checkpoint, or a fresh network), since it changes what its map means."""
        if self.cfg.person_skip == "keep":
            return
        want = self.cfg.person_skip == "on"
        if self.model_cfg.person_skip == want:
            return
        if self.src_stage == "gen":
            raise ValueError(f"train: --person-skip {self.cfg.person_skip}: {src} holds a generator trained "
                             f"with person_skip={self.model_cfg.person_skip}")
        self.model_cfg.person_skip = want
        if want:
            self.model.start_from_person()
        self.model_record = config_to_record(self.cfg.model, self.cfg.arch, self.model_cfg)
        log.info("generator person skip: %s", self.cfg.person_skip)

    def _resume(self, path: Path) -> None:
        ck = load_checkpoint(str(path))
        saved = from_dict(TrainConfig, ck["train_config"])
        for k in ("model", "arch", "stage", "height", "width", "batch", "seed"):
            if getattr(saved, k) != getattr(self.cfg, k):
                raise ValueError(f"train: --resume with {k}={getattr(self.cfg, k)!r}, "
                                 f"the run has {getattr(saved, k)!r}")
        self.model.load_state_dict(ck["model"])
        self.optimizer.load_state_dict(ck["optimizer"])  # (the model was built from this checkpoint's config)
        self.step = int(ck["step"])
        self.history = list(ck.get("history", []))
        rng = ck.get("rng", {})
        if "torch" in rng:
            torch.set_rng_state(rng["torch"])
        if "numpy" in rng:
            np.random.set_state(rng["numpy"])
        if "python" in rng:
            random.setstate(rng["python"])
        log.info("resumed %s at step %d", path, self.step)

    # -------------------------------------------------------------- checkpoint
    def checkpoint(self, name: str = "ckpt_last.pt", metrics: Optional[Dict[str, float]] = None) -> Path:
        path = self.run_dir / name
        if not self.dist.main:
            return path
        ck = make_checkpoint(
            self.model_record, self.model.state_dict(), self.cfg.stage, self.step,
            train_config=to_dict(self.cfg),
            data=self.data_desc,
            optimizer=self.optimizer.state_dict(),
            history=self.history,
            metrics=metrics or (self.history[-1] if self.history else {}),
            rng={"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()},
            teacher=self.cfg.teacher,
            torch_version=torch.__version__,
        )
        atomic_save(ck, path)
        return path

    # -------------------------------------------------------------- one step
    def _inputs(self, batch: Dict[str, Any]):
        """(model inputs, teacher outputs or None, teacher try-on or None)."""
        if self.cfg.model == "teacher":
            return (person_representation(batch), batch["cloth"], batch["cloth_mask"]), None, None
        if self.teacher is None:
            return (batch["person"], batch["cloth"], batch["cloth_mask"]), None, None
        if not self._distilling():  # only the teacher's try-on t, the student's input
            with torch.no_grad(), self._autocast():
                rep = person_representation(batch)
                t = self.teacher(rep, batch["cloth_unpaired"], batch["cloth_mask_unpaired"])
            t_img = self._self_recon(keep_person(t, batch), batch)
            return (t_img, batch["cloth"], batch["cloth_mask"]), None, t_img
        with torch.no_grad(), self._autocast():
            rep = person_representation(batch)
            b = rep.shape[0]
            # one batched warp pass: p dressed in c' (the student's input) and p in c (distillation target);
            # the generator only runs for the first half
            pf = [torch.cat([f, f]) for f in self.teacher.person_mf(rep)]  # same person in both garments
            t = self.teacher.warp_forward(torch.cat([rep, rep]), torch.cat([batch["cloth_unpaired"], batch["cloth"]]),
                                          torch.cat([batch["cloth_mask_unpaired"], batch["cloth_mask"]]),
                                          person_feats=pf)
            t_img = keep_person(self.teacher.gen_forward(rep, t["warped_garment"][:b], t["warped_mask"][:b]), batch)
            t_img = self._self_recon(t_img, batch)
        paired = {"warped_garment": t["warped_garment"][b:].float(),
                  "person_feats": [f[b:] for f in t["person_feats"]],
                  "garment_feats": [f[b:] for f in t["garment_feats"]]}
        return (t_img, batch["cloth"], batch["cloth_mask"]), paired, t_img

    def _self_recon(self, t_img: torch.Tensor, batch: Dict[str, Any]) -> torch.Tensor:
        """``--self-recon F``: each item's input is, with probability F, the real person (who wears the garment
        it is given: the paired setting) instead of the teacher's try-on in another garment. Such items teach
        the warp to follow a garment it can see on the body; a generator trained on them learns to keep the old
        garment when it looks like the new one (training/README.md), so the shipped one is not. The rest keep
        the distillation task. The draw uses the global RNG, so a resumed run repeats it."""
        if self.cfg.self_recon <= 0:
            return t_img
        pick = torch.rand(t_img.shape[0]) < self.cfg.self_recon
        pick = pick.to(t_img.device).view(-1, 1, 1, 1)
        return torch.where(pick, batch["person"].to(t_img.dtype), t_img)

    def _distilling(self) -> bool:
        """Pyramid-feature distillation runs in the student's warp stage unless its weight is 0."""
        return self.cfg.stage == "warp" and self.cfg.weights.distill > 0

    def _autocast(self):
        if self.amp_dtype is None:
            return torch.autocast(self.device.type, enabled=False)
        return torch.autocast(self.device.type, dtype=self.amp_dtype)

    def train_step(self, batch: Dict[str, Any]) -> Dict[str, float]:
        cfg = self.cfg
        for g in self.optimizer.param_groups:
            g["lr"] = lr_at(self.step, cfg)
        inputs, teacher_out, _ = self._inputs(batch)
        with self._autocast():
            out = self.net(*inputs)
        out = _float_outputs(out)
        terms = self.loss(out, batch, align_corners=self.model.flow_align_corners, teacher=teacher_out)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(terms["total"]).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self._last = (batch, out, inputs)
        return {k: float(v.detach()) if torch.is_tensor(v) else float(v) for k, v in terms.items()}

    # -------------------------------------------------------------- loop
    def run(self) -> Dict[str, Any]:
        cfg = self.cfg
        sampler = ResumableSampler(self.dataset, self.dist.world, self.dist.rank, cfg.seed)
        workers = cfg.workers if cfg.workers >= 0 else (4 if self.device.type == "cuda" else 0)
        loader = DataLoader(self.dataset, batch_size=cfg.batch, sampler=sampler, num_workers=workers,
                            drop_last=True, pin_memory=self.device.type == "cuda",
                            persistent_workers=False)
        per_epoch = len(self.dataset) // (cfg.batch * self.dist.world)
        if per_epoch == 0:
            raise ValueError("train: fewer items than one batch per rank")
        self._log(f"run {self.run_dir}: {cfg.model} {cfg.arch} stage {cfg.stage}, {len(self.dataset)} items, "
                  f"batch {cfg.batch} x {self.dist.world}, {cfg.steps} steps, device {self.device}, "
                  f"threads {torch.get_num_threads()}, amp {self.amp_dtype}, channels_last {self.channels_last}, "
                  f"perceptual: {self.loss.perceptual.kind}")
        t0, seen0 = time.perf_counter(), 0
        end = min(cfg.steps, cfg.stop_after) if cfg.stop_after > 0 else cfg.steps
        while self.step < end:
            epoch = self.step // per_epoch
            sampler.set_epoch(epoch)
            sampler.skip = (self.step % per_epoch) * cfg.batch
            for batch in loader:
                if self.step >= end:
                    break
                batch = _to(batch, self.device, self.channels_last)
                if cfg.curriculum > 0 and self.step < cfg.curriculum * cfg.steps:
                    batch = resize_batch(batch, (cfg.height // 2, cfg.width // 2))
                train_mode(self.model, cfg.stage, cfg.frozen_bn)
                terms = self.train_step(batch)
                self.step += 1
                seen0 += cfg.batch * self.dist.world
                if not all(math.isfinite(v) for v in terms.values()):
                    raise FloatingPointError(f"train: non-finite loss at step {self.step}: {terms}")
                rec = {"step": self.step, **terms}
                if self.step % cfg.log_every == 0 or self.step == end or self.step == 1:
                    dt = time.perf_counter() - t0
                    rec["samples_per_s"] = seen0 / max(dt, 1e-9)
                    self._log(f"step {self.step}/{cfg.steps} loss {terms['total']:.4f} (" +
                              " ".join(f"{k} {v:.4f}" for k, v in terms.items() if k != "total") +
                              f") {rec['samples_per_s']:.2f} samples/s lr {lr_at(self.step - 1, cfg):.2e}")
                    t0, seen0 = time.perf_counter(), 0
                self.history.append(rec)
                if self.step % cfg.sample_every == 0 or self.step == end:
                    self.samples()
                if self.step % cfg.ckpt_every == 0 or self.step == end:
                    self.checkpoint()
                    self.curves()
        if self.dist.enabled:
            dist.barrier()
        return {"run_dir": str(self.run_dir), "step": self.step, "history": self.history,
                "checkpoint": str(self.run_dir / "ckpt_last.pt")}

    def _log(self, msg: str) -> None:
        if not self.dist.main:
            return
        print(msg, flush=True)
        with open(self.run_dir / "log.txt", "a") as f:
            f.write(msg + "\n")

    def samples(self) -> None:
        if not self.dist.main or not hasattr(self, "_last"):
            return
        batch, out, inputs = self._last
        cols: Dict[str, torch.Tensor] = {}
        if self.cfg.model == "student" and self.teacher is not None:
            cols["person (target)"] = batch["person"]
            cols["input (teacher try-on or person)" if self.cfg.self_recon else "teacher try-on (input)"] = inputs[0]
        else:
            cols["person"] = batch["person"]
        cols["garment"] = batch["cloth"]
        cols["warped"] = out["warped_garment"]
        if "tryon" in out:
            cols["try-on"] = out["tryon"]
        else:  # warp stage: the generator is not trained yet; show the warped garment pasted on the person
            m = out["warped_mask"]
            cols["warped on person"] = out["warped_garment"] * m + batch["person"] * (1 - m)
        viz.save_grid(self.run_dir / "samples" / f"step_{self.step:07d}.png", cols)

    def curves(self) -> None:
        if self.dist.main and self.history:
            viz.save_loss_curves(self.run_dir / "losses.png", self.history,
                                 title=f"{self.cfg.model} {self.cfg.arch} {self.cfg.stage}")


def _float_outputs(out: Dict[str, Any]) -> Dict[str, Any]:
    """Autocast outputs back to fp32 for the losses."""
    res = {}
    for k, v in out.items():
        if torch.is_tensor(v):
            res[k] = v.float()
        elif isinstance(v, list):
            res[k] = [x.float() for x in v]
        else:
            res[k] = v
    return res


def _fpn_channels(model: nn.Module) -> int:
    cfg = model.cfg
    return cfg.person_mf.fpn_channels if hasattr(cfg, "person_mf") else cfg.fpn_channels


def train(cfg: TrainConfig, dataset: Optional[Dataset] = None) -> Dict[str, Any]:
    """Run a training job; ``dataset`` overrides ``cfg.data`` (tests)."""
    return Trainer(cfg, dataset).run()


def parse_args(argv=None) -> TrainConfig:
    ap = argparse.ArgumentParser(prog="python -m training train", description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", choices=["teacher", "student"], required=True)
    ap.add_argument("--arch", choices=list(ARCHES), default="mg-lite")
    ap.add_argument("--stage", choices=["warp", "gen"], required=True)
    ap.add_argument("--data", required=True, help="dataset root in VITON-HD layout")
    ap.add_argument("--out", required=True, help="run folder (runs/NAME); never overwritten")
    ap.add_argument("--teacher", help="teacher checkpoint (after its gen stage) for distillation")
    ap.add_argument("--warp-ckpt", help="warp-stage checkpoint the gen stage starts from")
    ap.add_argument("--gen-init", help="gen stage: fine-tune this gen-stage checkpoint's generator on the warp "
                                       "of --warp-ckpt")
    ap.add_argument("--init", help="initial weights (checkpoint of the same architecture)")
    ap.add_argument("--height", type=int, default=256)
    ap.add_argument("--width", type=int, default=192)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--lr-decay-frac", type=float, default=0.3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--resume", action="store_true", help="continue the run in --out from its ckpt_last.pt")
    ap.add_argument("--workers", type=int, default=-1)
    ap.add_argument("--threads", type=int, default=0, help="intra-op threads (0: all cores)")
    ap.add_argument("--bf16", choices=["auto", "on", "off"], default="auto",
                    help="CPU bf16 autocast (auto: only with AVX512-BF16/AMX)")
    ap.add_argument("--channels-last", choices=["auto", "on", "off"], default="auto")
    ap.add_argument("--curriculum", type=float, default=0.0, help="fraction of steps at half resolution")
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--sample-every", type=int, default=200)
    ap.add_argument("--ckpt-every", type=int, default=200)
    ap.add_argument("--vgg-weights", default=os.environ.get("MGVTON_VGG19"),
                    help="torchvision VGG19 weights file for the perceptual loss (env MGVTON_VGG19)")
    ap.add_argument("--mobilenet-weights", default=os.environ.get("MGVTON_MOBILENETV2"),
                    help="torchvision mobilenet_v2-b0353104.pth (sha256 checked) for the perceptual loss when no "
                         "VGG19 file is given; 'auto' = data/weights/ (env MGVTON_MOBILENETV2)")
    ap.add_argument("--max-items", type=int, default=0)
    ap.add_argument("--stop-after", type=int, default=0,
                    help="stop and checkpoint after this step; the lr schedule still plans --steps (--resume goes on)")
    ap.add_argument("--flow-downsample", type=int, choices=[1, 2], default=0,
                    help="student: estimate the appearance flow at 1/N of the input and upsample it (weights "
                         "trained at half resolution run this way at full resolution)")
    ap.add_argument("--person-skip", choices=["keep", "on", "off"], default="keep",
                    help="generator renders a residual over the person picture (set before its gen stage)")
    ap.add_argument("--self-recon", type=float, default=0.0,
                    help="student with --teacher: fraction of items whose input is the real person in the garment "
                         "it is given (paired) instead of the teacher's try-on in another garment")
    ap.add_argument("--frozen-bn", action="store_true",
                    help="keep every BatchNorm's statistics (eval mode); on by itself for a checkpoint made by "
                         "'recover' or trained from one")
    ap.add_argument("--loss-weights", default="",
                    help="override loss weights, e.g. flow=5,smooth=6 (names: "
                         + ", ".join(f.name for f in dataclasses.fields(LossWeights)) + ")")
    a = ap.parse_args(argv)
    weights = LossWeights()
    for item in filter(None, a.loss_weights.split(",")):
        k, _, v = item.partition("=")
        if not hasattr(weights, k.strip()):
            ap.error(f"--loss-weights: unknown weight {k!r}")
        setattr(weights, k.strip(), float(v))
    return TrainConfig(model=a.model, arch=a.arch, stage=a.stage, data=a.data, out=a.out, teacher=a.teacher,
                       warp_ckpt=a.warp_ckpt, gen_init=a.gen_init, init=a.init, height=a.height, width=a.width,
                       batch=a.batch,
                       steps=a.steps, lr=a.lr, lr_decay_frac=a.lr_decay_frac, seed=a.seed, resume=a.resume,
                       workers=a.workers, threads=a.threads, bf16=a.bf16, channels_last=a.channels_last,
                       curriculum=a.curriculum, log_every=a.log_every, sample_every=a.sample_every,
                       ckpt_every=a.ckpt_every, vgg_weights=a.vgg_weights,
                       mobilenet_weights=(str(default_mobilenet()) if a.mobilenet_weights == "auto"
                                          else a.mobilenet_weights), max_items=a.max_items, weights=weights,
                       person_skip=a.person_skip, flow_downsample=a.flow_downsample,
                       stop_after=a.stop_after, self_recon=a.self_recon, frozen_bn=a.frozen_bn)


def main(argv=None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    cfg = parse_args(argv)
    if cfg.arch == "dmvton" and cfg.model == "teacher":
        print("train: the DM-VTON baseline is a student architecture", file=sys.stderr)
        return 2
    try:
        res = train(cfg)
    except (ValueError, FileNotFoundError) as e:
        print(str(e), file=sys.stderr)
        return 2
    if int(os.environ.get("RANK", "0")) == 0:
        print(f"done: {res['checkpoint']}")
    return 0
