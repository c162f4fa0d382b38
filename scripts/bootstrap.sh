#!/usr/bin/env bash
# Install what the project needs on a fresh machine: uv (in a project-local tool venv when it is not
# on PATH) and the locked Python dependencies. Safe to run again: it only does what is missing.
# Prints the uv command to use on its last line.
set -euo pipefail
cd "$(dirname "$0")/.."
UV_VERSION="0.13.9"
if command -v uv >/dev/null 2>&1; then
  UV=$(command -v uv)
else
  TOOLS=".sceau/tools"
  if [ ! -x "$TOOLS/bin/uv" ]; then
    echo "[bootstrap] installing uv $UV_VERSION into $TOOLS (from PyPI)" >&2
    python3 -m venv "$TOOLS"
    "$TOOLS/bin/python" -m pip install -q "uv==$UV_VERSION"
  fi
  UV="$PWD/$TOOLS/bin/uv"
fi
echo "[bootstrap] syncing Python dependencies from uv.lock" >&2
"$UV" sync --frozen --all-packages --python 3.11 -q >&2
echo "$UV"
