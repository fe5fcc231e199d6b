#!/bin/sh
# Audit-log reader benchmark: generates a Portfolio Manager log set (plain, then a .gz copy), scans
# it with auditpitr's reader (build/bench/log_scan, one core) and with the jq filter a user would
# write, and prints MB/s for both, the ratio and peak RSS.
# Usage: bench/log_reader_bench.sh [SIZE_MB]   (default 1024; env BUILD=build, WORK=/tmp/auditpitr-bench)
set -eu
SIZE_MB=${1:-1024}
BUILD=${BUILD:-build}
WORK=${WORK:-/tmp/auditpitr-bench}
SCAN="$BUILD/bench/log_scan"
FILTER='select(.operation|test("^(CREATE|UPDATE|DELETE)_"))'
[ -x "$SCAN" ] || { echo "build first: cmake -S . -B $BUILD && make -C $BUILD log_scan" >&2; exit 2; }
command -v jq >/dev/null || { echo "jq is not installed" >&2; exit 2; }

rm -rf "$WORK" && mkdir -p "$WORK/plain" "$WORK/gz"
trap 'rm -rf "$WORK"' EXIT
"$SCAN" generate "$WORK/plain" "$SIZE_MB"
for f in create update delete; do gzip -6 -c "$WORK/plain/$f.log" > "$WORK/gz/$f.log.1.gz"; done
BYTES=$(cat "$WORK"/plain/*.log | wc -c)
echo "log set: $BYTES bytes plain, $(cat "$WORK"/gz/* | wc -c) bytes gzip ($SIZE_MB MB requested)"

now() { date +%s.%N; }
mbps() { echo "$BYTES $1" | awk '{printf "%.1f", $1 / 1e6 / $2}'; }
peak_rss() { awk '/Maximum resident/ {print $6}' "$1"; }

# ours: the driver prints its own timing; /usr/bin/time adds the process's peak RSS.
for kind in plain gz; do
  /usr/bin/time -v "$SCAN" scan "$WORK/$kind" > "$WORK/ours.out" 2> "$WORK/ours.time"
  secs=$(sed 's/.*seconds=\([0-9.]*\).*/\1/' "$WORK/ours.out")
  eval "ours_$kind=$(mbps "$secs")"
  echo "auditpitr $kind: $(cat "$WORK/ours.out") peak_rss_kb=$(peak_rss "$WORK/ours.time")"
done
t0=$(now); zcat "$WORK"/gz/*.gz | wc -c > /dev/null; t1=$(now)
echo "zcat alone (zlib inflate reference): $(mbps "$(echo "$t1 $t0" | awk '{print $1 - $2}')") MB/s"

# jq over the same files, uncompressed and compressed.
t0=$(now)
/usr/bin/time -v sh -c "cat $WORK/plain/create.log $WORK/plain/update.log $WORK/plain/delete.log | jq -c '$FILTER' > /dev/null" 2> "$WORK/jq.time"
t1=$(now); jq_plain=$(mbps "$(echo "$t1 $t0" | awk '{print $1 - $2}')")
echo "jq plain: $jq_plain MB/s, peak_rss_kb=$(peak_rss "$WORK/jq.time")"
t0=$(now)
zcat "$WORK"/gz/*.gz | jq -c "$FILTER" > /dev/null
t1=$(now); jq_gz=$(mbps "$(echo "$t1 $t0" | awk '{print $1 - $2}')")
echo "jq gz: $jq_gz MB/s"
echo "ratio plain: $(echo "$ours_plain $jq_plain" | awk '{printf "%.1f", $1 / $2}')x, gz: $(echo "$ours_gz $jq_gz" | awk '{printf "%.1f", $1 / $2}')x"
