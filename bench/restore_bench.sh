#!/usr/bin/env bash
# Restore speed: the old method (`gunzip -c F | pg_restore --clean --if-exists -d db` over the live
# database, from the old scripts' own `pg_dump -F c | gzip` file, no verification) against
# `auditpitr restore --yes` (check, temporary database, pg_restore, checksums of every table against
# the manifest, swap) on a Portfolio Manager database, run alternately ROUNDS times each.
# Prints each round, the medians, the phases (auditpitr's own figures: the verification runs while
# pg_restore's post-data section builds the indexes, so the two overlap), and the ratio
# auditpitr/old (issue 14's target: <= 1.10, check and verification included).
# Usage: bench/restore_bench.sh [MB] [ROUNDS]   (MB of generated table data; default 250 ~ 360 MB database)
#        BENCH_DATA=compressible for the issue 14 data set.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/bench/lib.sh"
megabytes=${1:-250}
rounds=${2:-5}
auditpitr=${AUDITPITR:-$root/build/src/cli/auditpitr}
bench_portfolio_setup "$megabytes"
work=$BENCH_WORK
size=$BENCH_DB_SIZE
stamp=$("$auditpitr" -c "$work/auditpitr.toml" backup --json | sed -n 's/.*"stamp": "\([0-9_]*\)".*/\1/p' | head -1)
old_file="$work/old/bench_db_old.dump.gz"
pg_dump -F c bench_db | gzip >"$old_file"
echo "auditpitr backup: $(du -h "$work/new/bench_db_$stamp.dump.gz" | cut -f1), old-script backup: $(du -h "$old_file" | cut -f1)"

# Neither side pays for the other's writes: each timed run starts after a checkpoint and a sync.
settle() { psql -Xq -d postgres -c CHECKPOINT; sync; }
# A number from auditpitr's --json "phases" object.
phase() { sed -n "s/.*\"$1\": \([0-9.e+-]*\).*/\1/p" "$work/restore.json" | tail -1; }

old_times=() new_times=() verify_times=() inflate_times=() restore_times=() check_times=()
for i in $(seq 1 "$rounds"); do
  settle
  start=$(bench_now)
  gunzip -c "$old_file" | pg_restore --clean --if-exists -d bench_db 2>/dev/null || true
  old_times+=("$(echo "$(bench_now) - $start" | bc)")
  settle
  start=$(bench_now)
  "$auditpitr" -c "$work/auditpitr.toml" restore "$stamp" --yes --json >"$work/restore.json"
  new_times+=("$(echo "$(bench_now) - $start" | bc)")
  check_times+=("$(phase check)") inflate_times+=("$(phase inflate)") restore_times+=("$(phase pg_restore)")
  verify_times+=("$(phase verification)")
  psql -Xq -d postgres -c "DROP DATABASE \"bench_db_before_restore_$stamp\""
  printf 'round %d: old %.2f s, auditpitr %.2f s (check %.2f, inflate %.2f, pg_restore %.2f, verification %.2f overlapping it)\n' "$i" \
    "${old_times[-1]}" "${new_times[-1]}" "${check_times[-1]}" "${inflate_times[-1]}" "${restore_times[-1]}" "${verify_times[-1]}"
done
old_median=$(bench_median "${old_times[@]}")
new_median=$(bench_median "${new_times[@]}")
verify_median=$(bench_median "${verify_times[@]}")
echo
echo "data set: ${BENCH_DATA:-portfolio}; database: $size; rounds: $rounds (alternating, old first)"
printf 'old method (gunzip -c | pg_restore --clean --if-exists): median %.2f s\n' "$old_median"
printf 'auditpitr restore --yes (check, restore, verification, swap): median %.2f s\n' "$new_median"
printf '  phases: check %.2f s, inflate %.2f s, pg_restore %.2f s, verification %.2f s (during pg_restore) (medians)\n' \
  "$(bench_median "${check_times[@]}")" "$(bench_median "${inflate_times[@]}")" "$(bench_median "${restore_times[@]}")" "$verify_median"
printf 'ratio auditpitr/old: %.2f (target <= 1.10)\n' "$(echo "$new_median / $old_median" | bc -l)"
