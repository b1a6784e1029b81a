#!/usr/bin/env bash
# Install the Debian packages the project needs, when they are missing:
#   build: libtiff headers (pip builds pylibtiff, large_image's tiff reader, against them)
#   test:  also Debian's Chromium, driven by Playwright in the browser tests, and Node.js,
#          whose own test runner (node --test, Node >= 18) runs the viewer's tests/js/
# As root with apt-get it installs them; otherwise it says what to install and fails.
set -euo pipefail
mode="${1:-build}"
need=()
if ! echo '#include <tiffio.h>' | cc -E - >/dev/null 2>&1; then
  need+=(libtiff-dev pkg-config)
fi
if [ "$mode" = test ] && ! [ -x /usr/bin/chromium ]; then
  need+=(chromium)
fi
if [ "$mode" = test ] && ! command -v node >/dev/null; then
  need+=(nodejs)  # Debian 12: Node 18
fi
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing system packages: ${need[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "missing system packages: ${need[*]} (Debian: sudo apt-get install ${need[*]})" >&2
    exit 1
  fi
fi
if [ "$mode" = test ]; then
  major="$(node -p 'process.versions.node.split(".")[0]')"
  if [ "$major" -lt 18 ]; then
    echo "node $(node --version) is too old: the viewer's tests (node --test tests/js/) need Node >= 18" \
      "(Debian 12's nodejs package, or a release from https://nodejs.org)" >&2
    exit 1
  fi
fi
