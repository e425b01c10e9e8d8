#!/usr/bin/env bash
# bench/timeline: build, fill a database with synthetic measurements, measure
# the queries. Run by hand from the repository root:
#   bash bench/timeline/run.sh [COUNT] [DB]
# The database goes outside the repository (default /tmp/steppe-bench/bench.db,
# ~18 GB for 10 M measurements).
set -euo pipefail
cd "$(dirname "$0")/../.."
COUNT="${1:-10000000}"
DB="${2:-/tmp/steppe-bench/bench.db}"
mkdir -p "$(dirname "$DB")"
npx tsc -b shared collector
npx tsc -p bench/tsconfig.json --noEmit false --outDir bench/dist --composite false --incremental false \
  --declaration false --declarationMap false --sourceMap false || true  # emits even if another bench has type errors
if [ ! -e "$DB" ]; then
  node bench/dist/bench/timeline/generate.js --db "$DB" --count "$COUNT"
fi
node bench/dist/bench/timeline/query.js --db "$DB"
