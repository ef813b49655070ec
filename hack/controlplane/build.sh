#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager, kube-scheduler and kubectl
# from the Kubernetes source module, at the minor version of minilet's
# k8s.io/api, and etcd from its Go modules, into a cache directory keyed by
# version; prints that bin dir. A second run finds them there and builds
# nothing.
#
# etcd is built (v3.6, what Kubernetes 1.34 runs on) rather than taken from
# Debian (3.4): 3.4 lacks RequestWatchProgress, and an API server restarted
# on it serves lists from a watch cache that never catches up ("Too large
# resource version"), so informers stay stale after an API server outage.
#
# The module cannot be built with `go install` (its go.mod replaces the
# k8s.io staging modules with ./staging/src, which the module zip lacks):
# the source is copied, each replace is pointed at the published staging
# module of the same version, and the commands are built inside that tree.
set -euo pipefail
export PATH=/usr/local/go/bin:$PATH
export GOTOOLCHAIN=local

version=${KUBE_VERSION:-v1.34.1}
etcd_version=${ETCD_VERSION:-v3.6.16}
staging=v0.${version#v1.}
cache=${MINILET_CACHE_DIR:-/var/cache/minilet}/kubernetes-$version
bins=(kube-apiserver kube-controller-manager kube-scheduler kubectl e2e.test)

# etcd, in its own directory keyed by its version, linked into bin.
etcd_dir=${MINILET_CACHE_DIR:-/var/cache/minilet}/etcd-$etcd_version
if [ ! -x "$etcd_dir/etcd" ]; then
  ework=$(mktemp -d /var/tmp/minilet-etcd-src.XXXXXX)
  cat > "$ework/main.go" <<'GO'
// Command etcd is etcd's server, built for minilet's tests.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  printf 'module minilet.test/etcd\n\ngo 1.24\n' > "$ework/go.mod"
  start=$(date +%s)
  (cd "$ework" && go get "go.etcd.io/etcd/server/v3@$etcd_version" >&2 && go mod tidy >&2 &&
    mkdir -p "$etcd_dir" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$etcd_dir/etcd.tmp" . &&
    mv "$etcd_dir/etcd.tmp" "$etcd_dir/etcd")
  rm -rf "$ework"
  echo "built etcd $etcd_version in $(( $(date +%s) - start )) s" >&2
fi

missing=()
for b in "${bins[@]}"; do [ -x "$cache/bin/$b" ] || missing+=("$b"); done
mkdir -p "$cache/bin"
ln -sf "$etcd_dir/etcd" "$cache/bin/etcd"
if [ "${#missing[@]}" = 0 ]; then
  echo "$cache/bin"
  exit 0
fi

src=$(go mod download -json "k8s.io/kubernetes@$version" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
[ -d "$src" ] || { echo "cannot download k8s.io/kubernetes@$version" >&2; exit 1; }
work=$(mktemp -d /var/tmp/minilet-kube-src.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp -r "$src/." "$work/"
chmod -R u+w "$work"
cd "$work"
rm -rf vendor go.work go.work.sum
# k8s.io/x => ./staging/src/k8s.io/x  becomes  k8s.io/x => k8s.io/x v0.N.P
sed -i -E "s#^(\s*)(k8s\.io/[a-z0-9.-]+) => \./staging/src/k8s\.io/[a-z0-9.-]+#\1\2 => \2 $staging#" go.mod

ld="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  minor=${version#v1.}; minor=${minor%%.*}
  ld="$ld -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
done
# Each missing binary is built on its own, so that a cache from before a
# binary was added keeps what it has. e2e.test is the upstream e2e suite
# (make conformance).
for b in "${missing[@]}"; do
  start=$(date +%s)
  if [ "$b" = e2e.test ]; then
    GOFLAGS=-mod=mod CGO_ENABLED=0 go test -c -trimpath -ldflags "$ld" -o "$cache/bin/$b.tmp" ./test/e2e
  else
    GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -ldflags "$ld" -o "$cache/bin/$b.tmp" "./cmd/$b"
  fi
  mv "$cache/bin/$b.tmp" "$cache/bin/$b"
  echo "built $b in $(( $(date +%s) - start )) s" >&2
done
echo "$cache/bin"
