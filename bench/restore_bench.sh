#!/usr/bin/env bash
# Restore benchmark: the old method (gunzip -c F | pg_restore --clean --if-exists -d db, over the
# live database, no verification) against `auditpitr restore --yes` (temporary database, pg_restore
# -j, checksums of every table against the manifest, atomic swap), alternately, ROUNDS times each.
# Prints each time, the medians and the ratio auditpitr/old.
# Usage: bench/restore_bench.sh [SCALE] [ROUNDS]   (pgbench scale: 1 ~ 15 MB of data; default 20 ~ 300 MB)
# Needs the PostgreSQL server programs (initdb, pg_ctl, pgbench) and a built auditpitr
# (AUDITPITR=path, default build/src/cli/auditpitr). Runs its own throwaway server; removes it after.
set -euo pipefail
SCALE=${1:-20}
ROUNDS=${2:-3}
cd "$(dirname "$0")/.."
AUDITPITR=$(realpath "${AUDITPITR:-build/src/cli/auditpitr}")
BIN=${PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
WORK=$(mktemp -d /tmp/auditpitr-bench.XXXXXX)
PORT=${BENCH_PORT:-55432}
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$WORK"
cleanup() { as_pg "$BIN/pg_ctl" -D "$WORK/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT

as_pg "$BIN/initdb" -D "$WORK/data" -A trust -U postgres >/dev/null
as_pg "$BIN/pg_ctl" -D "$WORK/data" -l "$WORK/server.log" -w \
  -o "-p $PORT -k $WORK -c listen_addresses= -c fsync=off -c max_wal_size=4GB" start >/dev/null
export PGHOST=$WORK PGPORT=$PORT PGUSER=postgres
DB=benchdb
"$BIN/createdb" $DB
echo "generating pgbench scale $SCALE..."
"$BIN/pgbench" -i -q -s "$SCALE" $DB >/dev/null 2>&1
echo "database size: $("$BIN/psql" -XAtc "SELECT pg_size_pretty(pg_database_size('$DB'))" $DB)"

mkdir -p "$WORK/backups" "$WORK/old"
cat > "$WORK/auditpitr.toml" <<TOML
[backup]
dir = "backups"
[[databases]]
alias = "bench"
dbname = "$DB"
conninfo = "host=$WORK port=$PORT user=postgres"
TOML
STAMP=$("$AUDITPITR" -c "$WORK/auditpitr.toml" backup --json | sed -n 's/.*"stamp": "\([0-9_]*\)".*/\1/p' | head -1)
"$BIN/pg_dump" -Fc $DB | gzip > "$WORK/old/${DB}_old.dump.gz"
echo "auditpitr backup: $(du -h "$WORK/backups/${DB}_$STAMP.dump.gz" | cut -f1)  old-script backup: $(du -h "$WORK/old/${DB}_old.dump.gz" | cut -f1)"

now() { date +%s.%N; }
old_times=(); new_times=()
for round in $(seq "$ROUNDS"); do
  t0=$(now)
  gunzip -c "$WORK/old/${DB}_old.dump.gz" | "$BIN/pg_restore" --clean --if-exists -d $DB 2>/dev/null || true
  t1=$(now)
  old_times+=("$(echo "$t1 - $t0" | bc)")
  t0=$(now)
  "$AUDITPITR" -c "$WORK/auditpitr.toml" restore "$STAMP" --yes >/dev/null
  t1=$(now)
  new_times+=("$(echo "$t1 - $t0" | bc)")
  "$BIN/psql" -Xqc "DROP DATABASE \"${DB}_before_restore_$STAMP\"" postgres
  printf 'round %d: old %.1f s, auditpitr %.1f s\n' "$round" "${old_times[-1]}" "${new_times[-1]}"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
old_median=$(median "${old_times[@]}")
new_median=$(median "${new_times[@]}")
printf 'median: old %.1f s, auditpitr %.1f s (including verification), ratio auditpitr/old = %.2f\n' \
  "$old_median" "$new_median" "$(echo "$new_median / $old_median" | bc -l)"
