#!/usr/bin/env bash
# Install Debian's Chromium for the browser tests when it is missing; silent when it is there.
set -euo pipefail

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] && exit 0

"$(dirname "$0")/apt_install.sh" "the browser tests" chromium fonts-liberation
[ -x "$CHROMIUM" ] || { echo "chromium was installed but $CHROMIUM is missing" >&2; exit 1; }
