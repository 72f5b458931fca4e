#!/usr/bin/env bash
# Debian's Chromium for the browser tests (never a downloaded browser) and axe-core from npm.
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ]; then
    echo "Installing Debian's chromium package..."
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "chromium is missing: run 'sudo apt-get install chromium'" >&2
    exit 1
  fi
fi
if [ ! -f node_modules/axe-core/axe.min.js ]; then
  echo "Installing axe-core from npm..."
  npm install --no-audit --no-fund --silent >/dev/null
fi
