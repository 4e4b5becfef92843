#!/usr/bin/env bash
# Release builds of convscope for linux/amd64 and linux/arm64: the server
# and the command line, static (CGO_ENABLED=0), with the version and the
# commit linked in (convscope version prints them). arm64 runs the portable
# Go kernels (the assembly is amd64's; `go test -tags noasm ./nn/...` tests
# them on any machine).
#
#   deploy/release.sh v1.0.0          # writes dist/convscope-v1.0.0-linux-{amd64,arm64}.tar.gz
set -euo pipefail
cd "$(dirname "$0")/.."
version=${1:?usage: deploy/release.sh VERSION (for example v1.0.0)}
commit=$(git rev-parse HEAD)
if ! git diff --quiet HEAD; then commit="$commit+modified"; fi
pkg=github.com/convscope/convscope/version
mkdir -p dist
for arch in amd64 arm64; do
  dir="dist/convscope-$version-linux-$arch"
  rm -rf "$dir" && mkdir -p "$dir"
  for cmd in server convscope; do
    out="$dir/convscope-$cmd"
    [ "$cmd" = convscope ] && out="$dir/convscope"
    CGO_ENABLED=0 GOOS=linux GOARCH=$arch go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X $pkg.Version=$version -X $pkg.Commit=$commit" -o "$out" "./cmd/$cmd"
  done
  cp README.md deploy/convscope.service "$dir/"
  tar -C dist -czf "$dir.tar.gz" "$(basename "$dir")"
  echo "$dir.tar.gz"
done
