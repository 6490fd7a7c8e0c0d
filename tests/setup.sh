#!/usr/bin/env bash
# Install what the test suite needs: this package with its test extra, Debian's Chromium for the
# real-browser tests (never a browser download of Playwright's own) and Debian's bubblewrap for the
# CodeAct sandbox's strongest level.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1 || ! command -v bwrap >/dev/null 2>&1; then
  SUDO=$([ "$(id -u)" -eq 0 ] && echo "" || echo "sudo")
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium bubblewrap >/dev/null
fi
python -m pip install -q -e ".[test]"
