"""``python -m training import-dmvton``: official DM-VTON checkpoints -> model folder.

The official repository saves the student in two files (``scripts/test.sh``:
``dmvton_pf_warp.pt`` for ``MobileAFWM`` and ``dmvton_pf_gen.pt`` for
``MobileNetV2_unet``), each either a bare state dict or ``{"epoch", "model",
"optimizer"}`` as written by its training scripts. This command loads both into
``training.models.dmvton.DMVTON`` with ``strict=True`` and exports the model
folder of docs/model-contract.md (flows keep the official ``align_corners=True``,
which the manifest declares).

Accepted deviations from a bare state dict, all reported:
- a ``module.`` prefix (DataParallel) is stripped;
- ``aflow_net.weight`` - the fixed second-order filter the official AFlowNet
  registers as a parameter during its training-phase forward - is dropped after
  checking it holds those fixed values (it is not a learned weight).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Dict, List, Tuple

import torch

from .config import load_file
from .models.dmvton import DMVTON, DMVTONConfig

SECOND_ORDER = torch.tensor([
    [[0, 0, 0], [1, -2, 1], [0, 0, 0]],
    [[0, 1, 0], [0, -2, 0], [0, 1, 0]],
    [[1, 0, 0], [0, -2, 0], [0, 0, 1]],
    [[0, 0, 1], [0, -2, 0], [1, 0, 0]],
], dtype=torch.float32).unsqueeze(1)  # (4, 1, 3, 3), official filter_x, filter_y, diag1, diag2


def read_state_dict(path: str, trusted: bool = False) -> Tuple[Dict[str, torch.Tensor], List[str]]:
    """The state dict inside an official checkpoint file, and notes on what was adjusted.

    Loaded with ``weights_only=True`` (tensors and plain containers only) unless ``trusted``."""
    try:
        obj = load_file(path, trusted=trusted)
    except Exception as e:  # noqa: BLE001 - the unpickler's refusals have many types
        if trusted:
            raise
        raise ValueError(f"import-dmvton: {path}: not loadable as plain weights ({e}); "
                         f"if you trust the file, pass --trust-checkpoint") from e
    notes: List[str] = []
    if isinstance(obj, dict) and isinstance(obj.get("model"), dict):
        notes.append(f"{Path(path).name}: weights under 'model' (epoch {obj.get('epoch')})")
        obj = obj["model"]
    elif isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not all(torch.is_tensor(v) for v in obj.values()):
        raise ValueError(f"import-dmvton: {path}: not a state dict")
    if obj and all(k.startswith("module.") for k in obj):
        obj = {k[len("module."):]: v for k, v in obj.items()}
        notes.append(f"{Path(path).name}: stripped 'module.' prefix")
    return dict(obj), notes


def load_official(warp_path: str, gen_path: str, align_corners: bool = True,
                  trusted: bool = False) -> Tuple[DMVTON, List[str]]:
    model = DMVTON(DMVTONConfig(align_corners=align_corners))
    warp_sd, notes = read_state_dict(warp_path, trusted)
    gen_sd, gen_notes = read_state_dict(gen_path, trusted)
    notes += gen_notes
    extra = warp_sd.pop("aflow_net.weight", None)
    if extra is not None:
        if extra.shape != SECOND_ORDER.shape or not torch.allclose(extra.float().cpu(), SECOND_ORDER):
            raise ValueError("import-dmvton: aflow_net.weight is not the fixed second-order filter")
        notes.append("dropped aflow_net.weight (fixed smoothness filter registered during training)")
    for part, sd, name in ((model.warp_model, warp_sd, "warp"), (model.gen_model, gen_sd, "gen")):
        try:
            part.load_state_dict(sd, strict=True)
        except RuntimeError as e:
            raise ValueError(f"import-dmvton: the {name} checkpoint does not match the official layout: {e}") from e
    return model.eval(), notes


def main(argv=None) -> int:
    from .export import write_model_folder
    from .count import count_macs, count_params
    from .models import config_to_record
    from .checkpoint import atomic_save, make_checkpoint

    ap = argparse.ArgumentParser(prog="python -m training import-dmvton", description=__doc__.split("\n\n")[0])
    ap.add_argument("--warp", required=True, help="official warp checkpoint (e.g. dmvton_pf_warp.pt)")
    ap.add_argument("--gen", required=True, help="official generator checkpoint (e.g. dmvton_pf_gen.pt)")
    ap.add_argument("--out", required=True, help="model folder to create (models/NAME)")
    ap.add_argument("--name", help="model name in the manifest (default: folder name)")
    ap.add_argument("--height", type=int, default=256, help="input height (multiple of 32; official: 256)")
    ap.add_argument("--width", type=int, default=192, help="input width (multiple of 32; official: 192)")
    ap.add_argument("--no-align-corners", action="store_true",
                    help="the checkpoint was trained without --align_corners (the official test script uses it)")
    ap.add_argument("--trust-checkpoint", action="store_true",
                    help="unpickle the files fully (only for files you trust; default: weights only)")
    ap.add_argument("--save-ckpt", help="also write a lab checkpoint (for eval or fine-tuning) to this path")
    ap.add_argument("--measure-threads", action="store_true")
    a = ap.parse_args(argv)
    if a.height % 32 or a.width % 32:
        print("import-dmvton: --height and --width must be multiples of 32", file=sys.stderr)
        return 2
    try:
        model, notes = load_official(a.warp, a.gen, not a.no_align_corners, a.trust_checkpoint)
    except (ValueError, FileNotFoundError) as e:
        print(str(e), file=sys.stderr)
        return 2
    for n in notes:
        print(f"import-dmvton: {n}")
    h, w = a.height, a.width
    x = (torch.zeros(1, 3, h, w), torch.zeros(1, 3, h, w), torch.ones(1, 1, h, w))
    record = config_to_record("student", "dmvton", model.cfg)
    prov: Dict[str, Any] = {
        "architecture": record,
        "source": "official DM-VTON checkpoints (github.com/KiseKloset/DM-VTON)",
        "checkpoints": {"warp": Path(a.warp).name, "gen": Path(a.gen).name},
        "import_notes": notes,
        "params": count_params(model),
        "macs": count_macs(model, *x),
    }
    try:
        m = write_model_folder(model, Path(a.out), name=a.name or Path(a.out).name, architecture="dmvton",
                               height=a.height, width=a.width, provenance=prov, measure_threads=a.measure_threads)
    except (FileExistsError, RuntimeError) as e:
        print(str(e), file=sys.stderr)
        return 2
    if a.save_ckpt:
        atomic_save(make_checkpoint(record, model.state_dict(), "gen", 0,
                                    train_config={"height": a.height, "width": a.width},
                                    data={"source": "official DM-VTON"}, metrics={}), Path(a.save_ckpt))
    print(f"wrote {a.out} (dmvton, {a.height}x{a.width}, parity {m['provenance']['parity']['max_abs_diff']:.2e})")
    return 0
