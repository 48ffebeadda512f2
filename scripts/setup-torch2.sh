#!/usr/bin/env bash
# setup-torch2.sh: .venv-torch2, the lab's second Python environment, on current PyTorch 2.x from PyPI
# (the main .venv uses Debian's torch 1.13). Idempotent; `make test` runs the lab's tests in both.
set -euo pipefail
cd "$(dirname "$0")/.."
want=$(sed -n 's/^torch==//p' training/requirements-torch2.txt)
if .venv-torch2/bin/python -c "import sys, torch, onnx, onnxruntime, cv2, pytest; sys.exit(torch.__version__.split('+')[0] != '$want')" 2>/dev/null; then
  exit 0
fi
echo "setup-torch2: creating .venv-torch2 (torch $want from PyPI, about 5 GB with its CUDA packages)"
rm -rf .venv-torch2
/usr/bin/python3 -m venv .venv-torch2
.venv-torch2/bin/pip install -q --disable-pip-version-check \
  -r training/requirements-torch2.txt -c training/constraints-torch2.txt
