#!/usr/bin/env bash
# Replay with a few events the database refuses: the benchmark's workload (bench/replay_bench.sh)
# with REFUSED of its category position updates logged with a position no bigint takes, spread over
# the window. Three copies restored from the one backup:
#   replay_db      auditpitr replay, defaults (folded batches of 100,000 events, split around each
#                  refused event);
#   small_db       auditpitr replay --no-fold --batch 5000 (the statements path in small batches);
#   reference_db   auditpitr replay --no-fold --batch 1: every event alone, the semantics' reference.
# The first two are compared with the reference table by table, and must skip exactly REFUSED events.
# Exit 3 when a result differs. AUDITPITR_BASELINE=BIN times an earlier build's defaults too.
# Usage: bench/replay_refused_bench.sh [EVENTS] [REFUSED]   (default 200000 events, 4 refused)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/bench/lib.sh"
events=${1:-200000}
refused=${2:-4}
auditpitr=${AUDITPITR:-$root/build/src/cli/auditpitr}
workload=${WORKLOAD:-$root/build/bench/replay_workload}
[ -x "$workload" ] || { echo "build first: cmake --build build --target replay_workload auditpitr" >&2; exit 2; }
tables="portfolios categories projects sections section_contents"
baseline=${AUDITPITR_BASELINE:-}

bench_portfolio_setup 50
bench_replay_workload "$events"
work=$BENCH_WORK config=$BENCH_CONFIG stamp=$BENCH_STAMP

# Every n-th position update of a category gets a position the column's type refuses.
updates=$(grep -c '"UPDATE_CATEGORY_POSITION"' "$work/audit/update.log")
every=$((updates / refused))
awk -v every="$every" -v most="$refused" '/"UPDATE_CATEGORY_POSITION"/ && ++n % every == 0 && made < most {
    sub(/"newPosition":/, "\"newPosition\":\"x\",\"was\":"); made++ } { print }' \
  "$work/audit/update.log" >"$work/audit/update.log.new"
mv "$work/audit/update.log.new" "$work/audit/update.log"
echo "  $(grep -c '"newPosition":"x"' "$work/audit/update.log") of $events events with a position bigint refuses"

dbs="replay_db small_db reference_db"
[ -n "$baseline" ] && dbs="$dbs baseline_db"
for db in $dbs; do "$auditpitr" -c "$config" restore "$stamp" --db bench --into "$db" >/dev/null; done
q() { printf '%q' "$1"; }
replay() {  # name binary db [options]
  local name=$1 bin=$2 db=$3
  shift 3
  bench_timed "$name" "$(q "$bin") -c $(q "$config") replay --from $BENCH_BACKUP_TIME --to $BENCH_LAST_EVENT \
    --into $db --json $* >$(q "$work/$name.json")"
}
replay replay "$auditpitr" replay_db
replay small "$auditpitr" small_db --no-fold --batch 5000
replay reference "$auditpitr" reference_db --no-fold --batch 1
[ -n "$baseline" ] && replay baseline "$baseline" baseline_db

digest() { psql -XAtq -d "$1" -c "SELECT count(*) || ' ' || coalesce(md5(string_agg(t::text, E'\n' ORDER BY id)), '-') FROM $2 t"; }
skipped() { grep -o '"skipped_conflict": [0-9]*' "$work/$1.json" | grep -o '[0-9]*$'; }
differs=0
for db in ${dbs% reference_db*} ${baseline:+baseline_db}; do
  for table in $tables; do
    [ "$(digest "$db" "$table")" = "$(digest reference_db "$table")" ] || { echo "  $db.$table differs from the reference"; differs=1; }
  done
done
for name in replay small reference; do
  [ "$(skipped "$name")" = "$refused" ] || { echo "  $name skipped $(skipped "$name") events, not $refused"; differs=1; }
done
echo "events: $events, $refused refused"
echo "  replay (defaults):              $replay_s s, peak RSS $((replay_rss / 1024)) MB"
echo "  --no-fold --batch 5000:         $small_s s, peak RSS $((small_rss / 1024)) MB"
echo "  every event alone (reference):  $reference_s s"
[ -n "$baseline" ] && echo "  baseline ($baseline): $baseline_s s"
echo "  ratio, every event alone / replay: $(echo "scale=1; $reference_s / $replay_s" | bc)x"
[ "$differs" = 0 ] && echo "  results: equal to the reference" || { echo "  results: DIFFER" >&2; exit 3; }
