#!/usr/bin/env bash
# Investigations' speed (issue 11): a Portfolio Manager database of MB megabytes is backed up, EVENTS
# audit events after the backup are generated (build/bench/replay_workload) and replayed into it, so
# the live database agrees with backup + logs. Then, in one run, over the same logs:
#   analyze    auditpitr analyze (the reader and mapper's pace: the reference)
#   history    auditpitr history portfolios ID   (one row, one pass over the logs)
#   changes    auditpitr changes over the whole window
#   lost       auditpitr lost (logs + live rows the logs touch + every row of the backup)
#   state      auditpitr state projects ID --at LAST (one table read from the dump)
#   restore    auditpitr restore STAMP --into (the whole backup: what state is weighed against)
# and prints seconds, peak RSS and the ratios history/analyze and lost/analyze (target <= 2: the
# medians of ROUNDS runs of the three in turn, default 5) and state/restore (target well under 1).
# lost must find nothing (the live database agrees).
# Usage: bench/investigate_bench.sh [EVENTS] [MB]   (default 200000 events, 50 MB of rows)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/bench/lib.sh"
events=${1:-200000}
megabytes=${2:-50}
auditpitr=${AUDITPITR:-$root/build/src/cli/auditpitr}
workload=${WORKLOAD:-$root/build/bench/replay_workload}
[ -x "$workload" ] || { echo "build first: cmake --build build --target replay_workload auditpitr" >&2; exit 2; }

bench_portfolio_setup "$megabytes"
bench_replay_workload "$events"
work=$BENCH_WORK config=$BENCH_CONFIG stamp=$BENCH_STAMP last_event=$BENCH_LAST_EVENT
logs_mb=$(du -sm "$work/audit" | cut -f1)
q() { printf '%q' "$1"; }
a="$(q "$auditpitr") -c $(q "$config")"
echo "replaying the events into bench_db, so that nothing is lost..."
eval "$a replay --from $BENCH_BACKUP_TIME --to $last_event >/dev/null"
# Settled as a live database is: otherwise autovacuum works on the replayed tables while they are timed.
psql -Xq -d bench_db -c "VACUUM ANALYZE"
portfolio=$(psql -Atq -d bench_db -c "SELECT id FROM portfolios ORDER BY id LIMIT 1 OFFSET 10")
project=$(psql -Atq -d bench_db -c "SELECT id FROM projects ORDER BY id LIMIT 1 OFFSET 10")

# analyze, history and lost in turn, ROUNDS times (default 5): their medians, and the largest peak
# memory (one run each swings by a tenth on a shared machine).
rounds=${ROUNDS:-5}
declare -A times rss
for ((round = 0; round < rounds; round++)); do
  bench_timed analyze "$a analyze --json >/dev/null"
  bench_timed history "$a history portfolios $portfolio --json >/dev/null"
  bench_timed lost "$a lost --json >$(q "$work/lost.json")"
  for c in analyze history lost; do
    s=${c}_s r=${c}_rss
    times[$c]+=" ${!s}"
    rss[$c]=$(bench_max "${rss[$c]:-0}" "${!r}")
  done
done
for c in analyze history lost; do
  printf -v "${c}_s" '%s' "$(bench_median ${times[$c]})"
  printf -v "${c}_rss" '%s' "${rss[$c]}"
  echo "$c, $rounds runs:${times[$c]} s"
done
bench_timed changes "$a changes --from $BENCH_BACKUP_TIME --to $last_event --json >/dev/null"
bench_timed state "$a state projects $project --at $last_event --json >/dev/null"
bench_timed restore "$a restore $stamp --db bench --into restore_db >/dev/null"

printf '%-8s %8s %10s\n' command seconds "peak RSS"
for c in analyze history changes lost state restore; do
  s=${c}_s r=${c}_rss
  printf '%-8s %8s %7s MB\n' "$c" "${!s}" "$((${!r} / 1024))"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo "logs: $logs_mb MB, $events events; database $BENCH_DB_SIZE"
echo "history / analyze: $(ratio "$history_s" "$analyze_s") (target <= 2)"
echo "lost / analyze:    $(ratio "$lost_s" "$analyze_s") (target <= 2)"
echo "state / restore:   $(ratio "$state_s" "$restore_s") (well under 1)"
grep -q '"rows":\[\]' <(tr -d ' \n' <"$work/lost.json") && echo "lost: nothing lost, as expected" || {
  echo "lost found rows in a database that agrees with its logs:"; head -c 2000 "$work/lost.json"; exit 3; }
