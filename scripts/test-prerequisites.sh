#!/usr/bin/env bash
# What `npm test` needs on a fresh machine: the local Kubernetes binaries (built once, cached
# outside the repository) and a Chromium for the browser tests. Safe to run repeatedly.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "[prerequisites] local Kubernetes binaries (first build ~12 minutes, then cached)"
bash scripts/install-local-k8s.sh

if [ -x /usr/bin/chromium ]; then
  echo "[prerequisites] chromium: present"
else
  echo "[prerequisites] chromium: installing with apt-get"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  # Only refresh the package lists when the cached ones do not know the package.
  $SUDO apt-get install -y -qq chromium >/dev/null 2>&1 || {
    $SUDO apt-get update -qq >/dev/null
    $SUDO apt-get install -y -qq chromium >/dev/null
  }
  echo "[prerequisites] chromium: installed"
fi

# The deploy tests apply kubernetes/ with `kubectl apply -k` (kustomize v5: kubectl 1.27+).
if command -v kubectl >/dev/null; then
  echo "[prerequisites] kubectl: present"
else
  echo "[prerequisites] kubectl: installing with apt-get"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get install -y -qq kubectl >/dev/null 2>&1 ||
    echo "[prerequisites] kubectl: could not install it; test/deploy will fail until a kubectl 1.27+ is on PATH" >&2
fi
