"""Configuration helpers: dataclass <-> dict round trips, shared by checkpoints and manifests, and the
file helpers behind them (``load_file``, ``atomic_dir``).

Every network takes one ``@dataclass`` config; checkpoints store ``asdict(config)``
and rebuild the network from that dict alone (``from_dict``).
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import tempfile
import typing
from pathlib import Path
from typing import Any, Dict, Iterator, Type, TypeVar

T = TypeVar("T")


def to_dict(cfg: Any) -> Dict[str, Any]:
    """A plain-JSON dict of a (nested) dataclass; tuples become lists."""
    return _plain(dataclasses.asdict(cfg))


def _plain(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    return x


def from_dict(cls: Type[T], d: Dict[str, Any]) -> T:
    """Rebuild dataclass ``cls`` from ``to_dict`` output (nested dataclasses and tuples of them).

    Unknown keys are an error: a checkpoint written by a newer config must not load silently wrong.
    """
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(d) - names
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown config keys {sorted(unknown)}")
    kwargs = {k: _convert(hints[k], v) for k, v in d.items()}
    return cls(**kwargs)


def _convert(tp: Any, v: Any) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if dataclasses.is_dataclass(tp) and isinstance(v, dict):
        return from_dict(tp, v)
    if origin is typing.Union:  # Optional[X]
        if v is None:
            return None
        inner = [a for a in args if a is not type(None)]
        return _convert(inner[0], v) if len(inner) == 1 else v
    if origin in (tuple, list) and isinstance(v, (list, tuple)):
        if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(args[0], x) for x in v)
        if origin is tuple and args:
            return tuple(_convert(a, x) for a, x in zip(args, v))
        if origin is list and args:
            return [_convert(args[0], x) for x in v]
        return tuple(v) if origin is tuple else list(v)
    return v


def load_file(path, trusted: bool):
    """``torch.load`` on CPU with an explicit ``weights_only`` (PyTorch >= 2.6 defaults it to True).

    ``trusted``: a checkpoint this lab wrote (it holds RNG states and configs, which
    the weights-only unpickler refuses). Third-party weight files (official DM-VTON,
    VGG, Inception, LPIPS) load with ``weights_only=True``: tensors and plain
    containers only, no arbitrary code.
    """
    import torch

    return torch.load(path, map_location="cpu", weights_only=not trusted)


@contextlib.contextmanager
def atomic_dir(out) -> Iterator[Path]:
    """A hidden temporary folder beside ``out`` to fill; when the block ends without an error it is renamed
    to ``out`` (mode 755), otherwise removed: the folder appears complete or not at all."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o755)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
