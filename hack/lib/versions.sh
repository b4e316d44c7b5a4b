# shellcheck shell=bash disable=SC2034 # variables for the scripts that source this file
# Pinned versions of the local control plane and where their binaries are cached.
# Sourced by hack/build-k8s.sh, hack/local-up.sh and .ci/run; each may be overridden from the environment.

K8S_VERSION="${K8S_VERSION:-v1.37.2}"
ETCD_VERSION="${ETCD_VERSION:-v3.5.35}"
HELM_VERSION="${HELM_VERSION:-v3.22.0}"

SMARTMIG_CACHE="${SMARTMIG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/smartmig}"
K8S_BIN="$SMARTMIG_CACHE/k8s-$K8S_VERSION/bin"
ETCD_BIN="$SMARTMIG_CACHE/etcd-$ETCD_VERSION/bin"
# "-k8s" marks builds stamped with the Kubernetes version (hack/build-k8s.sh).
HELM_BIN="$SMARTMIG_CACHE/helm-$HELM_VERSION-k8s/bin"

K8S_BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubectl)

export K8S_VERSION ETCD_VERSION HELM_VERSION SMARTMIG_CACHE K8S_BIN ETCD_BIN HELM_BIN
