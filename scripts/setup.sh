#!/usr/bin/env bash
# Set up paceline in ./.venv: Python packages (CPU torch 2.13.0 where this machine has that
# wheel), the Debian data packages the dev workloads read, and, where one can be had, a headless
# browser for the HTML report's test. Idempotent: a second run only checks. Usage: scripts/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=.venv
STAMP=$VENV/.paceline-installed
DEBIAN_PACKAGES="dataset-fashion-mnist mricron-data espeak-ng"

log() { printf 'setup: %s\n' "$*" >&2; }

# 1. Debian data packages (real Fashion-MNIST images, real brain MRI volumes, a speech synthesiser).
missing=""
for pkg in $DEBIAN_PACKAGES; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing Debian packages:$missing"
    apt-get install -y -q $missing >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q $missing >/dev/null; }
  else
    log "the dev workloads read data from these Debian packages, which are missing:$missing"
    log "install them with: sudo apt-get install$missing   (or pass --data-dir, see docs/workloads.md)"
  fi
fi

# 2. The virtual environment and the Python packages.
[ -x $VENV/bin/python ] || { log "creating $VENV"; "$PYTHON" -m venv $VENV; }
want=$(cat pyproject.toml | sha256sum | cut -c1-16)
if [ -f $STAMP ] && [ "$(cat $STAMP)" = "$want" ]; then
  exit 0
fi
pip() { $VENV/bin/python -m pip "$@" 2>&1 | grep -v "WARNING: Location" || true; }
if ! $VENV/bin/python -c "import torch" 2>/dev/null; then
  wheel_dir=${PIP_FIND_LINKS:-/opt/wheels}
  if ls "$wheel_dir"/torch-2.13.0+cpu-*.whl >/dev/null 2>&1; then
    # This machine's build: the exact pin makes pip take the local CPU wheel, never CUDA.
    log "installing torch==2.13.0 (CPU) from $wheel_dir"
    pip install -q --find-links "$wheel_dir" torch==2.13.0
  elif command -v nvidia-smi >/dev/null 2>&1; then
    log "installing torch (CUDA build) from PyPI"
    pip install -q torch
  else
    log "installing the CPU build of torch"
    pip install -q torch --index-url https://download.pytorch.org/whl/cpu || pip install -q torch
  fi
fi
log "installing paceline and its dependencies"
pip install -q -e '.[test]'
$VENV/bin/python -c "import torch, jax, sdk" || { log "installation failed"; exit 1; }

# 3. A headless browser for tests/test_html_report.py: playwright (the "browser" extra) driving
# its own Chromium, or Debian's chromium-headless-shell where that download is out of reach.
# Optional: each step may fail, and then the browser test skips and says why.
browser_ok() { $VENV/bin/python tests/headless_browser.py >/dev/null 2>&1; }
apt_ok() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; }
apt_install() {
  apt-get install -y -q "$@" >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q "$@" >/dev/null 2>&1; }
}
install_browser() {
  if ! $VENV/bin/python -m pip install -q -e '.[browser]' >/dev/null 2>&1; then
    log "playwright did not install; the HTML report's browser test will skip"
    return 0
  fi
  browser_ok && return 0
  log "installing a headless Chromium for the HTML report's browser test"
  if $VENV/bin/python -m playwright install chromium >/dev/null 2>&1; then
    browser_ok && return 0
    apt_ok && $VENV/bin/python -m playwright install-deps chromium >/dev/null 2>&1 && browser_ok \
      && return 0
  fi
  apt_ok && apt_install chromium-headless-shell && browser_ok && return 0
  log "no headless browser could be installed; the HTML report's browser test will skip"
}
install_browser || true
echo "$want" > $STAMP
log "ready: $VENV"
