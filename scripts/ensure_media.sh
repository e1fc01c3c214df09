#!/usr/bin/env bash
# Install the Debian packages of the real-stream tests (nginx + RTMP module as the ingest edge,
# ffmpeg as the pusher) when they are missing; silent when they are there.
set -euo pipefail

missing=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
[ -f /usr/lib/nginx/modules/ngx_rtmp_module.so ] || missing+=(libnginx-mod-rtmp)
command -v ffmpeg >/dev/null || missing+=(ffmpeg)
[ ${#missing[@]} -eq 0 ] && exit 0

"$(dirname "$0")/apt_install.sh" "the real-stream tests" "${missing[@]}"
