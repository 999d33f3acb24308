#!/usr/bin/env bash
# Installs and builds the local Kubernetes control plane used by tests and by `npm start`
# when no cluster is configured. Idempotent: a finished build is reused from the cache,
# which lives outside the repository so every clone shares it.
set -euo pipefail

K8S_VERSION=1.20.2
CACHE_DIR="${TYCHO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tycho}"
BIN_DIR="$CACHE_DIR/k8s-$K8S_VERSION/bin"
LOCK="$CACHE_DIR/k8s-$K8S_VERSION.lock"

mkdir -p "$CACHE_DIR"
log() { echo "[local-k8s] $*" >&2; }

have_bins() {
  [ -x "$BIN_DIR/kube-apiserver" ] && [ -x "$BIN_DIR/kube-controller-manager" ] &&
    [ -x "$BIN_DIR/kube-scheduler" ] && command -v etcd >/dev/null
}

if have_bins; then
  exit 0
fi

# One build at a time, even when tests and `npm start` race for it.
exec 9>"$LOCK"
flock 9
if have_bins; then exit 0; fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

missing=()
command -v etcd >/dev/null || missing+=(etcd-server)
command -v go >/dev/null || missing+=(golang-go)
command -v rsync >/dev/null || missing+=(rsync)
command -v openssl >/dev/null || missing+=(openssl)
command -v make >/dev/null || missing+=(make)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The binaries may be cached while this machine only lacks the Debian packages.
if have_bins; then exit 0; fi

SRC_ROOT="$CACHE_DIR/src"
mkdir -p "$SRC_ROOT"
if ! ls "$SRC_ROOT"/kubernetes_*.orig.tar.gz >/dev/null 2>&1; then
  if [ ! -f /etc/apt/sources.list.d/tycho-src.sources ]; then
    log "adding a deb-src entry for Debian bookworm"
    $SUDO tee /etc/apt/sources.list.d/tycho-src.sources >/dev/null <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  fi
  $SUDO apt-get update -qq
  log "downloading Debian's kubernetes source package (~34 MB)"
  (cd "$SRC_ROOT" && apt-get source --download-only kubernetes >/dev/null)
fi

TREE="$SRC_ROOT/kubernetes-$K8S_VERSION"
if [ ! -d "$TREE" ]; then
  log "unpacking"
  (cd "$SRC_ROOT" && tar xzf kubernetes_*.orig.tar.gz)
fi

log "building kube-apiserver, kube-controller-manager, kube-scheduler (first time: ~12 minutes on 2 cores)"
cd "$TREE"
export GOPATH="$TREE/.go" CGO_ENABLED=0 GOFLAGS= GOCACHE="$CACHE_DIR/go-build"
mkdir -p .go/src/k8s.io && ln -sfn ../../.. .go/src/k8s.io/kubernetes
HOME=$(mktemp -d) make WHAT="cmd/kube-apiserver cmd/kube-controller-manager cmd/kube-scheduler" >"$CACHE_DIR/build.log" 2>&1 &
build_pid=$!
start=$SECONDS
# A silent 12-minute step looks like a hang; say that it is alive once a minute.
while kill -0 "$build_pid" 2>/dev/null; do
  sleep 5
  if (( (SECONDS - start) % 60 < 5 && SECONDS - start >= 60 )); then
    log "still building ($(( (SECONDS - start) / 60 )) min so far; log: $CACHE_DIR/build.log)"
  fi
done
wait "$build_pid" || {
  log "build failed; last lines of $CACHE_DIR/build.log:"; tail -20 "$CACHE_DIR/build.log" >&2; exit 1; }

mkdir -p "$BIN_DIR.tmp"
cp _output/bin/kube-apiserver _output/bin/kube-controller-manager _output/bin/kube-scheduler "$BIN_DIR.tmp/"
rm -rf "$BIN_DIR" && mv "$BIN_DIR.tmp" "$BIN_DIR"
log "built into $BIN_DIR"
