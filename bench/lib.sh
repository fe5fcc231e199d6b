# Shared helpers for the benchmarks: a throwaway PostgreSQL, timing, medians.
# Source it; call bench_start_server, then use $BENCH_CONNINFO / psql via bench_psql.

bench_bin_dir() {
  local best
  best=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  echo "${AUDITPITR_PG_BINDIR:-$best}"
}

# Runs a server program as postgres when we are root (the server refuses to run as root).
bench_as_server_user() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

bench_start_server() {
  BENCH_DIR=$(mktemp -d /tmp/auditpitr-bench-XXXXXX)
  [ "$(id -u)" -eq 0 ] && chown postgres: "$BENCH_DIR"
  local bin
  bin=$(bench_bin_dir)
  BENCH_PORT=$((20000 + RANDOM % 20000))
  bench_as_server_user "$bin/initdb" -D "$BENCH_DIR/data" -U postgres -A trust --no-sync -E UTF8 --locale=C >/dev/null
  cat >>"$BENCH_DIR/data/postgresql.conf" <<CONF
listen_addresses = ''
port = $BENCH_PORT
unix_socket_directories = '$BENCH_DIR'
fsync = off
synchronous_commit = off
full_page_writes = off
max_wal_size = 4GB
shared_buffers = 512MB
CONF
  bench_as_server_user "$bin/pg_ctl" -D "$BENCH_DIR/data" -l "$BENCH_DIR/server.log" -w start >/dev/null
  BENCH_CONNINFO="host=$BENCH_DIR port=$BENCH_PORT user=postgres"
  export PGHOST=$BENCH_DIR PGPORT=$BENCH_PORT PGUSER=postgres
  trap bench_stop_server EXIT
}

bench_stop_server() {
  bench_as_server_user "$(bench_bin_dir)/pg_ctl" -D "$BENCH_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$BENCH_DIR"
}

# Portfolio Manager's schema filled with generated rows: about $1 MB of table data.
bench_make_portfolio_db() {
  local db=$1 megabytes=$2 root
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  psql -q -d postgres -c "CREATE DATABASE $db" >/dev/null
  psql -q -d "$db" -f "$root/fixtures/portfolio-manager/schema.sql" >/dev/null
  local n=$((megabytes * 2200))   # ~470 bytes per project row with its category and portfolio share
  psql -q -d "$db" >/dev/null <<SQL
INSERT INTO portfolios (created_at, updated_at, title, description, owner_id)
  SELECT now(), now(), 'Portfolio ' || g, repeat('about ', 10), 'user-' || (g % 97) FROM generate_series(1, $n / 50) g;
INSERT INTO categories (created_at, updated_at, title, position, owner_id, portfolio_id)
  SELECT now(), now(), 'Category ' || g, g % 10, 'user-' || (g % 97), 1 + g % ($n / 50) FROM generate_series(1, $n / 10) g;
INSERT INTO projects (created_at, updated_at, title, description, skills, client, link, position, owner_id, category_id)
  SELECT now() - (g || ' seconds')::interval, now(), 'Project ' || g,
         md5(g::text) || ' ' || repeat('lorem ipsum dolor sit amet ', 8) || md5((g * 7)::text),
         ARRAY['design', 'web', 'ux' || (g % 13)], 'Client ' || (g % 500),
         'https://example.com/p/' || g, g % 100, 'user-' || (g % 97), 1 + g % ($n / 10)
  FROM generate_series(1, $n) g;
INSERT INTO sections (created_at, updated_at, title, type, position, owner_id, portfolio_id)
  SELECT now(), now(), 'Section ' || g, 'text', g % 5, 'user-' || (g % 97), 1 + g % ($n / 50) FROM generate_series(1, $n / 10) g;
INSERT INTO section_contents (created_at, updated_at, section_id, type, content, "order", metadata, owner_id)
  SELECT now(), now(), 1 + g % ($n / 10), 'text', repeat('content ', 12) || g, g % 7,
         jsonb_build_object('alt', 'image ' || g, 'width', g % 1920), 'user-' || (g % 97)
  FROM generate_series(1, $n / 2) g;
VACUUM ANALYZE;
SQL
}

# The compressible data set of issue 14: Portfolio Manager's schema with 270,000 projects and as
# many section contents whose texts are repeated md5 strings and lorem ipsum (about 300 MB of table
# data that gzip shrinks about 6-fold).
bench_make_compressible_db() {
  local db=$1 root n=270000
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  psql -q -d postgres -c "CREATE DATABASE $db" >/dev/null
  psql -q -d "$db" -f "$root/fixtures/portfolio-manager/schema.sql" >/dev/null
  psql -q -d "$db" >/dev/null <<SQL
INSERT INTO portfolios (created_at, updated_at, title, description, owner_id)
  SELECT now(), now(), 'Portfolio ' || g, repeat('lorem ipsum ', 4), 'user-' || (g % 97) FROM generate_series(1, $n / 100) g;
INSERT INTO categories (created_at, updated_at, title, position, owner_id, portfolio_id)
  SELECT now(), now(), 'Category ' || g, g % 10, 'user-' || (g % 97), 1 + g % ($n / 100) FROM generate_series(1, $n / 10) g;
INSERT INTO projects (created_at, updated_at, title, description, skills, client, link, position, owner_id, category_id)
  SELECT now(), now(), 'Project ' || g,
         repeat(md5(g::text) || ' ', 8) || repeat('lorem ipsum dolor sit amet, consectetur adipiscing elit. ', 3),
         ARRAY['design', 'web'], 'Client ' || (g % 500), 'https://example.com/p/' || g, g % 100,
         'user-' || (g % 97), 1 + g % ($n / 10)
  FROM generate_series(1, $n) g;
INSERT INTO sections (created_at, updated_at, title, type, position, owner_id, portfolio_id)
  SELECT now(), now(), 'Section ' || g, 'text', g % 5, 'user-' || (g % 97), 1 + g % ($n / 100) FROM generate_series(1, $n / 10) g;
INSERT INTO section_contents (created_at, updated_at, section_id, type, content, "order", metadata, owner_id)
  SELECT now(), now(), 1 + g % ($n / 10), 'text',
         repeat(md5((g * 7)::text) || ' ', 6) || repeat('sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. ', 3),
         g % 7, jsonb_build_object('alt', 'image ' || g), 'user-' || (g % 97)
  FROM generate_series(1, $n) g;
VACUUM ANALYZE;
SQL
}

# The setup both backup and restore benchmarks share: a throwaway server, a database `bench_db`
# (BENCH_DATA=portfolio: Portfolio Manager's of about $1 MB; BENCH_DATA=compressible: the data set
# above, $1 ignored), its size in $BENCH_DB_SIZE, a work folder $BENCH_WORK with old/ and an
# auditpitr.toml (backups in $BENCH_WORK/new). Needs $auditpitr set and built.
bench_portfolio_setup() {
  local megabytes=$1
  [ -x "$auditpitr" ] || { echo "build auditpitr first (scripts/test or cmake --build build)"; exit 2; }
  bench_start_server
  if [ "${BENCH_DATA:-portfolio}" = compressible ]; then
    echo "generating the compressible data set (270,000 projects and section contents)..."
    bench_make_compressible_db bench_db
  else
    echo "generating a Portfolio Manager database of about ${megabytes} MB..."
    bench_make_portfolio_db bench_db "$megabytes"
  fi
  BENCH_DB_SIZE=$(psql -Atq -d bench_db -c "SELECT pg_size_pretty(pg_database_size('bench_db'))")
  echo "database size: $BENCH_DB_SIZE"
  BENCH_WORK="$BENCH_DIR/work"
  mkdir -p "$BENCH_WORK/old"
  cat >"$BENCH_WORK/auditpitr.toml" <<CONF
[backup]
dir = "new"
retention_days = 0
[[databases]]
alias = "bench"
dbname = "bench_db"
conninfo = "$BENCH_CONNINFO"
CONF
}

# The replay benchmarks' setup, after bench_portfolio_setup: indexes on the foreign keys the
# cascades follow (as a DBA would add them; gorm creates none), an [audit] section with the fixture's
# rules, a backup (BENCH_STAMP), then EVENTS audit events a minute after it from the generator
# ($workload: build/bench/replay_workload) acting on the rows as of the backup. Sets BENCH_CONFIG,
# BENCH_STAMP, BENCH_BACKUP_TIME, BENCH_EVENTS_INFO (the generator's summary) and BENCH_LAST_EVENT.
bench_replay_workload() {
  local events=$1 work=$BENCH_WORK
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
  BENCH_CONFIG="$work/auditpitr.toml"
  BENCH_STAMP=$("$auditpitr" -c "$BENCH_CONFIG" backup --json | sed -n 's/.*"stamp": "\([0-9_]*\)".*/\1/p' | head -1)
  BENCH_BACKUP_TIME=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  echo "backup $BENCH_STAMP of a $BENCH_DB_SIZE database; events start a minute after $BENCH_BACKUP_TIME"
  # The live rows the generator acts on, as of the backup (nothing writes bench_db afterwards).
  mkdir -p "$work/state" "$work/audit"
  local spec table columns
  for spec in "portfolios:id, owner_id, title" "categories:id, portfolio_id, position, owner_id, title" \
    "sections:id, portfolio_id, position, owner_id, title" "projects:id, category_id, owner_id, title" \
    "section_contents:id, section_id, owner_id, type"; do
    table=${spec%%:*} columns=${spec#*:}
    psql -Xq -d bench_db -c "\\copy (SELECT $columns FROM $table WHERE deleted_at IS NULL ORDER BY id) TO '$work/state/$table.tsv'"
  done
  BENCH_EVENTS_INFO=$("$workload" "$work/state" "$work/audit" "$events" "$(($(date -u +%s) + 60))")
  echo "workload: $BENCH_EVENTS_INFO"
  BENCH_LAST_EVENT=$(echo "$BENCH_EVENTS_INFO" | sed 's/.* last=\([^ ]*\).*/\1/')
}

# bench_timed NAME SHELL_COMMAND: runs the command through bash after a checkpoint, sets NAME_s
# (wall seconds) and NAME_rss (peak KiB of its largest process).
bench_timed() {
  psql -Xq -d postgres -c CHECKPOINT
  sync
  /usr/bin/time -f '%e %M' -o "$BENCH_WORK/time.out" bash -c "$2"
  read -r "${1}_s" "${1}_rss" <"$BENCH_WORK/time.out"
}

# Seconds since the epoch with nanoseconds.
bench_now() { date +%s.%N; }

# Largest of the numbers given as arguments.
bench_max() { printf '%s\n' "$@" | sort -g | tail -1; }

# Median of the numbers given as arguments.
bench_median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
