#!/usr/bin/env bash
# Builds btcd, btcctl, lnd and lncli from their Go modules (scripts/regtest/gobuild)
# into a cache keyed by the module graph + build tags. A warm cache is reused.
set -euo pipefail
# The machine's Go lives in /usr/local/go on this kind of machine; a login-less CI shell may lack it on PATH.
command -v go >/dev/null 2>&1 || export PATH="$PATH:/usr/local/go/bin"
command -v go >/dev/null 2>&1 || { echo "regtest binaries: no Go toolchain found (need go >= 1.25)" >&2; exit 1; }
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
tags="dev autopilotrpc chainrpc invoicesrpc neutrinorpc peersrpc routerrpc signrpc verrpc walletrpc watchtowerrpc wtclientrpc integration"
key="$( (cat "$here/gobuild/go.mod" "$here/gobuild/go.sum"; echo "$tags"; go version) | sha256sum | cut -c1-16)"
cache_root="${REGTEST_BIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/l402-autopilot/regtest-bin}"
cache="$cache_root/$key"
if [ -x "$cache/lnd" ] && [ -x "$cache/lncli" ] && [ -x "$cache/btcd" ] && [ -x "$cache/btcctl" ]; then
  echo "regtest binaries: warm cache $cache"
else
  echo "regtest binaries: cold build into $cache (several minutes on 2 cores)"
  mkdir -p "$cache.tmp"
  cd "$here/gobuild"
  export CGO_ENABLED=0 GOFLAGS=-mod=readonly
  for pkg in github.com/btcsuite/btcd github.com/btcsuite/btcd/cmd/btcctl \
             github.com/lightningnetwork/lnd/cmd/lnd github.com/lightningnetwork/lnd/cmd/lncli; do
    name="$(basename "$pkg")"
    echo "  building $name ($(date +%T))"
    go build -trimpath -tags="$tags" -o "$cache.tmp/$name" "$pkg"
  done
  rm -rf "$cache"; mv "$cache.tmp" "$cache"
  echo "regtest binaries: built ($(date +%T))"
fi
# Stable path for the scripts: .cache/regtest-bin -> the cached build.
mkdir -p "$root/.cache"
ln -sfn "$cache" "$root/.cache/regtest-bin"
"$cache/lnd" --version | head -1
