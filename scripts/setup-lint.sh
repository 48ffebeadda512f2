#!/usr/bin/env bash
# setup-lint.sh installs the pinned Python linter (ruff) into .tools/ruff, apart from the shared .venv.
# Idempotent: does nothing when the pinned version is there.
set -euo pipefail
cd "$(dirname "$0")/.."

RUFF_VERSION=0.17.5
DIR=.tools/ruff

if [ "$("$DIR/bin/ruff" --version 2>/dev/null)" = "ruff $RUFF_VERSION" ]; then
  exit 0
fi
echo "setup-lint: installing ruff $RUFF_VERSION into $DIR"
rm -rf "$DIR.tmp"
PY=python3; [ -x .venv/bin/python ] && PY=.venv/bin/python
"$PY" -m pip install -q --disable-pip-version-check --no-deps --target "$DIR.tmp" "ruff==$RUFF_VERSION"
rm -rf "$DIR"
mv "$DIR.tmp" "$DIR"
