#!/usr/bin/env bash
# Replay speed: a Portfolio Manager database is backed up with auditpitr, then EVENTS audit events
# after the backup are generated in the application's exact log format (build/bench/replay_workload:
# creates, updates, bulk reorders, soft deletes with cascades; titles with quotes, backslashes and
# accents), together with the same changes as plain SQL from the generator's own model of the rows
# (the truth). Three copies are restored from the one backup:
#   truth_db   the generator's SQL applied: the true final state;
#   peer_db    the guide's procedure: jq -s sort_by(.time) over the three logs, one SQL statement per
#              row change (bench/replay_peer.jq), piped into psql in one transaction;
#   replay_db  auditpitr replay --from BACKUP_TIME --to LAST_EVENT --into replay_db.
# Both results are compared with the truth, table by table (row count and md5 of every row's text in
# id order), and the events/s of both and their ratio are printed. Exit 3 when a result differs.
# The foreign-key columns the cascades follow get indexes, as a DBA would add (gorm creates none):
# without them every cascade is a sequential scan, for both sides alike.
# Usage: bench/replay_bench.sh [EVENTS] [MB]   (default 200000 events, a database of about 50 MB of rows)
# AUDITPITR_BASELINE=/path/to/an/earlier/auditpitr also times that binary on a fourth copy, in the
# same run (the machine's load changes from one run to the next: compare within a run).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/bench/lib.sh"
events=${1:-200000}
megabytes=${2:-50}
auditpitr=${AUDITPITR:-$root/build/src/cli/auditpitr}
workload=${WORKLOAD:-$root/build/bench/replay_workload}
[ -x "$workload" ] || { echo "build first: cmake --build build --target replay_workload auditpitr" >&2; exit 2; }
command -v jq >/dev/null || { echo "jq is not installed" >&2; exit 2; }
tables="portfolios categories projects sections section_contents"

bench_portfolio_setup "$megabytes"
bench_replay_workload "$events"
work=$BENCH_WORK config=$BENCH_CONFIG stamp=$BENCH_STAMP backup_time=$BENCH_BACKUP_TIME last_event=$BENCH_LAST_EVENT
for f in create update delete; do echo "  $f.log: $(wc -l <"$work/audit/$f.log") lines, $(du -h "$work/audit/$f.log" | cut -f1)"; done

baseline=${AUDITPITR_BASELINE:-}   # another auditpitr binary (an earlier build) timed in the same run
dbs="truth_db peer_db replay_db"
[ -n "$baseline" ] && dbs="$dbs baseline_db"
for db in $dbs; do
  "$auditpitr" -c "$config" restore "$stamp" --db bench --into "$db" >/dev/null
done
q() { printf '%q' "$1"; }
timed() { bench_timed "$@"; }
timed truth "psql -Xq -v ON_ERROR_STOP=1 -d truth_db -f $(q "$work/audit/truth.sql")"
echo "truth (the generator's SQL, $(grep -c ';$' "$work/audit/truth.sql") statements): $truth_s s"

logs="$(q "$work/audit/create.log") $(q "$work/audit/update.log") $(q "$work/audit/delete.log")"
timed peer "jq -s -r -f $(q "$root/bench/replay_peer.jq") $logs | psql -Xq -1 -v ON_ERROR_STOP=1 -d peer_db -f -"
echo "peer (jq -s sort_by(.time) | SQL text | psql -1): $peer_s s"

replay_ran=false
if "$auditpitr" --help | grep -q '^  replay '; then
  timed replay "$(q "$auditpitr") -c $(q "$config") replay --from $backup_time --to $last_event --into replay_db \
    --json >$(q "$work/replay.json")"
  echo "auditpitr replay: $replay_s s, peak RSS $((replay_rss / 1024)) MB"
  replay_ran=true
else
  echo "auditpitr replay: not in this build yet ('$auditpitr --help' lists no replay); its run is skipped"
fi
if [ -n "$baseline" ]; then
  timed baseline "$(q "$baseline") -c $(q "$config") replay --from $backup_time --to $last_event --into baseline_db \
    --json >$(q "$work/baseline.json")"
  echo "baseline replay ($baseline): $baseline_s s, peak RSS $((baseline_rss / 1024)) MB"
fi

# count and md5 of one table's rows in id order, as text.
digest() { psql -XAtq -d "$1" -c "SELECT count(*) || ' ' || coalesce(md5(string_agg(t::text, E'\n' ORDER BY id)), '-') FROM $2 t"; }
differs=0
compare() {
  local db=$1 table want got
  for table in $tables; do
    want=$(digest truth_db "$table") got=$(digest "$db" "$table")
    if [ "$want" != "$got" ]; then
      echo "  $db.$table differs from the truth: rows+md5 $got, expected $want"
      differs=1
    fi
  done
}
compare peer_db
$replay_ran && compare replay_db
[ -n "$baseline" ] && compare baseline_db
[ $differs = 0 ] && echo "results: every table equal to the truth (row counts and md5 of all rows)"

rate() { echo "$events $1" | awk '{printf "%.0f", $1 / $2}'; }
echo
echo "summary: $events events, database $BENCH_DB_SIZE"
echo "  peer (jq + psql):  $peer_s s, $(rate "$peer_s") events/s"
if $replay_ran; then
  echo "  auditpitr replay:  $replay_s s, $(rate "$replay_s") events/s, peak RSS $((replay_rss / 1024)) MB"
  echo "  ratio peer/auditpitr: $(echo "$peer_s $replay_s" | awk '{printf "%.1f", $1 / $2}')x (target >= 20x, >= 50000 events/s)"
fi
[ -n "$baseline" ] && echo "  baseline replay:   $baseline_s s, $(rate "$baseline_s") events/s, peak RSS $((baseline_rss / 1024)) MB"
exit $((differs * 3))
