#!/usr/bin/env bash
# The cost of encryption at rest: `auditpitr backup` of the same database plain and with
# [backup] encrypt_to (age, one recipient), run alternately; medians, the time ratio and the sizes.
# Usage: bench/encryption_bench.sh [MB] [ROUNDS]   (defaults 150 and 3)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/bench/lib.sh"
megabytes=${1:-150}
rounds=${2:-3}
auditpitr=${AUDITPITR:-$root/build/src/cli/auditpitr}
command -v age-keygen >/dev/null || { echo "age is missing: scripts/install-deps installs it"; exit 2; }
bench_portfolio_setup "$megabytes"
work=$BENCH_WORK
age-keygen -o "$work/key.txt" 2>/dev/null
recipient=$(age-keygen -y "$work/key.txt")
sed "s|^dir = \"new\"|dir = \"enc\"\nencrypt_to = [\"$recipient\"]|" "$work/auditpitr.toml" >"$work/encrypted.toml"
plain_times=() enc_times=()
for i in $(seq 1 "$rounds"); do
  start=$(bench_now)
  "$auditpitr" -c "$work/auditpitr.toml" backup >/dev/null
  plain_times+=("$(echo "$(bench_now) - $start" | bc)")
  start=$(bench_now)
  "$auditpitr" -c "$work/encrypted.toml" backup >/dev/null
  enc_times+=("$(echo "$(bench_now) - $start" | bc)")
  echo "round $i: plain ${plain_times[-1]} s, encrypted ${enc_times[-1]} s"
  sleep 1   # distinct stamps
done
plain_file=$(ls "$work"/new/bench_db_2*.dump.gz | head -1)
enc_file=$(ls "$work"/enc/bench_db_2*.dump.gz.age | head -1)
plain_median=$(bench_median "${plain_times[@]}")
enc_median=$(bench_median "${enc_times[@]}")
echo
echo "database: $BENCH_DB_SIZE; rounds: $rounds (alternating, plain first)"
echo "plain backup: median ${plain_median} s, file $(stat -c %s "$plain_file") bytes"
echo "encrypted backup (age): median ${enc_median} s, file $(stat -c %s "$enc_file") bytes"
printf 'ratio encrypted/plain: time %.2f\n' "$(echo "$enc_median / $plain_median" | bc -l)"
"$auditpitr" -c "$work/encrypted.toml" --identity "$work/key.txt" check latest >/dev/null && echo "encrypted backup checked with the identity: sound"
