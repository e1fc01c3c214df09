#!/usr/bin/env bash
# Install the Debian packages of the scale-out tests (tests/scaleout/: the nginx front, own
# redis-server and redis-sentinel processes, a certificate made with openssl) when they are missing.
set -euo pipefail

missing=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v redis-sentinel >/dev/null || missing+=(redis-sentinel)
command -v openssl >/dev/null || missing+=(openssl)
[ ${#missing[@]} -eq 0 ] && exit 0

"$(dirname "$0")/apt_install.sh" "the scale-out tests" "${missing[@]}"
