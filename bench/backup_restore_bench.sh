#!/usr/bin/env bash
# Issue 14's figures in one run: the backup and restore benchmarks on today's data set (a generated
# Portfolio Manager database of about MB of table data) and on the compressible one (270,000
# projects and section contents of repeated md5 strings and lorem ipsum), each alternating the old
# method and auditpitr ROUNDS times. Prints each benchmark's summary: phases, sizes and ratios.
# Usage: bench/backup_restore_bench.sh [MB] [ROUNDS]   (defaults 150 and 3: about ten minutes here)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
megabytes=${1:-150}
rounds=${2:-3}
for data in portfolio compressible; do
  for bench in backup restore; do
    echo "== $bench, data set $data"
    BENCH_DATA=$data "$root/bench/${bench}_bench.sh" "$megabytes" "$rounds" | sed -n '/^round /p; /^$/,$p'
  done
done
