#!/usr/bin/env bash
# Recover speed (issue 10): a Portfolio Manager database of MB megabytes is backed up with auditpitr,
# then EVENTS audit events after the backup are generated in the application's log format
# (build/bench/replay_workload, as bench/replay_bench.sh). Then, in one run:
#   restore alone   auditpitr restore STAMP --into restore_db
#   replay alone    auditpitr replay --to LAST --into restore_db (from the restored backup's snapshot)
#   back to back    the restore and the replay again, as one timed command into pair_db
#   recover         auditpitr recover --to LAST --into recover_db (restore + capture + replay + verification)
# and prints each phase, recover / (restore + replay) (target <= 1.10), and whether the two results
# are the same database (auditpitr verify --against; exit 3 when they differ). Each timed command
# starts after a CHECKPOINT, so "replay alone" finds the restore's pages written out; recover's
# replay and the back-to-back one do not, hence the second ratio.
# Usage: bench/recover_bench.sh [EVENTS] [MB]   (default 100000 events, 300 MB of rows)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/bench/lib.sh"
events=${1:-100000}
megabytes=${2:-300}
auditpitr=${AUDITPITR:-$root/build/src/cli/auditpitr}
workload=${WORKLOAD:-$root/build/bench/replay_workload}
[ -x "$workload" ] || { echo "build first: cmake --build build --target replay_workload auditpitr" >&2; exit 2; }

bench_portfolio_setup "$megabytes"
bench_replay_workload "$events"
work=$BENCH_WORK config=$BENCH_CONFIG stamp=$BENCH_STAMP last_event=$BENCH_LAST_EVENT
q() { printf '%q' "$1"; }
timed() { bench_timed "$@"; }
a="$(q "$auditpitr") -c $(q "$config")"
timed restore "$a restore $stamp --db bench --into restore_db >/dev/null"
echo "restore alone: $restore_s s"
timed replay "$a replay --to $last_event --into restore_db --json >$(q "$work/replay.json")"
echo "replay alone: $replay_s s, peak RSS $((replay_rss / 1024)) MB"
timed pair "$a restore $stamp --db bench --into pair_db >/dev/null && $a replay --to $last_event --into pair_db >/dev/null"
echo "restore then replay, back to back: $pair_s s"
timed recover "$a recover --to $last_event --into recover_db --json >$(q "$work/recover.json")"
phases=$(tr -d '\n ' <"$work/recover.json" | sed 's/.*"seconds":{\([^}]*\)}.*/\1/')
echo "recover: $recover_s s, peak RSS $((recover_rss / 1024)) MB; phases: $phases"

same=0
if eval "$a verify --db restore_db --against recover_db" >"$work/verify.txt" 2>&1; then
  echo "results: restore + replay and recover give the same database (auditpitr verify)"
else
  echo "results differ:"; cat "$work/verify.txt"; same=3
fi
grep -q '"ok": true' "$work/recover.json" && echo "recover's own verification: ok" || { echo "recover's verification failed"; same=3; }

echo
echo "summary: $events events, database $BENCH_DB_SIZE"
echo "  restore alone $restore_s s + replay alone $replay_s s = $(echo "$restore_s $replay_s" | awk '{printf "%.1f", $1 + $2}') s"
echo "  recover $recover_s s: ratio $(echo "$recover_s $restore_s $replay_s" | awk '{printf "%.2f", $1 / ($2 + $3)}') (target <= 1.10)"
echo "  against restore then replay back to back ($pair_s s): $(echo "$recover_s $pair_s" | awk '{printf "%.2f", $1 / $2}')"
exit $same
