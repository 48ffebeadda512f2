"""``python -m training import-dmvton``: official DM-VTON checkpoints -> model folder.

The official repository saves the student in two files (``scripts/test.sh``:
``dmvton_pf_warp.pt`` for ``MobileAFWM`` and ``dmvton_pf_gen.pt`` for
``MobileNetV2_unet``), each either a bare state dict or ``{"epoch", "model",
"optimizer"}`` as written by its training scripts. This command loads both into
``training.models.dmvton.DMVTON`` with ``strict=True`` and exports the model
folder of docs/model-contract.md (flows keep the official ``align_corners=True``,
which the manifest declares).

Loading is safe by default: before a file is unpickled, every class or function
its pickle names is checked against the few that tensors, dicts, lists, tuples,
numbers and strings need, and any other is refused by name (an
official training checkpoint also holds the optimizer state and ``best_fid``, a
NumPy float, which PyTorch 1.13's ``weights_only`` loader refuses, and 2.x's
too). ``--trust-checkpoint`` unpickles fully, for files you trust.

``--no-align-corners`` reproduces the official code run without
``--align_corners``: its ``grid_sample`` calls use ``align_corners=False``
but its ``apply_offset`` still normalises offsets by size-1 (see
``training.models.dmvton``).

Accepted deviations from a bare state dict, all reported:
- a ``module.`` prefix (DataParallel) is stripped;
- ``aflow_net.weight`` - the fixed second-order filter the official AFlowNet
  registers as a parameter during its training-phase forward - is dropped after
  checking it holds those fixed values (it is not a learned weight).
"""
from __future__ import annotations

import argparse
import io
import pickle
import pickletools
import sys
import zipfile
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


# What a checkpoint of plain weights needs: tensors (rebuilt from storages, which
# torch.load resolves by name), OrderedDict, and NumPy scalars (``best_fid``) with
# their dtype and the byte-string helper their pickles use. Everything else (a
# class, a function, numpy arrays) is refused by name.
_ALLOWED_GLOBALS = frozenset({
    ("collections", "OrderedDict"),
    ("torch._utils", "_rebuild_tensor"),
    ("torch._utils", "_rebuild_tensor_v2"),
    ("torch._utils", "_rebuild_parameter"),
    ("torch._utils", "_rebuild_parameter_with_state"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),
})


class RefusedGlobal(pickle.UnpicklingError):
    """A checkpoint names a class or function outside ``_ALLOWED_GLOBALS``."""

    def __init__(self, qualname: str):
        super().__init__(qualname)
        self.qualname = qualname


_STRING_OPS = {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "STRING", "BINSTRING", "SHORT_BINSTRING"}
_NEUTRAL_OPS = {"MEMOIZE", "PUT", "BINPUT", "LONG_BINPUT", "FRAME", "PROTO"}


def check_globals(data: bytes) -> None:
    """Raise ``RefusedGlobal`` unless every class or function the pickle ``data`` names is allowed.

    Unpickling reaches code only through the opcodes that look up a global by name
    (GLOBAL, INST, STACK_GLOBAL, EXT*); they are read here without unpickling
    anything. STACK_GLOBAL takes its names from the two strings pushed before it
    (directly or from the memo), which is how ``pickle`` writes it; anything else
    cannot be checked and is refused."""
    memo: Dict[int, Any] = {}
    pushed: List[Any] = []  # what each pushing opcode left, strings or None
    for op, arg, _ in pickletools.genops(data):
        name = op.name
        if name in ("GLOBAL", "INST"):
            module, attr = arg.split(" ", 1)
            if (module, attr) not in _ALLOWED_GLOBALS and not (module == "torch" and attr.endswith("Storage")):
                raise RefusedGlobal(f"{module}.{attr}")
            pushed.append(None)
        elif name == "STACK_GLOBAL":
            module, attr = (pushed[-2], pushed[-1]) if len(pushed) >= 2 else (None, None)
            if not (isinstance(module, str) and isinstance(attr, str)):
                raise RefusedGlobal("a global whose name is computed")
            if (module, attr) not in _ALLOWED_GLOBALS and not (module == "torch" and attr.endswith("Storage")):
                raise RefusedGlobal(f"{module}.{attr}")
            pushed.append(None)
        elif name.startswith("EXT"):
            raise RefusedGlobal(f"extension code {arg}")
        elif name in _STRING_OPS:
            pushed.append(arg if isinstance(arg, str) else None)
        elif name == "MEMOIZE":
            memo[len(memo)] = pushed[-1] if pushed else None
        elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
            memo[int(arg)] = pushed[-1] if pushed else None
        elif name in ("GET", "BINGET", "LONG_BINGET"):
            pushed.append(memo.get(int(arg)))
        elif name not in _NEUTRAL_OPS:
            pushed.append(None)


def load_weights(path: str) -> Any:
    """``torch.load`` of ``path`` on CPU, after checking that its pickle only names the globals
    plain weights need (``_ALLOWED_GLOBALS``): the same on PyTorch 1.13 and 2.x.

    (``weights_only=True`` refuses the official training checkpoints: 1.13 cannot
    read a float, 2.x refuses the NumPy ``best_fid``; and 1.13's ``torch.load``
    ignores a restricted ``pickle_module`` unless ``weights_only`` is set, so the
    check is done on the bytes before loading the same bytes.)"""
    data = Path(path).read_bytes()
    if not zipfile.is_zipfile(io.BytesIO(data)):
        # The pre-1.6 format is several pickles in a row: leave it to torch's own
        # weights-only loader.
        return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = z.namelist()
        if any(n.endswith("constants.pkl") or "/code/" in n for n in names):
            raise RefusedGlobal("TorchScript code")  # torch.load would hand it to torch.jit.load
        pkls = [n for n in names if n == "data.pkl" or n.endswith("/data.pkl")]
        if len(pkls) != 1:
            raise ValueError(f"{len(pkls)} data.pkl records in the archive; want 1")
        check_globals(z.read(pkls[0]))
    return torch.load(io.BytesIO(data), map_location="cpu", weights_only=False)


def read_state_dict(path: str, trusted: bool = False) -> Tuple[Dict[str, torch.Tensor], List[str]]:
    """The state dict inside an official checkpoint file, and notes on what was adjusted.

    Loaded with ``load_weights`` (tensors, numbers and plain containers only) unless ``trusted``."""
    if trusted:
        obj = load_file(path, trusted=True)
    else:
        try:
            obj = load_weights(path)
        except RefusedGlobal as e:
            raise ValueError(f"import-dmvton: {path}: holds {e.qualname}, which plain weights never need, so it was "
                             f"not unpickled; if you trust the file, pass --trust-checkpoint") from e
        except FileNotFoundError:
            raise
        except Exception as e:  # noqa: BLE001 - a corrupt file fails in zipfile, pickle or torch
            raise ValueError(f"import-dmvton: {path}: not a PyTorch checkpoint ({type(e).__name__}: {e})") from e
    notes: List[str] = []
    if isinstance(obj, dict) and isinstance(obj.get("model"), dict):
        fid = obj.get("best_fid")
        fid = f", best FID {float(fid):.3f}" if isinstance(fid, (int, float)) or hasattr(fid, "dtype") else ""
        notes.append(f"{Path(path).name}: weights under 'model' (epoch {obj.get('epoch')}{fid}; "
                     "optimizer state ignored)")
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
                    help="the checkpoint was trained without --align_corners (the official scripts use it): "
                         "grid_sample without align_corners, offsets normalised by size-1 as the official apply_offset")
    ap.add_argument("--trust-checkpoint", action="store_true",
                    help="unpickle the files fully (only for files you trust; "
                         "default: tensors, numbers and plain containers only)")
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
