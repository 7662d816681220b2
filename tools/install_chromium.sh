#!/usr/bin/env bash
# Install Chromium and chromium-driver (Debian packages) for the docs browser test, tests/test_docs.py.
# Idempotent and quiet: exits 0 at once when both are already installed; exits non-zero only when they are
# missing and cannot be installed (apt-get missing or failing, or no root). Apt's output is shown only on failure.
set -u
have() { command -v "$1" >/dev/null 2>&1; }
if have chromium && have chromedriver; then exit 0; fi

if ! have apt-get; then
  echo "install_chromium: chromium/chromedriver missing and apt-get is not available; install Chromium by hand" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if have sudo && sudo -n true 2>/dev/null; then SUDO="sudo -n"
  else echo "install_chromium: chromium/chromedriver missing and installing needs root (or passwordless sudo)" >&2; exit 1
  fi
fi

log="$(mktemp -t install_chromium.XXXXXX)"
trap 'rm -f "$log"' EXIT
export DEBIAN_FRONTEND=noninteractive
if ! { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver; } >"$log" 2>&1; then
  echo "install_chromium: apt-get failed; last lines of its output:" >&2
  tail -n 25 "$log" >&2
  exit 1
fi
if ! { have chromium && have chromedriver; }; then
  echo "install_chromium: apt-get finished but chromium/chromedriver are still not on PATH" >&2
  exit 1
fi
echo "install_chromium: installed $(chromium --version 2>/dev/null | tail -n 1)"
