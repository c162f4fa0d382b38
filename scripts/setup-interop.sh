#!/usr/bin/env bash
# Install the third-party (Digital Bazaar / DCC) JavaScript stack used by tests/interop.
# Uses the committed package-lock.json (npm ci) so every run tests the same versions;
# falls back to `npm install` only when no lock file exists yet (first setup).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
js="$here/tests/interop/js"

if ! command -v npm >/dev/null 2>&1; then
  echo "setup-interop: npm is not installed; install Node.js 20+ and npm to run the interop tests" >&2
  exit 1
fi

cd "$js"
if [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
else
  npm install --no-audit --no-fund --loglevel=error
fi
echo "setup-interop: packages installed in $js/node_modules (node $(node --version))"
