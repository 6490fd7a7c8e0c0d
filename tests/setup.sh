#!/usr/bin/env bash
# Install what the test suite needs: this package with its test extra, and Debian's Chromium for
# the real-browser tests (never a browser download of Playwright's own).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1; then
  SUDO=$([ "$(id -u)" -eq 0 ] && echo "" || echo "sudo")
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
python -m pip install -q -e ".[test]"
