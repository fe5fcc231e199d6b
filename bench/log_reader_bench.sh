#!/usr/bin/env bash
# Audit-log reader benchmark: generates a Portfolio Manager log set (plain, then a .gz copy), scans
# it with auditpitr's reader (build/bench/log_scan, one core) and with the jq filter a user would
# write, and prints MB/s for both, the ratio and peak RSS. Throughput is given per wall-clock second
# and per CPU second (user + system): on a shared machine the wall clock also counts waiting for a
# core, so the CPU figure is the steadier measure of one core's speed.
# auditpitr's scan runs RUNS times (default 5) and the best and median runs are printed: the machine
# is shared, and the best run is the one least disturbed by others; the ratio to jq uses the median.
# The .gz scan (inflated by ISA-L) is compared with zlib's inflate alone on one core (log_scan inflate,
# gzread; RUNS times too),
# the speed the issue holds it to.
# Then `auditpitr analyze` end to end (process start, the catalog from a throwaway server with the
# Portfolio Manager schema, reading, mapping with the fixture's rules, coverage, the report) over
# the plain files, ANALYZE_RUNS times (default 3), against the same jq filter: median seconds and
# the ratio. Skipped with a message when build/src/cli/auditpitr is missing.
# Usage: bench/log_reader_bench.sh [SIZE_MB]   (default 1024; env BUILD=build, WORK=/tmp/auditpitr-bench, RUNS=5,
# ANALYZE_RUNS=3)
set -eu
source "$(dirname "$0")/lib.sh"
SIZE_MB=${1:-1024}
RUNS=${RUNS:-5}
BUILD=${BUILD:-build}
WORK=${WORK:-/tmp/auditpitr-bench}
SCAN="$BUILD/bench/log_scan"
AUDITPITR=${AUDITPITR:-$BUILD/src/cli/auditpitr}
ANALYZE_RUNS=${ANALYZE_RUNS:-3}
FILTER='select(.operation|test("^(CREATE|UPDATE|DELETE)_"))'
[ -x "$SCAN" ] || { echo "build first: cmake -S . -B $BUILD && make -C $BUILD log_scan" >&2; exit 2; }
command -v jq >/dev/null || { echo "jq is not installed" >&2; exit 2; }

rm -rf "$WORK" && mkdir -p "$WORK/plain" "$WORK/gz"
trap 'rm -rf "$WORK"' EXIT
"$SCAN" generate "$WORK/plain" "$SIZE_MB"
for f in create update delete; do gzip -6 -c "$WORK/plain/$f.log" > "$WORK/gz/$f.log.1.gz"; done
BYTES=$(cat "$WORK"/plain/*.log | wc -c)
LINES=$(cat "$WORK"/plain/*.log | wc -l)
echo "log set: $BYTES bytes plain in $LINES lines, $(cat "$WORK"/gz/* | wc -c) bytes gzip ($SIZE_MB MB requested)"

mbps() { echo "$BYTES $1" | awk '{printf "%.1f", $1 / 1e6 / $2}'; }
ratio() { echo "$1 $2" | awk '{printf "%.1f", $1 / $2}'; }
# timed NAME COMMAND: runs COMMAND through sh, sets NAME_wall, NAME_cpu (MB/s) and NAME_rss (KiB).
timed() {
  /usr/bin/time -f '%e %U %S %M' -o "$WORK/time.out" sh -c "$2" > /dev/null
  read -r wall user sys rss < "$WORK/time.out"
  eval "$1_wall=$(mbps "$wall") $1_cpu=$(mbps "$(echo "$user $sys" | awk '{print $1 + $2}')") $1_rss=$rss"
}
# field NAME LINE: the value of NAME=... in LINE
field() { echo "$2" | sed "s/.* $1=\([^ ]*\).*/\1/"; }

# ours: the driver times its own scan (without process start) and reports its peak RSS.
# Each run starts with its files in the page cache (read just before), so disk reads of files
# evicted meanwhile do not count: the kernel time printed is then the read() copy.
for kind in plain gz; do
  walls=() cpus=()
  for run in $(seq "$RUNS"); do
    cat "$WORK/$kind"/* > /dev/null
    out=$("$SCAN" scan "$WORK/$kind")
    echo "auditpitr $kind run $run: $out"
    walls+=("$(field mb_per_s " $out")") cpus+=("$(field mb_per_cpu_s " $out")")
  done
  eval "ours_${kind}_wall=$(bench_median "${walls[@]}") ours_${kind}_cpu=$(bench_median "${cpus[@]}")"
  eval "ours_${kind}_best_wall=$(bench_max "${walls[@]}") ours_${kind}_best_cpu=$(bench_max "${cpus[@]}")"
done
walls=()
for run in $(seq "$RUNS"); do
  cat "$WORK"/gz/* > /dev/null
  out=$("$SCAN" inflate "$WORK/gz")
  echo "zlib inflate alone run $run: $out"
  walls+=("$(field mb_per_s " $out")")
done
zlib_wall=$(bench_median "${walls[@]}")

cat "$WORK"/plain/* > /dev/null
timed jq_plain "cat $WORK/plain/create.log $WORK/plain/update.log $WORK/plain/delete.log | jq -c '$FILTER'"
echo "jq plain: $jq_plain_wall MB/s, $jq_plain_cpu MB/s per CPU second (cat + jq), peak_rss_kb=$jq_plain_rss"
cat "$WORK"/gz/* > /dev/null
timed jq_gz "zcat $WORK/gz/*.gz | jq -c '$FILTER'"
echo "jq gz: $jq_gz_wall MB/s, $jq_gz_cpu MB/s per CPU second (zcat + jq), peak_rss_kb=$jq_gz_rss"

echo "summary (MB/s wall | per CPU second; auditpitr: median of $RUNS runs, best in brackets):"
echo "  plain: auditpitr $ours_plain_wall | $ours_plain_cpu [best $ours_plain_best_wall | $ours_plain_best_cpu], jq $jq_plain_wall | $jq_plain_cpu," \
  "ratio $(ratio "$ours_plain_wall" "$jq_plain_wall")x | $(ratio "$ours_plain_cpu" "$jq_plain_cpu")x"
echo "  gz:    auditpitr $ours_gz_wall | $ours_gz_cpu [best $ours_gz_best_wall | $ours_gz_best_cpu], jq $jq_gz_wall | $jq_gz_cpu," \
  "ratio $(ratio "$ours_gz_wall" "$jq_gz_wall")x | $(ratio "$ours_gz_cpu" "$jq_gz_cpu")x;" \
  "zlib inflate alone (one core, median) $zlib_wall: the .gz scan runs at $(ratio "$ours_gz_wall" "$zlib_wall")x its speed"

# analyze end to end. bench_start_server replaces the EXIT trap: the work folder is removed too.
[ -x "$AUDITPITR" ] || { echo "analyze: $AUDITPITR is not built, skipped"; exit 0; }
bench_start_server
trap 'bench_stop_server; rm -rf "$WORK"' EXIT
psql -Xq -d postgres -c "CREATE DATABASE analyze_db"
psql -Xq -d analyze_db -f "$(dirname "$0")/../fixtures/portfolio-manager/schema.sql" > /dev/null
cat > "$WORK/auditpitr.toml" <<CONF
[backup]
dir = "backups"
[[databases]]
alias = "bench"
dbname = "analyze_db"
conninfo = "$BENCH_CONNINFO"
[audit]
dir = "plain"
database = "bench"
mapping = "$(cd "$(dirname "$0")/.." && pwd)/fixtures/portfolio-manager/mapping.toml"
CONF
walls=() cpus=()
for run in $(seq "$ANALYZE_RUNS"); do
  cat "$WORK"/plain/* > /dev/null
  /usr/bin/time -f '%e %U %S %M' -o "$WORK/time.out" "$AUDITPITR" -c "$WORK/auditpitr.toml" analyze --json > /dev/null
  read -r wall user sys rss < "$WORK/time.out"
  echo "auditpitr analyze run $run: $wall s wall, $user s user, $sys s system, peak_rss_kb=$rss"
  walls+=("$wall") cpus+=("$(echo "$user $sys" | awk '{print $1 + $2}')")
done
analyze_s=$(bench_median "${walls[@]}") analyze_cpu_s=$(bench_median "${cpus[@]}")
seconds() { echo "$BYTES $1" | awk '{printf "%.2f", $1 / 1e6 / $2}'; }   # of MB/s
echo "  analyze end to end (median of $ANALYZE_RUNS): $analyze_s s wall, $analyze_cpu_s s CPU;" \
  "jq filter $(seconds "$jq_plain_wall") s wall, $(seconds "$jq_plain_cpu") s CPU;" \
  "ratio $(ratio "$(seconds "$jq_plain_wall")" "$analyze_s")x wall | $(ratio "$(seconds "$jq_plain_cpu")" "$analyze_cpu_s")x CPU (target >= 30x)"
