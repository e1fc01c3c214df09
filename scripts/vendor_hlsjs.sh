#!/usr/bin/env bash
# Re-vendor hls.js from npm at the pinned version into static/vendor/hls.js/ (never a CDN).
# Usage: scripts/vendor_hlsjs.sh [version]   (default: the version pinned below)
set -euo pipefail
VERSION=${1:-1.7.4}
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/static/vendor/hls.js"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

(cd "$WORK" && npm install --silent --no-save --no-audit --no-fund "hls.js@$VERSION" >/dev/null)
PKG="$WORK/node_modules/hls.js"
rm -rf "$DEST" && mkdir -p "$DEST"
cp "$PKG/dist/hls.min.js" "$PKG/LICENSE" "$DEST/"
{
    echo "hls.js $VERSION from the npm registry (package hls.js), file dist/hls.min.js, unmodified."
    echo "License: Apache-2.0 (see LICENSE). Re-vendor with scripts/vendor_hlsjs.sh <version>."
    echo "sha256 $(sha256sum "$DEST/hls.min.js" | cut -d' ' -f1)  hls.min.js"
} >"$DEST/VERSION"
cat "$DEST/VERSION"
