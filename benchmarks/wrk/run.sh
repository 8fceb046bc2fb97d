#!/usr/bin/env bash
# Starts the broker jar on a temp folder and measures, with wrk (64 connections, keep-alive), the trivial
# /health endpoint next to single-message pushes and push+pull pairs, in the same run.
# Usage: benchmarks/wrk/run.sh [seconds] [extra config YAML lines...]
#   e.g. benchmarks/wrk/run.sh 10 'audit:' '  enabled: false'
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
jar="$here/../../broker/target/spool-broker.jar"
secs="${1:-10}"; shift || true
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
[ -f "$jar" ] || { echo "build first: ./mvnw -q -DskipTests package" >&2; exit 1; }
work="$(mktemp -d)"
port=$((20000 + RANDOM % 20000))
{ printf 'QueueManager:\n  max_length: 1000000000\nserver:\n  port: %s\n' "$port"; printf '%s\n' "$@"; } > "$work/config.yaml"
echo 'bench-password' | java -jar "$jar" user add bench --role ADMINISTRATOR --config "$work/config.yaml" >/dev/null
java -Xmx1g -jar "$jar" --config "$work/config.yaml" > "$work/broker.out" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -s "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
token=$(curl -s -X POST "http://127.0.0.1:$port/login" -H 'Content-Type: application/json' \
  -d '{"username":"bench","password":"bench-password"}' | sed 's/.*"token":"\([^"]*\)".*/\1/')
curl -s -X POST "http://127.0.0.1:$port/queues/bench" -H "Authorization: $token" >/dev/null
export SPOOL_TOKEN="$token"
url="http://127.0.0.1:$port"
rate() { grep 'Requests/sec' | awk '{print $2}'; }
# Warm-up: JIT-compile every path before measuring.
wrk -t2 -c64 -d5s "$url/health" >/dev/null
wrk -t2 -c64 -d5s -s "$here/pair.lua" "$url/" >/dev/null
health=$(wrk -t2 -c64 -d"${secs}s" "$url/health" | rate)
push=$(wrk -t2 -c64 -d"${secs}s" -s "$here/push.lua" "$url/queues/bench/messages" | rate)
pairs=$(wrk -t2 -c64 -d"${secs}s" -s "$here/pair.lua" "$url/" | rate)
awk -v h="$health" -v p="$push" -v q="$pairs" 'BEGIN {
  printf "health      %10.0f req/s\n", h
  printf "push        %10.0f req/s   push/health = %.2f\n", p, p / h
  printf "push+pull   %10.0f req/s   = %.0f pairs/s = %.0fx the Flask service (500 pairs/s)\n", q, q / 2, q / 1000
}'
