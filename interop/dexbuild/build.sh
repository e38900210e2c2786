#!/usr/bin/env bash
# Builds Dex once into a cache directory for the interoperability suite
# (interop/dex_test.go) and prints the binary's path.
#
#   interop/dexbuild/build.sh          build (once) and print the path
#   interop/dexbuild/build.sh --path   only print where the binary goes
#
# The cache is keyed on this module's go.mod and go.sum, so changing the
# pinned Dex builds it again; the test asks --path where to find it.
# OIDC_EXCHANGE_DEX_CACHE overrides the cache directory (default
# ${XDG_CACHE_HOME:-$HOME/.cache}/oidc-exchange/dex, Go's os.UserCacheDir).
#
# It also writes config.yaml next to the binary, rendered from
# config.yaml.tmpl, for running Dex by hand (dex serve config.yaml) in
# front of an upstream issuer: DEX_LISTEN (default 127.0.0.1:5556) and
# DEX_UPSTREAM (default http://127.0.0.1:5557) override the addresses. The
# tests render the same template themselves, with the ports they pick at
# run time.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${OIDC_EXCHANGE_DEX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/oidc-exchange/dex}"
key="$(cat "$here/go.mod" "$here/go.sum" | sha256sum | cut -c1-16)"
bin="$cache/$key/dex"
if [ "${1:-}" = "--path" ]; then
  echo "$bin"
  exit 0
fi
write_config() {
  local listen="${DEX_LISTEN:-127.0.0.1:5556}" upstream="${DEX_UPSTREAM:-http://127.0.0.1:5557}"
  sed -e "s|{{.Issuer}}|http://$listen/dex|g" -e "s|{{.Listen}}|$listen|g" -e "s|{{.Upstream}}|$upstream|g" \
    -e "s|{{.Audience}}|https://broker.interop.test|g" -e "s|{{.ClientID}}|ci-broker-client|g" \
    -e "s|{{.ClientSecret}}|interop-client-secret-8f3a1c|g" -e "s|{{.ConnectorID}}|github-actions|g" \
    "$here/config.yaml.tmpl" >"$cache/$key/config.yaml"
  if grep -q '{{' "$cache/$key/config.yaml"; then
    echo "config.yaml.tmpl has a placeholder build.sh does not fill" >&2; exit 1
  fi
}
if [ -x "$bin" ]; then
  write_config
  echo "Dex is built: $bin (config: $cache/$key/config.yaml)" >&2
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
write_config
echo "built Dex in $(( $(date +%s) - start )) s: $("$bin" version | head -1)" >&2
echo "$bin"
