#!/usr/bin/env bash
# Records the query API's answers (status, content type, body bytes) from the real local host, so that a change
# that should not alter them can be checked byte for byte on the same data:
#
#   query-api-snapshot.sh seed   <Local.dll> <data-dir>            # start a host, send a fixed set of clicks, stop it
#   query-api-snapshot.sh record <Local.dll> <data-dir> <out-dir>  # start a host on a copy of <data-dir>, record answers
#
#   diff -r before/ after/   # the two recordings must be identical
#
# The data directory carries its development keys and the clicks' times (window.txt), so `record` asks the same
# questions of the same data whichever build it runs. Needs curl; binds 127.0.0.1 on a free port only.
set -euo pipefail

KEY1="snapshot-api-key-adv-1-0123456789"
KEY2="snapshot-api-key-adv-2-0123456789"

start_host() { # dll data-dir -> sets HOST_PID, BASE
  local dll=$1 dir=$2 log=$2/host.out
  env "Advertisers__adv-1__ApiKey=$KEY1" "Advertisers__adv-2__ApiKey=$KEY2" \
    dotnet "$dll" --urls http://127.0.0.1:0 --data-dir "$dir" >"$log" 2>&1 &
  HOST_PID=$!
  for _ in $(seq 1 600); do
    BASE=$(grep -oE 'http://127\.0\.0\.1:[0-9]+' "$log" | head -1 || true)
    if [[ -n "$BASE" ]] && curl -fsS "$BASE/healthz" >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$HOST_PID" 2>/dev/null; then cat "$log" >&2; echo "host exited" >&2; exit 1; fi
    sleep 0.1
  done
  echo "host did not start" >&2; kill "$HOST_PID"; exit 1
}

stop_host() { kill -TERM "$HOST_PID" 2>/dev/null || true; wait "$HOST_PID" 2>/dev/null || true; }

sign() { # dll data-dir ad advertiser campaign impression
  dotnet "$1" sign --data-dir "$2" --base "$BASE" --ad "$3" --advertiser "$4" --url "https://example.com/l?x=$3" --campaign "$5" --impression "$6"
}

case "${1:-}" in
seed)
  dll=$2 dir=$3
  mkdir -p "$dir"
  start_host "$dll" "$dir"
  first=$(date -u +%Y-%m-%dT%H:%M:00Z)
  browser="Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
  n=0
  for spec in "ad-1 adv-1 cmp-a" "ad-1 adv-1 cmp-b" "ad-2 adv-1 cmp-a" "ad-3 adv-2 cmp-c"; do
    read -r ad adv cmp <<<"$spec"
    for i in 1 2 3; do
      n=$((n + 1))
      url=$(sign "$dll" "$dir" "$ad" "$adv" "$cmp" "imp-$n")
      curl -s -o /dev/null -A "$browser" -H "X-Forwarded-For: 203.0.113.$n" "$url"
      curl -s -o /dev/null -A "$browser" -H "X-Forwarded-For: 203.0.113.$n" "$url"           # duplicate
      curl -s -o /dev/null -A "Googlebot/2.1 (+http://www.google.com/bot.html)" "$url"        # bot
      curl -s -o /dev/null -I -A "$browser" "$url"                                            # HEAD
    done
  done
  # Wait (bounded) until the consumer has counted every click: ad-1's day total covers all of ad-1's clicks.
  day=$(date -u +%Y-%m-%dT00:00:00Z); next=$(date -u -d "$day + 1 day" +%Y-%m-%dT00:00:00Z)
  for _ in $(seq 1 600); do
    t=$(curl -s -H "X-Api-Key: $KEY2" "$BASE/api/ads/ad-3/clicks?from=$day&to=$next&granularity=day" || true)
    [[ "$t" == *'"clicks":3'* && "$t" == *'"invalidClicks":9'* ]] && break
    sleep 0.1
  done
  last=$(date -u -d "+1 minute" +%Y-%m-%dT%H:%M:00Z)
  stop_host
  echo "$first $last" >"$dir/window.txt"
  echo "seeded $n signed URLs between $first and $last into $dir"
  ;;
record)
  dll=$2 src=$3 out=$4
  work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
  cp -a "$src/." "$work/"
  read -r first last <"$work/window.txt"
  hour=$(date -u -d "$first" +%Y-%m-%dT%H:00:00Z); hour2=$(date -u -d "$last + 1 hour" +%Y-%m-%dT%H:00:00Z)
  day=$(date -u -d "$first" +%Y-%m-%dT00:00:00Z); day2=$(date -u -d "$last + 1 day" +%Y-%m-%dT00:00:00Z)
  start_host "$dll" "$work"
  mkdir -p "$out"
  i=0
  ask() { # key path
    i=$((i + 1))
    local f; f=$(printf '%s/%02d' "$out" "$i")
    printf '%s %s\n' "${1:-none}" "$2" >"$f.request"
    local args=(-s -o "$f.body" -w '%{http_code} %{content_type}\n')
    [[ -n "$1" ]] && args+=(-H "X-Api-Key: $1")
    curl "${args[@]}" "$BASE$2" >"$f.status"
  }
  for g in "minute $first $last" "hour $hour $hour2" "day $day $day2"; do
    read -r gran from to <<<"$g"
    for ad in ad-1 ad-2 ad-3 ad-none; do ask "$KEY1" "/api/ads/$ad/clicks?from=$from&to=$to&granularity=$gran"; done
  done
  ask "$KEY1" "/api/advertisers/adv-1/ads?from=$day&to=$day2"
  ask "$KEY1" "/api/advertisers/adv-1/ads"
  ask "$KEY2" "/api/advertisers/adv-2/ads?from=$day&to=$day2"
  ask "$KEY1" "/api/advertisers/adv-2/ads?from=$day&to=$day2"
  ask "" "/api/ads/ad-1/clicks?from=$day&to=$day2&granularity=day"
  ask "wrong-key-wrong-key-wrong" "/api/advertisers/adv-1/ads"
  ask "$KEY1" "/api/ads/ad-1/clicks?from=$day&to=$day2"
  ask "$KEY1" "/api/ads/ad-1/clicks?from=$day&to=$day2&granularity=week"
  ask "$KEY1" "/api/ads/ad-1/clicks?from=$day2&to=$day&granularity=day"
  ask "$KEY1" "/api/ads/ad-1/clicks?from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z&granularity=minute"
  ask "$KEY1" "/api/ads/ad-1/clicks?from=$first&to=$last&granularity=hour"
  ask "$KEY1" "/api/ads/ad-1/clicks?from=not-a-time&to=$last&granularity=minute"
  ask "$KEY1" "/api/advertisers/adv-1/ads?from=x&to=y"
  ask "$KEY1" "/api/ads/ad-3/clicks?from=$day&to=$day2&granularity=day"
  ask "$KEY1" "/api/ads/ad-1/clicks/extra"
  ask "$KEY1" "/api/ads/ad%2F1/clicks?from=$day&to=$day2&granularity=day"
  stop_host
  echo "recorded $i answers into $out"
  ;;
*)
  sed -n 2,10p "$0"; exit 2 ;;
esac
