#!/usr/bin/env bash
# Replay speed: a Portfolio Manager database is backed up with auditpitr, then EVENTS audit events
# after the backup are generated in the application's exact log format (build/bench/replay_workload:
# creates, updates, bulk reorders, soft deletes with cascades; titles with quotes, backslashes and
# accents), together with the same changes as plain SQL from the generator's own model of the rows
# (the truth). Copies are restored from the one backup:
#   truth_db   the generator's SQL applied: the true final state;
#   peer_db    the guide's procedure: jq -s sort_by(.time) over the three logs, one SQL statement per
#              row change (bench/replay_peer.jq), piped into psql in one transaction;
#   replay_db1..N  auditpitr replay --from BACKUP_TIME --to LAST_EVENT --into replay_dbI, timed
#              REPLAY_RUNS times (default 3), each on a copy of its own: the median counts (a run of
#              3 s is at the mercy of this shared machine's moments; the peer's minute is not); its
#              row writes per table counted from pg_stat_user_tables on the first;
#   floor_db, floor_read_db   the server's floor (below).
# The results are compared with the truth, table by table (row count and md5 of every row's text in
# id order), and the events/s of peer and replay and their ratio are printed. Exit 3 when a result differs.
# It also measures the server's floor for this window: the rows the window leaves changed, taken
# from truth_db, written into floor_db set-based from COPY staging tables in one transaction
# (each row written once, no checks), and into floor_read_db with each table's rows read first, as an
# applier that checks the events' expectations must; it prints the floor against the 20x target's
# budget (the peer's time / 20): no applier takes less time than the server's own writes.
# The foreign-key columns the cascades follow get indexes, as a DBA would add (gorm creates none):
# without them every cascade is a sequential scan, for both sides alike.
# Usage: bench/replay_bench.sh [EVENTS] [MB]   (default 200000 events, a database of about 50 MB of rows)
# AUDITPITR_BASELINE=/path/to/an/earlier/auditpitr also times that binary as many times, on copies of
# its own, each run after the replay's of the same round (the machine's load changes from one run
# to the next: compare within a run).
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
runs=${REPLAY_RUNS:-3}
dbs="truth_db peer_db floor_db floor_read_db"
for i in $(seq 1 "$runs"); do
  dbs="$dbs replay_db$i"
  [ -n "$baseline" ] && dbs="$dbs baseline_db$i"
done
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

# Per table of the application, the rows inserted, updated and deleted in a database so far (the
# statistics of the sessions that ended), a "table count" line each, sorted.
row_writes() {
  psql -XAtq -F ' ' -d "$1" -c "SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_user_tables
    WHERE schemaname <> 'auditpitr' ORDER BY 1"
}
replay_ran=false
replay_times=() baseline_times=() replay_peak=0 baseline_peak=0
# One round: auditpitr (and the baseline) timed into copy $1.
replay_round() {
  timed replay "$(q "$auditpitr") -c $(q "$config") replay --from $backup_time --to $last_event --into replay_db$1 \
    --json >$(q "$work/replay$1.json")"
  replay_times+=("$replay_s")
  replay_peak=$(bench_max "$replay_peak" "$replay_rss")
  [ -n "$baseline" ] || return 0
  timed baseline "$(q "$baseline") -c $(q "$config") replay --from $backup_time --to $last_event --into baseline_db$1 \
    --json >$(q "$work/baseline$1.json")"
  baseline_times+=("$baseline_s")
  baseline_peak=$(bench_max "$baseline_peak" "$baseline_rss")
}
if "$auditpitr" --help | grep -q '^  replay '; then
  row_writes replay_db1 >"$work/writes.before"
  replay_round 1
  row_writes replay_db1 | join "$work/writes.before" - | awk '{print $1, $3 - $2}' >"$work/writes.replay"
  replay_writes=$(awk '{n += $2} END {print n}' "$work/writes.replay")
  for i in $(seq 2 "$runs"); do replay_round "$i"; done
  replay_s=$(bench_median "${replay_times[@]}")
  echo "auditpitr replay: median $replay_s s of ${replay_times[*]} s, peak RSS $((replay_peak / 1024)) MB," \
    "$replay_writes row writes"
  if [ -n "$baseline" ]; then
    baseline_s=$(bench_median "${baseline_times[@]}")
    echo "baseline replay ($baseline): median $baseline_s s of ${baseline_times[*]} s, peak RSS $((baseline_peak / 1024)) MB"
  fi
  replay_ran=true
else
  echo "auditpitr replay: not in this build yet ('$auditpitr --help' lists no replay); its run is skipped"
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
# The floor's rows: per table, the ids of the rows truth_db holds new or changed against the backup
# (floor_db, before it is written) in $dir/TABLE.ids and those rows in $dir/TABLE.rows (COPY text).
floor_dir=$work/floor
bench_floor_rows() {
  local dir=$floor_dir table
  mkdir -p "$dir"
  # each row's id and md5, sorted as comm wants them
  row_digests() { psql -XAtq -d "$1" -c "COPY (SELECT id, md5(t::text) FROM $2 t) TO STDOUT" | sort; }
  for table in $tables; do
    row_digests truth_db "$table" >"$dir/$table.truth"
    row_digests floor_db "$table" >"$dir/$table.base"
    comm -23 "$dir/$table.truth" "$dir/$table.base" | cut -f1 >"$dir/$table.ids"
    psql -Xq -d truth_db >/dev/null <<SQL
CREATE TEMP TABLE ids (id bigint);
\\copy ids FROM '$dir/$table.ids'
\\copy (SELECT t.* FROM $table t WHERE id IN (SELECT id FROM ids)) TO '$dir/$table.rows'
SQL
    # gorm's deletes are soft: a row the backup holds and the truth lacks would need a real delete,
    # which the floor does not write (and the comparison with the truth would then fail)
    [ "$(comm -13 <(cut -f1 "$dir/$table.truth") <(cut -f1 "$dir/$table.base") | wc -l)" = 0 ] ||
      echo "  floor: $table lost rows to a real delete; the floor leaves them"
  done
  floor_rows=$(cat "$dir"/*.ids | wc -l)
}
# The floor's script: one transaction, per table (parents first) the rows COPY'd into a staging
# table and upserted, every column set. With "read", each table's rows as they are are read first
# (what an applier must know before it can check the events' expectations).
bench_floor_script() {
  local table columns sets
  echo "BEGIN;"
  for table in $tables; do
    columns=$(psql -XAtq -d truth_db -c "SELECT string_agg(quote_ident(attname), ',' ORDER BY attnum) FROM pg_attribute
      WHERE attrelid = '$table'::regclass AND attnum > 0 AND NOT attisdropped")
    sets=$(echo "$columns" | tr ',' '\n' | grep -vx id | sed 's/.*/& = EXCLUDED.&/' | paste -sd, -)
    echo "CREATE TEMP TABLE staged_$table (LIKE $table) ON COMMIT DROP;"
    echo "\\copy staged_$table FROM '$floor_dir/$table.rows'"
    [ "$1" = read ] && echo "\\copy (SELECT t.* FROM $table t JOIN staged_$table USING (id)) TO '/dev/null'"
    echo "INSERT INTO $table SELECT * FROM staged_$table ON CONFLICT (id) DO UPDATE SET $sets;"
  done
  echo "COMMIT;"
}
bench_floor_rows
bench_floor_script write >"$floor_dir/write.sql"
bench_floor_script read >"$floor_dir/read.sql"
timed floor "psql -Xq -v ON_ERROR_STOP=1 -d floor_db -f $(q "$floor_dir/write.sql")"
timed floor_read "psql -Xq -v ON_ERROR_STOP=1 -d floor_read_db -f $(q "$floor_dir/read.sql")"
echo "server's floor: the $floor_rows rows the window leaves changed, upserted from COPY staging in one" \
  "transaction: $floor_s s; with the rows read first: $floor_read_s s"

compare peer_db
compare floor_db
compare floor_read_db
if $replay_ran; then
  for i in $(seq 1 "$runs"); do
    compare "replay_db$i"
    [ -z "$baseline" ] || compare "baseline_db$i"
  done
fi
[ $differs = 0 ] && echo "results: every table equal to the truth (row counts and md5 of all rows)"

rate() { echo "$events $1" | awk '{printf "%.0f", $1 / $2}'; }
echo
echo "summary: $events events, database $BENCH_DB_SIZE"
echo "  peer (jq + psql):  $peer_s s, $(rate "$peer_s") events/s"
if $replay_ran; then
  echo "  auditpitr replay:  $replay_s s (median of ${replay_times[*]} s), $(rate "$replay_s") events/s," \
    "peak RSS $((replay_peak / 1024)) MB, $replay_writes row writes"
  echo "  row writes by table, replay / the floor's rows:" \
    "$(while read -r table n; do printf ' %s %s/%s' "$table" "$n" "$(wc -l <"$floor_dir/$table.ids")"; done <"$work/writes.replay")"
  echo "  ratio peer/auditpitr: $(echo "$peer_s $replay_s" | awk '{printf "%.1f", $1 / $2}')x (target >= 20x, >= 50000 events/s)"
fi
echo "  server's floor:    $floor_s s for $floor_rows rows ($floor_read_s s with them read first);" \
  "the 20x budget (peer / 20): $(echo "$peer_s" | awk '{printf "%.2f", $1 / 20}') s;" \
  "floor / budget: $(echo "$floor_s $peer_s" | awk '{printf "%.2f", $1 / ($2 / 20)}')"
[ -n "$baseline" ] && $replay_ran &&
  echo "  baseline replay:   $baseline_s s (median of ${baseline_times[*]} s), $(rate "$baseline_s") events/s," \
    "peak RSS $((baseline_peak / 1024)) MB"
exit $((differs * 3))
