#!/usr/bin/env bash
# Backup speed: `auditpitr backup` against the old method (`pg_dump -F c | gzip`) on the same
# database, run alternately, median ratio printed. Usage: bench/backup_bench.sh [MB] [ROUNDS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/bench/lib.sh"
megabytes=${1:-300}
rounds=${2:-3}
auditpitr=${AUDITPITR:-$root/build/src/cli/auditpitr}
bench_portfolio_setup "$megabytes"
work=$BENCH_WORK
size=$BENCH_DB_SIZE

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
new_size=$(stat -c %s "$(ls "$work"/new/bench_db_2*.dump.gz | head -1)")
old_median=$(bench_median "${old_times[@]}")
new_median=$(bench_median "${new_times[@]}")
echo
echo "database: $size; rounds: $rounds"
echo "old method (pg_dump -F c | gzip): median ${old_median} s, file $((old_size / 1024 / 1024)) MB"
echo "auditpitr backup (with manifest): median ${new_median} s, file $((new_size / 1024 / 1024)) MB"
echo "ratio auditpitr/old: $(echo "scale=2; $new_median / $old_median" | bc) (below 1.00 is faster)"
