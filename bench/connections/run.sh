#!/usr/bin/env bash
# Raise the open-files limit (each idle session is a socket on both ends), then
# run the connections benchmark from the bench build (see RESULTS.md).
set -euo pipefail
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 65536
cd "$(dirname "$0")/../.."
exec node bench/dist/bench/connections/run.js "$@"
