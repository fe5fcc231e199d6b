#!/usr/bin/env bash
# Recover speed (issue 10): a Portfolio Manager database of MB megabytes is backed up with auditpitr,
# then EVENTS audit events after the backup are generated in the application's log format
# (build/bench/replay_workload, as bench/replay_bench.sh). Then, in one run:
#   restore alone   auditpitr restore STAMP --into restore_db
#   replay alone    auditpitr replay --to LAST --into restore_db (from the restored backup's snapshot)
#   recover         auditpitr recover --to LAST --into recover_db (restore + capture + replay + verification)
# and prints each phase, recover / (restore + replay) (target <= 1.10), and whether the two results
# are the same database (auditpitr verify --against; exit 3 when they differ).
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
work=$BENCH_WORK
psql -Xq -d bench_db <<'SQL'
CREATE INDEX ON categories (portfolio_id);
CREATE INDEX ON projects (category_id);
CREATE INDEX ON sections (portfolio_id);
CREATE INDEX ON section_contents (section_id);
ANALYZE;
SQL
cat >>"$work/auditpitr.toml" <<CONF
[audit]
dir = "audit"
database = "bench"
mapping = "$root/fixtures/portfolio-manager/mapping.toml"
CONF
config="$work/auditpitr.toml"

stamp=$("$auditpitr" -c "$config" backup --json | sed -n 's/.*"stamp": "\([0-9_]*\)".*/\1/p' | head -1)
echo "backup $stamp of a $BENCH_DB_SIZE database"
mkdir -p "$work/state" "$work/audit"
export_rows() { psql -Xq -d bench_db -c "\\copy (SELECT $2 FROM $1 WHERE deleted_at IS NULL ORDER BY id) TO '$work/state/$1.tsv'"; }
export_rows portfolios "id, owner_id, title"
export_rows categories "id, portfolio_id, position, owner_id, title"
export_rows sections "id, portfolio_id, position, owner_id, title"
export_rows projects "id, category_id, owner_id, title"
export_rows section_contents "id, section_id, owner_id, type"
generated=$("$workload" "$work/state" "$work/audit" "$events" "$(($(date -u +%s) + 60))")
last_event=$(echo "$generated" | sed 's/.* last=\([^ ]*\).*/\1/')
echo "workload: $generated"

settle() { psql -Xq -d postgres -c CHECKPOINT; sync; }
q() { printf '%q' "$1"; }
timed() {
  settle
  /usr/bin/time -f '%e %M' -o "$work/time.out" bash -c "$2"
  read -r "${1}_s" "${1}_rss" <"$work/time.out"
}
a="$(q "$auditpitr") -c $(q "$config")"
timed restore "$a restore $stamp --db bench --into restore_db >/dev/null"
echo "restore alone: $restore_s s"
timed replay "$a replay --to $last_event --into restore_db --json >$(q "$work/replay.json")"
echo "replay alone: $replay_s s, peak RSS $((replay_rss / 1024)) MB"
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
exit $same
