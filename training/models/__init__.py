"""Networks of the lab and the registry that builds them from names or checkpoint configs.

kinds: ``student`` (MGStudent, or the DM-VTON baseline with arch ``dmvton``) and
``teacher`` (parser-based). arch: ``mg`` (paper size), ``mg-lite`` (CPU real time),
``mg-mf`` (MF with DM-VTON's generator, for the ablation), ``dmvton`` (baseline), ``tiny`` (tests).
"""
from __future__ import annotations

from typing import Any, Dict, Tuple

import torch
import torch.nn as nn

from ..config import from_dict, to_dict
from .dmvton import DMVTON, DMVTONConfig
from .student import MGStudent, StudentConfig
from .teacher import Teacher, TeacherConfig, person_representation  # noqa: F401 - re-exported
from . import presets

ARCHES = ("mg", "mg-lite", "mg-mf", "dmvton", "tiny")
COUNT_ARCHES = ("mg", "mg-lite", "mg-mf", "dmvton", "teacher", "teacher-lite", "tiny", "teacher-tiny")


def model_config(kind: str, arch: str):
    """The config dataclass for (kind, arch)."""
    if kind == "student":
        if arch == "dmvton":
            return DMVTONConfig()
        return presets.student(arch)
    if kind == "teacher":
        return presets.teacher(arch)
    raise ValueError(f"unknown model kind {kind!r}")


def build(kind: str, cfg) -> nn.Module:
    if isinstance(cfg, DMVTONConfig):
        return DMVTON(cfg)
    if isinstance(cfg, StudentConfig):
        return MGStudent(cfg)
    if isinstance(cfg, TeacherConfig):
        return Teacher(cfg)
    raise TypeError(f"no network for config {type(cfg).__name__}")


def config_to_record(kind: str, arch: str, cfg) -> Dict[str, Any]:
    """What checkpoints store to rebuild a network."""
    return {"kind": kind, "arch": arch, "class": type(cfg).__name__, "config": to_dict(cfg)}


def build_from_record(rec: Dict[str, Any]) -> nn.Module:
    classes = {c.__name__: c for c in (StudentConfig, DMVTONConfig, TeacherConfig)}
    cfg = from_dict(classes[rec["class"]], rec["config"])
    return build(rec["kind"], cfg)


def build_for_count(arch: str, height: int, width: int) -> Tuple[nn.Module, Tuple[torch.Tensor, ...]]:
    """A network and example inputs for ``count`` (the full try-on forward)."""
    if arch.startswith("teacher"):
        base = {"teacher": "mg", "teacher-lite": "mg-lite", "teacher-tiny": "tiny"}[arch]
        model = build("teacher", model_config("teacher", base))
        pc = model.person_channels
    else:
        model = build("student", model_config("student", arch))
        pc = 3
    inputs = (torch.zeros(1, pc, height, width), torch.zeros(1, 3, height, width), torch.ones(1, 1, height, width))
    return model, inputs
