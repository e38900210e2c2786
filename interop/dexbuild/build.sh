#!/usr/bin/env bash
# Builds Dex once into a cache directory for the interoperability suite
# (interop/dex_test.go) and prints the binary's path.
#
#   interop/dexbuild/build.sh
#
# The cache is keyed on this module's go.mod and go.sum, so changing the
# pinned Dex builds it again; the test computes the same key to find it.
# OIDC_EXCHANGE_DEX_CACHE overrides the cache directory (default
# ${XDG_CACHE_HOME:-$HOME/.cache}/oidc-exchange/dex, Go's os.UserCacheDir).
#
# The Dex configuration is rendered per run by the test from
# config.yaml.tmpl, because the test issuer and Dex listen on ports chosen
# at run time.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${OIDC_EXCHANGE_DEX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/oidc-exchange/dex}"
key="$(cat "$here/go.mod" "$here/go.sum" | sha256sum | cut -c1-16)"
bin="$cache/$key/dex"
if [ -x "$bin" ]; then
  echo "Dex is built: $bin" >&2
  echo "$bin"
  exit 0
fi
version="$(awk '$1 == "github.com/dexidp/dex" { print $2 }' "$here/go.mod")"
echo "building Dex $version into $cache/$key (once; a clean machine takes a few minutes)" >&2
mkdir -p "$cache/$key"
start=$(date +%s)
# Never -mod=mod, go get or go mod tidy here: the proxy refuses to resolve
# the api/v2 pseudo-version, and go.sum already pins every module.
go build -C "$here" -trimpath -o "$bin.tmp" github.com/dexidp/dex/cmd/dex
mv "$bin.tmp" "$bin"
echo "built Dex in $(( $(date +%s) - start )) s: $("$bin" version | head -1)" >&2
echo "$bin"
