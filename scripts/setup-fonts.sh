#!/usr/bin/env bash
# Install the DejaVu fonts the issuer's PDF certificates embed (they cover French accents and
# typographic quotes). Idempotent: does nothing when the fonts are already there.
set -euo pipefail

if [ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] \
    && [ -f /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "setup-fonts: DejaVu fonts are missing and installing them needs root" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends fonts-dejavu-core >/dev/null
