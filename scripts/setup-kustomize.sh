#!/usr/bin/env bash
# Install kustomize (v5, pinned) for the Kubernetes manifest tests, from the Go module proxy.
# Safe to run again: when the pinned binary is already there it only prints its path.
# Prints the kustomize path on its last (stdout) line; progress goes to stderr.
#
#   KUSTOMIZE_VERSION   pinned release (default below); the binary is named after it so that
#                       bumping the pin installs the new one next to the old.
#   SCEAU_TOOLS_BIN     install directory (default: ~/.cache/sceau/bin, shared with other tools).
set -euo pipefail

KUSTOMIZE_VERSION="${KUSTOMIZE_VERSION:-v5.7.1}"
MODULE="sigs.k8s.io/kustomize/kustomize/v5"
BIN_DIR="${SCEAU_TOOLS_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/sceau/bin}"
TARGET="$BIN_DIR/kustomize-$KUSTOMIZE_VERSION"

say() { printf '[setup-kustomize] %s\n' "$*" >&2; }

if [ -x "$TARGET" ] && "$TARGET" version >/dev/null 2>&1; then
  echo "$TARGET"
  exit 0
fi

# Go is often installed outside PATH for non-login shells (CI runners, cron).
if ! command -v go >/dev/null 2>&1; then
  for candidate in /usr/local/go/bin /usr/lib/go/bin "$HOME/go/bin"; do
    if [ -x "$candidate/go" ]; then PATH="$candidate:$PATH"; break; fi
  done
fi
if ! command -v go >/dev/null 2>&1; then
  say "Go is required to build kustomize $KUSTOMIZE_VERSION (https://go.dev/dl/); not found"
  exit 1
fi

mkdir -p "$BIN_DIR"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
say "building kustomize $KUSTOMIZE_VERSION with $(go version | cut -d' ' -f3) (one-time, ~1-3 min)"

# Build into a private GOBIN, then move into place atomically: a half-written binary must never
# look installed, and two concurrent runs must not trip over each other.
export GOBIN="$WORK/bin"
export GOFLAGS="${GOFLAGS:-} -mod=mod"
export GOTOOLCHAIN="${GOTOOLCHAIN:-auto}"
if ! go install "$MODULE@$KUSTOMIZE_VERSION" >"$WORK/install.log" 2>&1; then
  # Some module proxies refuse version listings or `go install pkg@version` of modules whose
  # go.mod has replace directives; a throw-away module that requires the pinned version only
  # needs the proxy to serve that exact version.
  say "go install failed ($(tail -n 1 "$WORK/install.log")); building through a temporary module"
  mkdir -p "$WORK/mod"
  (
    cd "$WORK/mod"
    go mod init sceau.local/kustomize-build >/dev/null 2>&1
    printf 'require %s %s\n' "$MODULE" "$KUSTOMIZE_VERSION" >>go.mod
    # The build tag keeps this file out of every build; `go mod tidy` still records the import.
    printf '//go:build tools\n\npackage tools\n\nimport _ "%s"\n' "$MODULE" >tools.go
    go mod tidy >"$WORK/tidy.log" 2>&1 || { cat "$WORK/tidy.log" >&2; exit 1; }
    go install "$MODULE" >"$WORK/install2.log" 2>&1 || { cat "$WORK/install2.log" >&2; exit 1; }
  )
fi

mv -f "$GOBIN/kustomize" "$TARGET.tmp.$$"
mv -f "$TARGET.tmp.$$" "$TARGET"
# A stable name for humans; the tests use the versioned one.
ln -sf "$(basename "$TARGET")" "$BIN_DIR/kustomize"
say "installed $("$TARGET" version)"
echo "$TARGET"
