#!/usr/bin/env bash
# Backup speed: `auditpitr backup` (dump, compression and the manifest's counts and checksums, taken
# from the dump's own rows) against the old method (`pg_dump -F c | gzip`) on the same database, run
# alternately, medians and ratios of time and file size printed; `pg_dump -F c -Z0 > /dev/null`
# once, as the floor (reading the database once).
# Usage: bench/backup_bench.sh [MB] [ROUNDS]; BENCH_DATA=compressible for the issue 14 data set.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/bench/lib.sh"
megabytes=${1:-300}
rounds=${2:-3}
auditpitr=${AUDITPITR:-$root/build/src/cli/auditpitr}
bench_portfolio_setup "$megabytes"
work=$BENCH_WORK
size=$BENCH_DB_SIZE

start=$(bench_now)
pg_dump -F c -Z0 bench_db >/dev/null
floor=$(echo "$(bench_now) - $start" | bc)
old_times=() new_times=()
for i in $(seq 1 "$rounds"); do
  start=$(bench_now)
  pg_dump -F c bench_db | gzip >"$work/old/bench_db_$i.dump.gz"
  old_times+=("$(echo "$(bench_now) - $start" | bc)")
  start=$(bench_now)
  "$auditpitr" -c "$work/auditpitr.toml" backup >/dev/null
  new_times+=("$(echo "$(bench_now) - $start" | bc)")
  echo "round $i: old ${old_times[-1]} s, auditpitr ${new_times[-1]} s"
  sleep 1   # distinct stamps
done
old_size=$(stat -c %s "$work/old/bench_db_1.dump.gz")
new_file=$(ls "$work"/new/bench_db_2*.dump.gz | head -1)
new_size=$(stat -c %s "$new_file")
raw_size=$(sed -n 's/.*"uncompressed_size": \([0-9]*\).*/\1/p' "${new_file%.dump.gz}.manifest.json")
old_median=$(bench_median "${old_times[@]}")
new_median=$(bench_median "${new_times[@]}")
echo
echo "data set: ${BENCH_DATA:-portfolio}; database: $size; dump $((raw_size / 1024 / 1024)) MB uncompressed; rounds: $rounds (alternating, old first)"
printf 'floor, pg_dump -F c -Z0 > /dev/null (one read, no compression): %.2f s\n' "$floor"
echo "old method (pg_dump -F c | gzip): median ${old_median} s, file $((old_size / 1024 / 1024)) MB ($old_size bytes)"
echo "auditpitr backup (one read: dump, compression, manifest): median ${new_median} s, file $((new_size / 1024 / 1024)) MB ($new_size bytes)"
printf 'ratio auditpitr/old: time %.2f (target <= 0.70), size %.3f (target <= 1.05)\n' \
  "$(echo "$new_median / $old_median" | bc -l)" "$(echo "$new_size / $old_size" | bc -l)"
