#!/usr/bin/env bash
# Install the Debian packages the project needs, when they are missing:
#   build: libtiff headers (pip builds pylibtiff, large_image's tiff reader, against them)
#   test:  also Debian's Chromium, driven by Playwright in the browser tests
# As root with apt-get it installs them; otherwise it says what to install and fails.
set -euo pipefail
need=()
if ! echo '#include <tiffio.h>' | cc -E - >/dev/null 2>&1; then
  need+=(libtiff-dev pkg-config)
fi
if [ "${1:-build}" = test ] && ! [ -x /usr/bin/chromium ]; then
  need+=(chromium)
fi
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing system packages: ${need[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
else
  echo "missing system packages: ${need[*]} (Debian: sudo apt-get install ${need[*]})" >&2
  exit 1
fi
