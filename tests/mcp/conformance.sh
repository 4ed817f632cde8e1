#!/usr/bin/env bash
# Runs the MCP conformance suite (npm @modelcontextprotocol/conformance, 0.1.16) against
# `cnv mcp serve`, reached through tests/mcp/http_bridge.mjs (the suite speaks only Streamable
# HTTP), and prints its summary. Needs Node.js 22 or later (the suite's own requirement) and
# network access for npx; neither is a given on Debian 12, so this is a step run by hand, not a
# ctest test (docs/mcp-conformance.md lists what passes and why the rest fails).
#   tests/mcp/conformance.sh CNV [suite options...]     e.g. build/src/cli/cnv --scenario ping
# Exits with the suite's status; 77 when Node is older than 22.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: tests/mcp/conformance.sh CNV [suite options...]" >&2; exit 2; }
cnv=$(realpath "$1"); shift
here=$(cd "$(dirname "$0")" && pwd)
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 22 ]; then
  echo "SKIP: the conformance suite 0.1.16 needs Node.js 22 or later (this is $(node --version))" >&2
  exit 77
fi
out=$(mktemp -d)
node "$here/http_bridge.mjs" --cnv "$cnv" >"$out/bridge.log" 2>&1 &
bridge=$!
trap 'kill "$bridge" 2>/dev/null; wait "$bridge" 2>/dev/null; rm -rf "$out"' EXIT
for _ in $(seq 100); do
  url=$(sed -n 's/^listening //p' "$out/bridge.log")
  [ -n "$url" ] && break
  kill -0 "$bridge" 2>/dev/null || { cat "$out/bridge.log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$url" ] || { echo "the bridge did not start" >&2; exit 1; }
npx --yes @modelcontextprotocol/conformance@0.1.16 server --url "$url" -o "$out/results" "$@"
