#!/usr/bin/env bash
# Install what the issuer's PDF certificates need: the DejaVu fonts they embed (French accents,
# typographic quotes) and the Pango/HarfBuzz libraries WeasyPrint lays text out and subsets fonts
# with. Idempotent: does nothing when everything is already there.
set -euo pipefail

has_lib() { ldconfig -p | grep -q "$1"; }

if [ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] \
    && [ -f /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf ] \
    && has_lib libpango-1.0.so.0 && has_lib libpangoft2-1.0.so.0 \
    && has_lib libharfbuzz-subset.so.0; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "setup-fonts: DejaVu fonts or Pango/HarfBuzz libraries are missing and installing them needs root" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends fonts-dejavu-core \
    libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 >/dev/null
