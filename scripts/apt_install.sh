#!/usr/bin/env bash
# apt_install.sh WHAT PACKAGE...: install Debian packages quietly (with sudo when not root),
# saying once what for. Used by ensure_browser.sh and ensure_media.sh.
set -euo pipefail

what=$1
shift
echo "Installing $* for $what (once) ..."
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "missing $* and there is no sudo: apt-get install $*" >&2; exit 1; }
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
