#!/usr/bin/env bash
# Issue 22's measurements on one broker over Chronicle, taking turns round by round so that each comparison comes
# from one run on a noisy machine (300-byte JSON messages):
#   B0 / B4  batch pushes (8 connections, 100 a request) to a queue with no subscription / with four
#   C0       lease-drain of BACKLOG messages by the queue's own consumers (one connection, lease 100, ack 100)
#   C1 / C4  the same backlog drained through one subscription / through four at once (one connection each);
#            the figure is per subscription
# Usage: benchmarks/subscriptions/run.sh [BROKER_JAR]   (default broker/target/spool-broker.jar)
# Environment: ROUNDS (3), DURATION (10), BACKLOG (200000), BENCH_JAR (benchmarks/target/spool-bench.jar).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bench="$(realpath -m "${BENCH_JAR:-$here/../target/spool-bench.jar}")"
jar="$(realpath -m "${1:-$here/../../broker/target/spool-broker.jar}")"
rounds="${ROUNDS:-3}"; duration="${DURATION:-10}"; backlog="${BACKLOG:-200000}"
[ -f "$bench" ] && [ -f "$jar" ] || { echo "build first: ./mvnw -q -DskipTests package" >&2; exit 1; }
work="$(mktemp -d)"
broker_pid=""
cleanup() { [ -n "$broker_pid" ] && kill -TERM "$broker_pid" 2>/dev/null && wait "$broker_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
printf 'server:\n  port: %s\nQueueManager:\n  path: %s/data/queues.json\n  max_length: 1000000000\naudit:\n  body: omit\n' \
  "$port" "$work" > "$work/config.yaml"
java -jar "$jar" --config "$work/config.yaml" > "$work/broker.log" 2>&1 &
broker_pid=$!
for _ in $(seq 600); do grep -qs listening "$work/broker.log" && break; sleep 0.1; done
password="$(sed -n 's/.*password: //p' "$work/broker.log" | head -1)"
url="http://127.0.0.1:$port"
# load QUEUE FIELD ARGS...: one run of the load tool; prints FIELD of its JSON summary
load() {
  local q="$1" field="$2"; shift 2
  java -jar "$bench" load --url "$url" --password "$password" --queue "$q" --size 300 --create-queue --json "$@" \
    2> "$work/load.err" | python3 -c 'import json,sys; d=json.load(sys.stdin); m=[v for v in d.values() if isinstance(v, dict)][0]; print(round(m[sys.argv[1]]))' "$field" \
    || { cat "$work/load.err" >&2; echo "?"; }
}
echo "round workload msg/s"
for r in $(seq "$rounds"); do
  echo "$r B0 $(load b0-$r messages_per_second --mode batch --connections 8 --batch 100 --duration "${duration}s" --warmup 3s)"
  echo "$r B4 $(load b4-$r messages_per_second --mode batch --connections 8 --batch 100 --duration "${duration}s" --warmup 3s --subscriptions 4)"
  echo "$r C0 $(load c0-$r messages_per_second --mode lease-drain --backlog "$backlog")"
  echo "$r C1 $(load c1-$r per_subscription_messages_per_second --mode lease-drain --backlog "$backlog" --subscriptions 1)"
  echo "$r C4 $(load c4-$r per_subscription_messages_per_second --mode lease-drain --backlog "$backlog" --subscriptions 4)"
done
