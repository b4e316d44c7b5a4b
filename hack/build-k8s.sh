#!/usr/bin/env bash
# Builds the local control plane's binaries from the Go module proxy into a cache outside the repo:
#   kube-apiserver, kube-controller-manager, kube-scheduler, kubectl  ($K8S_VERSION)
#   etcd                                                              ($ETCD_VERSION)
#   helm                                                              ($HELM_VERSION)
# Each tool lives in its own directory keyed by version (see hack/lib/versions.sh) and is built only
# when missing, so a second run does nothing. Prints the versions at the end.
#
# Why a wrapper module: k8s.io/kubernetes cannot be `go install`ed because its go.mod maps every staging
# module (k8s.io/api, k8s.io/client-go, ...) to ./staging/src/... at v0.0.0. We write a throw-away module
# that requires k8s.io/kubernetes and replaces each staging module with its published v0.Y.Z, generating
# the list from the tag's own go.mod. See docs/control-plane.md.
set -euo pipefail

HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=hack/lib/versions.sh
source "$HACK_DIR/lib/versions.sh"
# shellcheck source=hack/lib/log.sh
source "$HACK_DIR/lib/log.sh"

export GOTOOLCHAIN=local
export GOFLAGS="-mod=mod -buildvcs=false -trimpath"
export CGO_ENABLED=0
WORK_ROOT="$SMARTMIG_CACHE/work"
BUILD_DATE="$(date -u +%Y-%m-%dT%H:%M:%SZ)"

command -v go >/dev/null || die "go is not on PATH (Go >= 1.25 is needed)"

have_all() {
  local dir="$1"
  shift
  local b
  for b in "$@"; do [[ -x "$dir/$b" ]] || return 1; done
}

# new_wrapper DIR MODULE: a fresh, empty module to resolve and build dependencies in.
new_wrapper() {
  rm -rf "$1"
  mkdir -p "$1"
  (cd "$1" && go mod init "$2" >/dev/null 2>&1)
}

build_kubernetes() {
  if have_all "$K8S_BIN" "${K8S_BINARIES[@]}"; then
    log "kubernetes $K8S_VERSION: cached in $K8S_BIN"
    return
  fi
  local minor="${K8S_VERSION#v1.}"
  minor="${minor%%.*}"
  local staging_version="v0.${K8S_VERSION#v1.}"
  local work="$WORK_ROOT/k8s-$K8S_VERSION"
  log "kubernetes $K8S_VERSION: preparing wrapper module in $work"
  new_wrapper "$work" smartmig.local/k8s-build

  # The tag's own go.mod: its go/godebug lines and its staging replaces, rewritten to published versions.
  local upstream_mod
  upstream_mod="$(cd "$work" && go mod download -json "k8s.io/kubernetes@$K8S_VERSION" |
    sed -nE 's/^[[:space:]]*"GoMod": "(.*)",?$/\1/p')"
  [[ -f "$upstream_mod" ]] || die "could not download k8s.io/kubernetes@$K8S_VERSION"
  {
    echo "module smartmig.local/k8s-build"
    echo
    grep -E '^(go|godebug) ' "$upstream_mod"
    echo
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo
    echo "replace ("
    sed -nE "s#^[[:space:]]*(k8s\.io/[^[:space:]]+)[[:space:]]+=>[[:space:]]+\./staging/src/k8s\.io/[^[:space:]]+[[:space:]]*\$#\t\1 => \1 $staging_version#p" "$upstream_mod"
    echo ")"
  } >"$work/go.mod"
  local replaces
  replaces="$(grep -c '=> k8s.io/' "$work/go.mod" || true)"
  ((replaces > 20)) || die "expected the staging replaces in $upstream_mod, found $replaces"
  log "kubernetes $K8S_VERSION: $replaces staging modules pinned at $staging_version"

  local ldflags="-s -w" pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$BUILD_DATE"
  done

  local out="$K8S_BIN.tmp"
  rm -rf "$out"
  mkdir -p "$out"
  local b pkgs=()
  for b in "${K8S_BINARIES[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$b"); done
  log "kubernetes $K8S_VERSION: building ${K8S_BINARIES[*]} (10-30 minutes when cold)"
  (cd "$work" && go build -ldflags "$ldflags" -o "$out/" "${pkgs[@]}")
  rm -rf "$K8S_BIN"
  mv "$out" "$K8S_BIN"
}

build_etcd() {
  if have_all "$ETCD_BIN" etcd; then
    log "etcd $ETCD_VERSION: cached in $ETCD_BIN"
    return
  fi
  local work="$WORK_ROOT/etcd-$ETCD_VERSION"
  log "etcd $ETCD_VERSION: building"
  new_wrapper "$work" smartmig.local/etcd-build
  (
    cd "$work"
    go mod edit -require="go.etcd.io/etcd/server/v3@$ETCD_VERSION"
    mkdir -p "$ETCD_BIN.tmp"
    go build -ldflags "-s -w" -o "$ETCD_BIN.tmp/etcd" go.etcd.io/etcd/server/v3
  )
  rm -rf "$ETCD_BIN"
  mv "$ETCD_BIN.tmp" "$ETCD_BIN"
}

build_helm() {
  if have_all "$HELM_BIN" helm; then
    log "helm $HELM_VERSION: cached in $HELM_BIN"
    return
  fi
  log "helm $HELM_VERSION: building"
  local v=helm.sh/helm/v3/internal/version
  # Like helm's own Makefile, stamp the Kubernetes version its client-go stands for (v0.35 → 1.35);
  # unstamped, offline `helm template` assumes Kubernetes 1.20 and refuses charts that need newer.
  local gomod client_go k8s_minor
  gomod=$(go mod download -json "helm.sh/helm/v3@$HELM_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
  client_go=$(awk '$1 == "k8s.io/client-go" { print $2 }' "$gomod")
  k8s_minor=$(echo "$client_go" | cut -d. -f2)
  [[ "$k8s_minor" =~ ^[0-9]+$ ]] || die "cannot read helm's client-go version from $gomod"
  local stamps="-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$k8s_minor"
  stamps+=" -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$k8s_minor"
  mkdir -p "$HELM_BIN.tmp"
  GOFLAGS="-buildvcs=false -trimpath" GOBIN="$HELM_BIN.tmp" go install \
    -ldflags "-s -w -X $v.version=$HELM_VERSION -X $v.metadata= -X $v.gitTreeState=clean $stamps" \
    "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  rm -rf "$HELM_BIN"
  mv "$HELM_BIN.tmp" "$HELM_BIN"
}

# One build at a time per cache (concurrent test runs may all call this script).
mkdir -p "$SMARTMIG_CACHE"
exec 9>"$SMARTMIG_CACHE/.build.lock"
flock -w 3600 9 || die "another hack/build-k8s.sh still holds $SMARTMIG_CACHE/.build.lock after an hour"

log "go: $(go version)"
build_etcd
build_helm
build_kubernetes

log "versions:"
"$K8S_BIN/kube-apiserver" --version
"$K8S_BIN/kube-scheduler" --version
"$K8S_BIN/kube-controller-manager" --version
"$K8S_BIN/kubectl" version --client=true | sed -n 1p
"$ETCD_BIN/etcd" --version | sed -n 1p
"$HELM_BIN/helm" version --short
