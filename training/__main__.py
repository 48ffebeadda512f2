"""``python -m training COMMAND``: the lab's command dispatcher.

Commands: synth, train, export, eval, compare, count, ablation, import-dmvton, realism, recover, quantize.
Each parses its own arguments (``python -m training COMMAND -h``) and is imported only when used.
"""
from __future__ import annotations

import importlib
import os
import sys

# On a shared CPU, OpenMP threads that spin while waiting for work made PyTorch
# steps up to 10x slower; passive waiting costs little when the machine is idle.
# Must be set before torch is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

COMMANDS = {
    "synth": ("training.data.synth", "generate a synthetic dataset in VITON-HD layout"),
    "train": ("training.train", "train a teacher or a student (warp or gen stage)"),
    "export": ("training.export", "checkpoint -> ONNX model folder (warp.onnx, gen.onnx, manifest.json)"),
    "eval": ("training.evaluate", "evaluate a model folder, checkpoint or the naive baseline"),
    "compare": ("training.compare", "per-image differences (mean ± standard error) between two eval reports"),
    "count": ("training.count", "parameters, thop MACs and weight MiB of an architecture"),
    "ablation": ("training.ablation", "the paper's Table 2 from the ablation runs' reports and benchmarks"),
    "import-dmvton": ("training.dmvton_import", "official DM-VTON checkpoints -> ONNX model folder"),
    "realism": ("training.realism", "pose-detector realism of synthetic renders per generator version "
                "(detection rate, keypoint error)"),
    "quantize": ("training.quantize", "model folder -> static int8 convolutions (ORT quantize_static, calibrated)"),
    "recover": ("training.recover", "model folder (ONNX) -> checkpoint to fine-tune (BatchNorm folded, frozen)"),
}


def usage() -> str:
    lines = ["usage: python -m training COMMAND [ARGS]", "", "commands:"]
    lines += [f"  {name:14s} {doc}" for name, (_, doc) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0
    cmd, rest = argv[0], argv[1:]
    if cmd not in COMMANDS:
        print(f"training: unknown command {cmd!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[cmd][0])
    return int(module.main(rest) or 0)


if __name__ == "__main__":
    sys.exit(main())
