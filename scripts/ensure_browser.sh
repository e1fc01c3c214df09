#!/usr/bin/env bash
# Install Debian's Chromium for the browser tests when it is missing; silent when it is there.
set -euo pipefail

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] && exit 0

echo "Installing Debian's chromium for the browser tests (once) ..."
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "chromium is missing and there is no sudo: install it with apt-get install chromium" >&2; exit 1; }
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null
[ -x "$CHROMIUM" ] || { echo "chromium was installed but $CHROMIUM is missing" >&2; exit 1; }
