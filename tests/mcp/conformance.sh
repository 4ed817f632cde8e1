#!/usr/bin/env bash
# Runs the MCP conformance suite (npm @modelcontextprotocol/conformance, 0.1.16) against
# `cnv mcp serve --http 127.0.0.1:0` (the suite speaks only Streamable HTTP), and prints its
# summary. The keys and the token the server needs are made with `cnv token` in a temporary
# folder; the server and that folder are removed on every exit (failure and signals too).
# Needs Node.js 22 or later (the suite's own requirement) and network access for npx; neither
# is a given on Debian 12, so this is a step run by hand, not a ctest test
# (docs/mcp-conformance.md lists what passes and why the rest fails).
#   tests/mcp/conformance.sh CNV [suite options...]     e.g. build/src/cli/cnv --scenario ping
# Exits with the suite's status; 77 when Node is older than 22.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: tests/mcp/conformance.sh CNV [suite options...]" >&2; exit 2; }
cnv=$(realpath "$1"); shift
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 22 ]; then
  echo "SKIP: the conformance suite 0.1.16 needs Node.js 22 or later (this is $(node --version))" >&2
  exit 77
fi
out=$(mktemp -d)
server=
suite=
cleanup() {
  if [ -n "$suite" ]; then
    kill -TERM "$suite" 2>/dev/null || true
    wait "$suite" 2>/dev/null || true
  fi
  if [ -n "$server" ]; then
    kill -TERM "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$out"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP
# The demo tools' token, as tests/mcp/harness.mjs mints it: root key, agent key, read_only.
(
  cd "$out"
  "$cnv" token keygen --out root >/dev/null
  "$cnv" token keygen --out agent >/dev/null
  "$cnv" token mint --key root.key --audience agent.pub --allow 'demo.*' --effects read_only --out all.tok >/dev/null
)
"$cnv" mcp serve --key "$out/agent.key" --token "$out/all.tok" --trust "$out/root.pub" \
  --http 127.0.0.1:0 </dev/null >/dev/null 2>"$out/serve.log" &
server=$!
url=
for _ in $(seq 100); do
  url=$(sed -n 's/^listening //p' "$out/serve.log")
  [ -n "$url" ] && break
  kill -0 "$server" 2>/dev/null || { cat "$out/serve.log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$url" ] || { echo "cnv mcp serve --http did not start listening" >&2; cat "$out/serve.log" >&2; exit 1; }
# In the background, so a signal to this script is handled at once (the trap stops both).
npx --yes @modelcontextprotocol/conformance@0.1.16 server --url "$url" -o "$out/results" "$@" &
suite=$!
status=0
wait "$suite" || status=$?
suite=
exit "$status"
