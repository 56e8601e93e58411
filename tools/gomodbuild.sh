#!/usr/bin/env bash
# Builds one command of a Go module from the module's own source, the way its
# own repository builds it: `go install module/cmd@version` refuses modules
# with replace directives (Thanos has several), so the module is downloaded
# with `go mod download`, copied out of the read-only module cache and built
# inside the copy, where its go.mod (replaces included) and go.sum apply.
#
# usage: gomodbuild.sh MODULE VERSION PACKAGE OUTPUT [TAGS]
#   tools/gomodbuild.sh github.com/thanos-io/thanos v0.40.1 ./cmd/thanos bin/thanos netgo,slicelabels
#
# The engines `make test-integration` backtests through are pinned and
# built by tools/thanos/build.sh and tools/victoriametrics/build.sh (the
# Makefile's bin/thanos and bin/victoria-metrics targets).
set -euo pipefail
if [ $# -lt 4 ]; then
  echo "usage: $0 MODULE VERSION PACKAGE OUTPUT [TAGS]" >&2
  exit 2
fi
mod=$1 version=$2 pkg=$3 out=$4 tags=${5:-}
GO=${GO:-go}
case $out in /*) ;; *) out=$PWD/$out ;; esac
# The engines are built with the Go on the PATH, never a downloaded toolchain.
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false

json=$($GO mod download -json "$mod@$version") || {
  echo "$0: go mod download $mod@$version failed:" >&2
  echo "$json" >&2
  exit 1
}
dir=$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
if [ -z "$dir" ] || [ ! -d "$dir" ]; then
  echo "$0: no source directory for $mod@$version in: $json" >&2
  exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/gotk-build-XXXXXX")
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
cp -R "$dir/." "$work/"
chmod -R u+w "$work"
mkdir -p "$(dirname "$out")"
echo "building $mod@$version $pkg -> $out${tags:+ (tags $tags)}" >&2
(cd "$work" && $GO build ${tags:+-tags "$tags"} -trimpath -o "$out.tmp" "$pkg")
mv "$out.tmp" "$out"
