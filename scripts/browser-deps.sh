#!/usr/bin/env bash
# Debian's Chromium for the browser tests (never a downloaded browser), poppler-utils (pdftotext, pdftoppm: the
# tests read what is on each page of a PDF; the app renders document previews with pdftoppm), libmagic1 (the
# app decides an upload's type with libmagic through python-magic) and axe-core from npm.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
dpkg -s libmagic1 >/dev/null 2>&1 || /sbin/ldconfig -p 2>/dev/null | grep -q 'libmagic\.so\.1' || missing+=(libmagic1)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = "0" ]; then
    echo "Installing Debian's ${missing[*]}..."
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "missing: ${missing[*]}: run 'sudo apt-get install ${missing[*]}'" >&2
    exit 1
  fi
fi
if [ ! -f node_modules/axe-core/axe.min.js ]; then
  echo "Installing axe-core from npm..."
  npm install --no-audit --no-fund --silent >/dev/null
fi
