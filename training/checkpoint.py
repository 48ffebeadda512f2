"""The lab's checkpoint file: its format, writing and reading it, and rebuilding a network from it.

A checkpoint is a ``torch.save`` dict tagged ``format: mgvton-checkpoint-1`` that holds everything
needed to rebuild and continue the network (STYLE.md, "self-describing checkpoints"):

* ``model_config``: the architecture record (``models.config_to_record``); the network is rebuilt from
  it alone, so a later change to a preset never breaks an old checkpoint;
* ``model``: the state dict; ``stage`` (``warp`` | ``gen``: what the run trained) and ``step``;
* ``train_config``, ``data`` (the data description), ``metrics``;
* for a resumable training run also ``optimizer``, ``history``, ``rng``, ``teacher``, ``torch_version``.

Training (``train.py``) writes them; evaluation, export and the DM-VTON import read or write them through
this module only.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict

import torch
import torch.nn as nn

from .config import load_file
from .models import build_from_record

CKPT_FORMAT = "mgvton-checkpoint-1"


def atomic_save(obj: Any, path: Path) -> None:
    """``torch.save`` to a temporary name beside ``path``, then rename: a reader never sees half a file."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def make_checkpoint(model_config: Dict[str, Any], model_state: Dict[str, torch.Tensor], stage: str, step: int,
                    **extra: Any) -> Dict[str, Any]:
    """A checkpoint dict: the format tag, the architecture record, the weights (on the CPU), the stage and
    the step, plus whatever else the writer records (``train_config``, ``data``, ``metrics``, ...)."""
    return {"format": CKPT_FORMAT, "model_config": model_config, "stage": stage, "step": step,
            "model": {k: v.detach().cpu() for k, v in model_state.items()}, **extra}


def load_checkpoint(path: str) -> Dict[str, Any]:
    """Read a checkpoint; a file of any other kind is a ``ValueError`` naming the file."""
    ck = load_file(path, trusted=True)
    if not isinstance(ck, dict) or ck.get("format") != CKPT_FORMAT:
        fmt = ck.get("format") if isinstance(ck, dict) else "?"
        raise ValueError(f"{path}: not a mgvton checkpoint (format {fmt})")
    return ck


def model_from_checkpoint(path: str) -> nn.Module:
    """Rebuild a network from a checkpoint alone (config + weights)."""
    ck = load_checkpoint(path)
    model = build_from_record(ck["model_config"])
    model.load_state_dict(ck["model"])
    return model


def generator_state(model: nn.Module, state: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """The entries of a state dict that belong to the model's generator (its ``gen_modules``)."""
    prefixes = tuple(n + "." for n, m in model.named_children() if any(m is g for g in model.gen_modules()))
    return {k: v for k, v in state.items() if k.startswith(prefixes)}


__all__ = ["CKPT_FORMAT", "atomic_save", "make_checkpoint", "load_checkpoint", "model_from_checkpoint",
           "generator_state"]
