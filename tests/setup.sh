#!/usr/bin/env bash
# Install what the test suite needs: this package with its test extra, Debian's Chromium for the
# real-browser tests (never a browser download of Playwright's own), Debian's bubblewrap for the
# CodeAct sandbox's strongest level and, when the machine has none, Debian's node for the lab extension.
set -euo pipefail
cd "$(dirname "$0")/.."
# Node builds the JupyterLab extension (extension/) during the pip install below.
if ! command -v chromium >/dev/null 2>&1 || ! command -v bwrap >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
  SUDO=$([ "$(id -u)" -eq 0 ] && echo "" || echo "sudo")
  $SUDO apt-get update -qq
  NODE=""
  command -v node >/dev/null 2>&1 || NODE="nodejs npm"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium bubblewrap $NODE >/dev/null
fi
python -m pip install -q -e ".[test]"
