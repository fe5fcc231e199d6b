#!/usr/bin/env bash
# Off-site copies: `auditpitr push` and `auditpitr pull` (temporary names, size and checksum of each
# copy, the record; pull: sha256 against the record and 'check' of the dump before renaming) against
# plain `rclone copy` of the same files (no verification of its own beyond rclone's), both to and
# from a local folder remote, alternating ROUNDS times; medians and ratios printed.
# Usage: bench/push_bench.sh [MB] [ROUNDS]   (defaults 150 and 3)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/bench/lib.sh"
megabytes=${1:-150}
rounds=${2:-3}
auditpitr=${AUDITPITR:-$root/build/src/cli/auditpitr}
command -v rclone >/dev/null || { echo "rclone is needed (scripts/install-deps)"; exit 2; }
bench_portfolio_setup "$megabytes"
work=$BENCH_WORK
export RCLONE_CONFIG="$work/rclone.conf"
: >"$RCLONE_CONFIG"
cat >>"$work/auditpitr.toml" <<CONF
[[remotes]]
name = "bench"
rclone = "$work/remote"
CONF
"$auditpitr" -c "$work/auditpitr.toml" backup >/dev/null
set_bytes=$(du -cb "$work"/new/bench_db_* | tail -1 | cut -f1)
push_old=() push_new=() pull_old=() pull_new=()
for i in $(seq 1 "$rounds"); do
  rm -rf "$work/remote" "$work/peer"
  start=$(bench_now)
  rclone copy "$work/new" "$work/peer" --include 'bench_db_2*'
  push_old+=("$(echo "$(bench_now) - $start" | bc)")
  start=$(bench_now)
  "$auditpitr" -c "$work/auditpitr.toml" push >/dev/null
  push_new+=("$(echo "$(bench_now) - $start" | bc)")
  rm -rf "$work/back"
  start=$(bench_now)
  rclone copy "$work/peer" "$work/back"
  pull_old+=("$(echo "$(bench_now) - $start" | bc)")
  mv "$work/new" "$work/kept"
  start=$(bench_now)
  "$auditpitr" -c "$work/auditpitr.toml" pull latest >/dev/null
  pull_new+=("$(echo "$(bench_now) - $start" | bc)")
  rm -rf "$work/new"
  mv "$work/kept" "$work/new"
  echo "round $i: push: rclone copy ${push_old[-1]} s, auditpitr ${push_new[-1]} s; pull: rclone copy ${pull_old[-1]} s, auditpitr ${pull_new[-1]} s"
done
po=$(bench_median "${push_old[@]}") pn=$(bench_median "${push_new[@]}")
lo=$(bench_median "${pull_old[@]}") ln=$(bench_median "${pull_new[@]}")
echo
echo "database: $BENCH_DB_SIZE; backup set: $((set_bytes / 1024 / 1024)) MB (dump and manifest); rounds: $rounds"
printf 'push: rclone copy %.2f s, auditpitr push %.2f s, ratio %.2f\n' "$po" "$pn" "$(echo "$pn / $po" | bc -l)"
printf 'pull: rclone copy %.2f s, auditpitr pull %.2f s, ratio %.2f\n' "$lo" "$ln" "$(echo "$ln / $lo" | bc -l)"
