#!/usr/bin/env bash
# Verify speed: `auditpitr verify --against` (both databases read and checksummed, at once, on two
# connections) against plain `\copy TABLE to /dev/null` of the same tables of both databases through
# psql, the least any comparison must read. Run alternately, medians and ratios printed.
# Usage: bench/verify_bench.sh [MB] [ROUNDS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/bench/lib.sh"
megabytes=${1:-300}
rounds=${2:-3}
auditpitr=${AUDITPITR:-$root/build/src/cli/auditpitr}
bench_portfolio_setup "$megabytes"
echo "copying it to bench_copy..."
psql -q -d postgres -c "CREATE DATABASE bench_copy TEMPLATE bench_db" >/dev/null
tables=$(psql -Atq -d bench_db -c "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables
                                   WHERE schemaname = 'public' ORDER BY 1")
copy_script=$(for t in $tables; do echo "\\copy $t to '/dev/null'"; done)
copy_all() { psql -X -q -d "$1" <<<"$copy_script"; }
# Read everything once first, so that every timed run finds the tables in the cache.
copy_all bench_db && copy_all bench_copy

seq_times=() par_times=() verify_times=()
for i in $(seq 1 "$rounds"); do
  start=$(bench_now)
  copy_all bench_db && copy_all bench_copy
  seq_times+=("$(echo "$(bench_now) - $start" | bc)")
  start=$(bench_now)
  copy_all bench_db & copy_all bench_copy & wait
  par_times+=("$(echo "$(bench_now) - $start" | bc)")
  start=$(bench_now)
  "$auditpitr" -c "$BENCH_WORK/auditpitr.toml" verify --db bench --against bench_copy >/dev/null
  verify_times+=("$(echo "$(bench_now) - $start" | bc)")
  echo "round $i: copy one after the other ${seq_times[-1]} s, at once ${par_times[-1]} s, verify ${verify_times[-1]} s"
done
# --diff once: one changed value in the largest table, whose rows are then sorted and merged by key.
psql -q -d bench_copy -c "UPDATE projects SET client = 'changed' WHERE id = 4242" >/dev/null
projects_size=$(psql -Atq -d bench_db -c "SELECT pg_size_pretty(pg_table_size('projects'))")
start=$(bench_now)
"$auditpitr" -c "$BENCH_WORK/auditpitr.toml" verify --db bench --against bench_copy --diff >"$BENCH_WORK/diff.txt" || true
diff_time=$(echo "$(bench_now) - $start" | bc)
grep -q "changed: 1 row: id=4242 (client)" "$BENCH_WORK/diff.txt" || { echo "verify --diff missed the change"; exit 1; }
seq_median=$(bench_median "${seq_times[@]}")
par_median=$(bench_median "${par_times[@]}")
verify_median=$(bench_median "${verify_times[@]}")
echo
echo "databases: 2 x $BENCH_DB_SIZE; tables: $(echo $tables | wc -w); rounds: $rounds; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "psql \\copy of both databases, one after the other: median ${seq_median} s"
echo "psql \\copy of both databases at once:              median ${par_median} s"
echo "auditpitr verify --against (counts and checksums):  median ${verify_median} s"
echo "speed of verify relative to the copies one after the other: $(echo "scale=2; $seq_median / $verify_median" | bc) (goal: 0.80 or more)"
echo "speed of verify relative to the copies at once:             $(echo "scale=2; $par_median / $verify_median" | bc)"
echo "auditpitr verify --against --diff, one value changed in projects ($projects_size): ${diff_time} s"
