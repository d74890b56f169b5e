#!/usr/bin/env bash
# Side-by-side click throughput and latency on this machine, in one run:
#   (a) nginx `return 302` with a buffered access log (the classic click tracker; no fsync)
#   (b) bare Kestrel answering 302 (no verification, no logging: the framework's ceiling)
#   (c) the ClickFunctions local host (signature check, classification, fsync'd log before every 302)
# Closed loop with wrk (same signed URLs, same connections) for throughput, several interleaved rounds, medians;
# then an open-loop run at a fixed rate with the load generator for latency from intended send times, and the
# local host's peak resident memory; then a soak at a fixed rate with click-to-query freshness probes alongside (the
# consumer keeping up) and the host's resident memory sampled every 10 s (memory flat).
# Usage: tests/load/bench.sh [seconds per round] [rounds] [open-loop rate] [soak rate] [soak seconds, 0 = no soak]
#   A soak rate of "auto" first offers (c) 10 s each of 20,000, 17,500, 15,000, 12,500, 10,000, 7,500 and 5,000 clicks/s
#   (open loop) and soaks at the highest it sustained (at least 97% of the rate delivered, p99 <= 1 s), said in the output.
#   BASELINE=<ClickFunctions.Local.dll of another build> adds (c0), that build started the same way, to the closed-loop
#   rounds and the open loop, so a change is measured side by side with what it replaces (BASELINE_ENV="K=V ..." sets
#   extra settings for (c0) only, LOCAL_ENV for (c) only; LOCAL_DLL runs a prebuilt (c)). OPEN_SECONDS (default 20) is
#   the open loop's length.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_PER_ROUND=${1:-10}
ROUNDS=${2:-5}
RATE=${3:-10000}
SOAK_RATE=${4:-20000}
SOAK_SECONDS=${5:-600}
CONNECTIONS=${CONNECTIONS:-64}
OPEN_SECONDS=${OPEN_SECONDS:-20}
BASELINE=${BASELINE:-}

need() { command -v "$1" >/dev/null 2>&1 || { echo "installing $2 from Debian..." >&2; apt-get install -y -qq "$2" >/dev/null || { apt-get update -qq >/dev/null && apt-get install -y -qq "$2" >/dev/null; }; }; }
need wrk wrk
need nginx nginx

work=$(mktemp -d /tmp/cf-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true; }
trap cleanup EXIT

echo "building (Release)..." >&2
# LOCAL_DLL=<ClickFunctions.Local.dll> runs a build made beforehand (dotnet build -c Release -o DIR) as (c) instead.
[ -n "${LOCAL_DLL:-}" ] || dotnet build -c Release functions/ClickFunctions.Local >/dev/null
dotnet build -c Release functions/ClickFunctions.LoadGen >/dev/null
dotnet build -c Release tests/load/BareRedirect >/dev/null
LOCAL=${LOCAL_DLL:-functions/ClickFunctions.Local/bin/Release/net10.0/ClickFunctions.Local.dll}
LOADGEN=functions/ClickFunctions.LoadGen/bin/Release/net10.0/ClickFunctions.LoadGen.dll
BARE=tests/load/BareRedirect/bin/Release/net10.0/BareRedirect.dll

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_http() { for _ in $(seq 1 200); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done; echo "no answer from $1" >&2; exit 1; }

# (a) nginx
NGINX_PORT=$(free_port)
mkdir -p "$work/nginx"
cat > "$work/nginx.conf" <<CONF
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log $work/nginx/access.log combined buffer=64k flush=1s;
  client_body_temp_path $work/nginx; proxy_temp_path $work/nginx; fastcgi_temp_path $work/nginx; uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location /c { add_header Cache-Control no-store; return 302 https://example.com/landing; }
  }
}
CONF
nginx -c "$work/nginx.conf"

# (b) bare Kestrel
BARE_PORT=$(free_port)
dotnet "$BARE" --urls "http://127.0.0.1:$BARE_PORT" >"$work/bare.log" 2>&1 &
pids+=($!)

# (c) the local host, with fixed keys and an API key for the count check
LOCAL_PORT=$(free_port)
export ClickSigning__KeyId=bench ClickSigning__Key=$(head -c 32 /dev/urandom | base64) Privacy__FingerprintSecret=$(head -c 32 /dev/urandom | base64)
# (an advertiser id with dashes is not a shell identifier, hence env; the freshness probe polls the query API every
# 2 ms, far past the per-key rate limit that protects the API from scrapers, so the bench lifts it)
start_host() { # dll port data-dir log extra-env...
  local dll=$1 port=$2 dir=$3 log=$4; shift 4
  env "Advertisers__ol-adv-0__ApiKey=bench-key-0123456789abcdef" "Advertisers__fresh-adv__ApiKey=fresh-key-0123456789abcdef" \
    "Advertisers__soak-adv-0__ApiKey=soak-key-0123456789abcdef" \
    RateLimits__PerKeyPerSecond=100000 RateLimits__PerKeyBurst=100000 "$@" dotnet "$dll" --urls "http://127.0.0.1:$port" --data-dir "$dir" >"$log" 2>&1 &
}
# shellcheck disable=SC2086 # LOCAL_ENV / BASELINE_ENV are word lists of K=V settings
start_host "$LOCAL" "$LOCAL_PORT" "$work/data" "$work/local.log" ${LOCAL_ENV:-}
LOCAL_PID=$!
pids+=($LOCAL_PID)
targets="nginx bare local"
if [ -n "$BASELINE" ]; then
  BASE_PORT=$(free_port)
  # shellcheck disable=SC2086
  start_host "$BASELINE" "$BASE_PORT" "$work/data-base" "$work/base.log" ${BASELINE_ENV:-}
  BASE_PID=$!
  pids+=($BASE_PID)
  targets="nginx bare base local"
fi

wait_http "http://127.0.0.1:$NGINX_PORT/c"
wait_http "http://127.0.0.1:$BARE_PORT/c"
wait_http "http://127.0.0.1:$LOCAL_PORT/healthz"
[ -n "$BASELINE" ] && wait_http "http://127.0.0.1:$BASE_PORT/healthz"

echo "minting signed click URLs..." >&2
# 200,000 distinct valid clicks over 1,000 Zipf-distributed ads (so every log partition works), for wrk to replay.
dotnet "$LOADGEN" --target "http://127.0.0.1:$LOCAL_PORT" --key-id bench --key "$ClickSigning__Key" --ads 1000 \
  --duplicate-rate 0 --bot-share 0 --invalid-share 0 --requests 200000 --emit-paths "$work/paths.txt" 2>/dev/null
export CLICK_PATHS="$work/paths.txt"

run_wrk() { # name port -> "rps p50 p90 p99" (ms)
  wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_PER_ROUND}s" --latency -s tests/load/clicks.lua "http://127.0.0.1:$2" 2>&1 | tee "$work/wrk-$1.txt" | awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /^ +50%/ { p50 = ms($2) } /^ +90%/ { p90 = ms($2) } /^ +99%/ { p99 = ms($2) } /^Requests\/sec/ { rps = $2 }
    /Non-2xx or 3xx/ { bad = $NF }
    END { printf "%.0f %.2f %.2f %.2f\n", rps, p50, p90, p99 }'
}

# Warm-up, not measured: each target takes traffic for a few seconds first (JIT, the crawler automata's first states,
# connection pools), so every measured round compares warm servers and the spread of (c)'s rounds is the server's own.
for target in $targets; do
  case $target in nginx) port=$NGINX_PORT;; bare) port=$BARE_PORT;; base) port=$BASE_PORT;; local) port=$LOCAL_PORT;; esac
  wrk -t1 -c"$CONNECTIONS" -d"${WARMUP_SECONDS:-5}s" -s tests/load/clicks.lua "http://127.0.0.1:$port" >/dev/null 2>&1 || true
done
declare -A results
for round in $(seq 1 "$ROUNDS"); do
  for target in $targets; do
    case $target in nginx) port=$NGINX_PORT;; bare) port=$BARE_PORT;; base) port=$BASE_PORT;; local) port=$LOCAL_PORT;; esac
    line=$(run_wrk "$target" "$port")
    echo "round $round $target: $line (rps p50 p90 p99 ms)" >&2
    results[$target]+="$line"$'\n'
  done
done

median() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.2f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
col() { printf "%s" "${results[$1]}" | awk -v c="$2" 'NF { print $c }' | median; }

echo "open loop at $RATE clicks/s, latency from intended send time (load generator on the same cores)..." >&2
# nginx first, as the baseline of what the load generator itself costs at this rate on this machine.
dotnet "$LOADGEN" --target "http://127.0.0.1:$NGINX_PORT" --key-id bench --key "$ClickSigning__Key" --rate "$RATE" --duration "00:00:$(printf %02d "$OPEN_SECONDS")" \
  --ads 1000 --advertiser-prefix ol-adv- --json "$work/open-loop-nginx.json" > "$work/open-loop-nginx.txt" 2>"$work/open-loop-nginx.err" || true
echo "(a) nginx:" && cat "$work/open-loop-nginx.txt"
dotnet "$LOADGEN" --target "http://127.0.0.1:$LOCAL_PORT" --key-id bench --key "$ClickSigning__Key" --rate "$RATE" --duration "00:00:$(printf %02d "$OPEN_SECONDS")" \
  --ads 1000 --advertiser-prefix ol-adv- --verify --api-key ol-adv-0=bench-key-0123456789abcdef --json "$work/open-loop.json" > "$work/open-loop.txt" 2>"$work/open-loop.err" || true
echo "(c) ClickFunctions local:" && cat "$work/open-loop.txt"
if [ -n "$BASELINE" ]; then
  dotnet "$LOADGEN" --target "http://127.0.0.1:$BASE_PORT" --key-id bench --key "$ClickSigning__Key" --rate "$RATE" --duration "00:00:$(printf %02d "$OPEN_SECONDS")" \
    --ads 1000 --advertiser-prefix ol-adv- --verify --api-key ol-adv-0=bench-key-0123456789abcdef --json "$work/open-loop-base.json" > "$work/open-loop-base.txt" 2>"$work/open-loop-base.err" || true
  echo "(c0) baseline build:" && cat "$work/open-loop-base.txt"
fi
echo "click-to-query freshness on the idle host..." >&2
sleep 2
dotnet "$LOADGEN" --target "http://127.0.0.1:$LOCAL_PORT" --key-id bench --key "$ClickSigning__Key" --freshness 200 \
  --api-key fresh-adv=fresh-key-0123456789abcdef 2>&1 | tail -n 1

if [ "$SOAK_SECONDS" -gt 0 ] && [ "$SOAK_RATE" = auto ]; then
  echo "soak rate: finding the highest open-loop rate (c) sustains..." >&2
  SOAK_RATE=
  for r in 20000 17500 15000 12500 10000 7500 5000; do
    dotnet "$LOADGEN" --target "http://127.0.0.1:$LOCAL_PORT" --key-id bench --key "$ClickSigning__Key" --rate "$r" --duration 00:00:10 \
      --ads 1000 --advertiser-prefix "rate-$r-" --json "$work/rate-$r.json" > "$work/rate-$r.txt" 2>&1 || true
    verdict=$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); r=int(sys.argv[2]); ok=j["throughput"]>=0.97*r and j["p99Ms"]<=1000; print(("sustained" if ok else "not sustained")+" (%.0f/s, p99 %.0f ms)" % (j["throughput"], j["p99Ms"]))' "$work/rate-$r.json" "$r" 2>/dev/null || echo "no result")
    echo "soak rate probe $r/s: $verdict" | tee -a "$work/soak-rate.txt" >&2
    case $verdict in sustained*) SOAK_RATE=$r; break;; esac
    sleep 5 # let the consumer drain what the probe queued
  done
  SOAK_RATE=${SOAK_RATE:-5000}
  echo "soak rate: $SOAK_RATE clicks/s (the highest probed rate sustained)" | tee -a "$work/soak-rate.txt" >&2
fi
if [ "$SOAK_SECONDS" -gt 0 ]; then
  echo "soak: $SOAK_RATE clicks/s for $SOAK_SECONDS s, freshness probes alongside, RSS sampled every 10 s..." >&2
  # The probes share the host with the load; each probe's 302-to-visible time bounds the consumer's lag at that moment.
  probes=$(( SOAK_SECONDS / 2 ))
  dotnet "$LOADGEN" --target "http://127.0.0.1:$LOCAL_PORT" --key-id bench --key "$ClickSigning__Key" --freshness "$probes" \
    --probe-interval 00:00:01.5 --api-key fresh-adv=fresh-key-0123456789abcdef > "$work/soak-freshness.txt" 2>&1 &
  probe_pid=$!
  ( while kill -0 "$LOCAL_PID" 2>/dev/null; do awk -v t="$(date +%s)" '/VmRSS/ { print t, $2 }' "/proc/$LOCAL_PID/status"; sleep 10; done ) > "$work/soak-rss.txt" &
  rss_pid=$!
  dotnet "$LOADGEN" --target "http://127.0.0.1:$LOCAL_PORT" --key-id bench --key "$ClickSigning__Key" --rate "$SOAK_RATE" \
    --duration "$(printf '%02d:%02d:%02d' $((SOAK_SECONDS / 3600)) $((SOAK_SECONDS % 3600 / 60)) $((SOAK_SECONDS % 60)))" \
    --ads 1000 --advertiser-prefix soak-adv- --verify --verify-timeout 00:02:00 --api-key soak-adv-0=soak-key-0123456789abcdef \
    --json "$work/soak.json" > "$work/soak.txt" 2>"$work/soak.err" || true
  wait "$probe_pid" 2>/dev/null || true
  kill "$rss_pid" 2>/dev/null || true
  echo "(c) soak:" && cat "$work/soak.txt" && tail -n 1 "$work/soak-freshness.txt"
  # Memory flat: the median RSS of the soak's last third against that of its middle third, and the maximum.
  python3 - "$work/soak-rss.txt" <<'PY' | tee "$work/soak-memory.txt"
import statistics, sys
kb = [int(line.split()[1]) for line in open(sys.argv[1]) if line.strip()]
third = len(kb) // 3
if third < 2:
    print("soak memory: too few samples"); sys.exit()
mid, last = statistics.median(kb[third:2 * third]) / 1024, statistics.median(kb[2 * third:]) / 1024
print(f"soak memory: RSS median {mid:.0f} MiB (middle third), {last:.0f} MiB (last third), growth {last - mid:+.0f} MiB, max {max(kb) / 1024:.0f} MiB")
PY
fi
peak_kb=$(awk '/VmHWM/ { print $2 }' "/proc/$LOCAL_PID/status")

printf '\n%-34s %12s %9s %9s %9s\n' "target (wrk, $CONNECTIONS connections, median of $ROUNDS)" "clicks/s" "p50 ms" "p90 ms" "p99 ms"
for target in $targets; do
  case $target in nginx) label="(a) nginx return 302, access log";; bare) label="(b) bare Kestrel 302";; base) label="(c0) baseline build, fsync";; local) label="(c) ClickFunctions local, fsync";; esac
  printf '%-34s %12s %9s %9s %9s\n' "$label" "$(col $target 1)" "$(col $target 2)" "$(col $target 3)" "$(col $target 4)"
done
a=$(col nginx 1); b=$(col bare 1); c=$(col local 1)
awk -v a="$a" -v b="$b" -v c="$c" 'BEGIN { printf "\nratio (c)/(a) = %.2f   ratio (c)/(b) = %.2f\n", c / a, c / b }'
# The spread of (c)'s rounds: the slowest against the fastest (target >= 0.67).
printf "%s" "${results[local]}" | awk 'NF { v = $1 + 0; if (min == "" || v < min) min = v; if (v > max) max = v; r = r sprintf(" %.0f", v) }
  END { printf "(c) rounds:%s   slowest/fastest = %.2f\n", r, min / max }'
jp99() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["p99Ms"])' "$1" 2>/dev/null || echo nan; }
awk -v r="$RATE" -v a="$(jp99 "$work/open-loop-nginx.json")" -v c="$(jp99 "$work/open-loop.json")" \
  'BEGIN { printf "open loop at %s/s: p99 (a) %.1f ms, (c) %.1f ms, ratio (c)/(a) = %.2f (target <= 1.5)\n", r, a, c, c / a }'
if [ -n "$BASELINE" ]; then
  c0=$(col base 1)
  awk -v c="$c" -v c0="$c0" 'BEGIN { printf "ratio (c)/(c0) = %.2f (this build against the baseline build, same rounds)\n", c / c0 }'
  printf "%s" "${results[base]}" | awk 'NF { r = r sprintf(" %.0f", $1) } END { printf "(c0) rounds:%s\n", r }'
  awk -v a="$(jp99 "$work/open-loop-nginx.json")" -v c="$(jp99 "$work/open-loop-base.json")" 'BEGIN { printf "open loop: p99 (c0) %.1f ms, ratio (c0)/(a) = %.2f\n", c, c / a }'
  echo "baseline host peak resident memory: $(( $(awk '/VmHWM/ { print $2 }' "/proc/$BASE_PID/status") / 1024 )) MiB"
fi
echo "local host peak resident memory: $((peak_kb / 1024)) MiB over the whole run (target <= 300)"
# The rest of issue 16's acceptance from this run: counts exact in every verified run, the soak's rate, lag and memory.
echo "counts, open loop (c): $(grep -h '^verify:' "$work/open-loop.txt" 2>/dev/null || echo 'no verify line')"
if [ "$SOAK_SECONDS" -gt 0 ]; then
  [ -s "$work/soak-rate.txt" ] && cat "$work/soak-rate.txt"
  echo "soak at $SOAK_RATE clicks/s for $SOAK_SECONDS s: $(grep -h '^throughput' "$work/soak.txt" 2>/dev/null || echo 'no throughput line')"
  echo "counts, soak: $(grep -h '^verify:' "$work/soak.txt" 2>/dev/null || echo 'no verify line')"
  echo "soak lag (click to query, probes during the soak; target p99 <= 1 s): $(tail -n 1 "$work/soak-freshness.txt")"
  [ -s "$work/soak-memory.txt" ] && cat "$work/soak-memory.txt"
fi
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -r); date: $(date -u +%Y-%m-%dT%H:%MZ); load average $(cut -d" " -f1-3 /proc/loadavg)"
