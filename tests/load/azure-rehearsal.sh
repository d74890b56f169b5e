#!/usr/bin/env bash
# Design-load rehearsal of the Azure adapters (issue 11): the Event Hubs publisher over the Event Hubs fake (which
# enforces 1,000 events/s and 1 MB/s per partition and the namespace's throughput units), the AggregateClicks
# handler with Table claims on Azurite and ADX ingestion on the loopback ADX server, with a scaled model of the design
# load: 10k clicks/s over a 10M-ad Zipf key space plus one ad at half of all traffic, 2% double clicks, instances
# simulated (see tests/ClickFunctions.Azure.Tests/Rehearsal/DesignLoadRehearsal.cs). Bounded: ~2-3 minutes here.
# Prints a details line, then one line of figures, and exits non-zero if a figure misses its acceptance bound:
#   table_requests_per_click<=1.2 partition_events_per_s_max<=1000 partition_mb_per_s_max<=1
#   throughput_units<=eventHubsCapacity (infra/main.bicep) publish_added_p99_ms<=50 reconcile_max_rows<=500000
#   lost=0 double=0
# Knobs (environment): REHEARSAL_RATE (10000), REHEARSAL_SECONDS (15), REHEARSAL_INSTANCES (20),
# REHEARSAL_SIMULATED_INSTANCES (2), REHEARSAL_PARTITIONS (32), REHEARSAL_AGGREGATED_PARTITIONS (4),
# REHEARSAL_SEND_LATENCY_MS (5).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(mktemp /tmp/cf-rehearsal.XXXXXX)
trap 'rm -f "$out"' EXIT

echo "building the Azure tests (Release)..." >&2
dotnet build -c Release tests/ClickFunctions.Azure.Tests >"$out" 2>&1 || { grep -E " error " "$out" | sort -u >&2; exit 1; }
echo "rehearsing..." >&2
REHEARSAL_OUT="$out" dotnet run -c Release --no-build --project tests/ClickFunctions.Azure.Tests -- \
  -method "ClickFunctions.Azure.Tests.Rehearsal.DesignLoadRehearsal.Design_load" -explicit only >&2
cat "$out"

provisioned=$(sed -n 's/^param eventHubsCapacity int = \([0-9]*\).*/\1/p' infra/main.bicep)
tail -n 1 "$out" | tr ' ' '\n' | awk -F= -v tu="$provisioned" '
  { v[$1] = $2 }
  END {
    bad = 0
    if (v["table_requests_per_click"] > 1.2) { print "table_requests_per_click above 1.2" > "/dev/stderr"; bad = 1 }
    if (v["partition_events_per_s_max"] > 1000) { print "a partition above 1,000 events/s" > "/dev/stderr"; bad = 1 }
    if (v["partition_mb_per_s_max"] > 1) { print "a partition above 1 MB/s" > "/dev/stderr"; bad = 1 }
    if (v["throughput_units"] > tu) { print "needs more throughput units than infra/main.bicep provisions (" tu ")" > "/dev/stderr"; bad = 1 }
    if (v["publish_added_p99_ms"] > 50) { print "publish adds more than 50 ms at p99" > "/dev/stderr"; bad = 1 }
    if (v["reconcile_max_rows"] > 500000) { print "a reconcile query would return more than 500,000 rows" > "/dev/stderr"; bad = 1 }
    if (v["lost"] != 0 || v["double"] != 0) { print "clicks lost or counted twice" > "/dev/stderr"; bad = 1 }
    exit bad
  }'
