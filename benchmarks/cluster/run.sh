#!/usr/bin/env bash
# The peer workload on one Spool node over Kafka, next to the same broker jar on Chronicle and next to Kafka's
# own producer and share-consumer tools against the same Kafka, taking turns round by round so that a comparison
# comes from one run on a noisy machine. The Kafka cluster is local (spool-bench.jar kafka: KRaft nodes as
# child JVMs). Workloads, 300-byte JSON messages:
#   A  push:        A_CONNECTIONS connections (64), one push in flight each
#   B  batch:       8 connections, 100 messages a request
#   C  lease-drain: one connection drains a backlog, leasing 100 and acking them per round trip
#   kafka-produce:  Kafka's ProducerPerformance, acks=all, idempotent (what a Spool node's pushes do)
#   kafka-share:    Kafka's ShareConsumerPerformance reading those records through a share group
# Usage: benchmarks/cluster/run.sh [BROKER_JAR]   (default broker/target/spool-broker.jar)
# Environment: ROUNDS (2), DURATION (10), BACKLOG (20000), KAFKA_NODES (1; 3 for a replicated run), A_CONNECTIONS (64),
#   BENCH_JAR (benchmarks/target/spool-bench.jar).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bench="$(realpath -m "${BENCH_JAR:-$here/../target/spool-bench.jar}")"
jar="$(realpath -m "${1:-$here/../../broker/target/spool-broker.jar}")"
rounds="${ROUNDS:-2}"; duration="${DURATION:-10}"; backlog="${BACKLOG:-20000}"; knodes="${KAFKA_NODES:-1}"
aconn="${A_CONNECTIONS:-64}"
[ -f "$bench" ] && [ -f "$jar" ] || { echo "build first: ./mvnw -q -DskipTests package" >&2; exit 1; }

work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
await() { # await FILE PATTERN PID
  for _ in $(seq 1200); do
    grep -qs "$2" "$1" && return 0
    kill -0 "$3" 2>/dev/null || { echo "exited:" >&2; cat "$1" >&2; exit 1; }
    sleep 0.1
  done
  echo "timed out waiting for '$2' in $1" >&2; exit 1
}

kport=$(( 20000 + RANDOM % 20000 ))
java -jar "$bench" kafka --nodes "$knodes" --port "$kport" --dir "$work/kafka" > "$work/kafka.log" 2>&1 &
pids+=($!); await "$work/kafka.log" "Kafka is up" $!
bootstrap="$(sed -n 's/.*bootstrap_servers: "\(.*\)"/\1/p' "$work/kafka.log")"

# start_node NAME EXTRA_YAML: sets url and password
start_node() {
  local dir="$work/$1" port; port="$(free_port)"; mkdir -p "$dir"
  printf 'server:\n  port: %s\nQueueManager:\n  path: %s/data/queues.json\n  max_length: 100000000\n%s' \
    "$port" "$dir" "$2" > "$dir/config.yaml"
  java -jar "$jar" --config "$dir/config.yaml" > "$dir/broker.log" 2>&1 &
  pids+=($!); await "$dir/broker.log" "listening" $!
  url="http://127.0.0.1:$port"
  password="$(sed -n 's/.*password: //p' "$dir/broker.log" | head -1)"
}
start_node chronicle ""; chronicle_url="$url"; chronicle_password="$password"
rf=$(( knodes < 3 ? knodes : 3 )); isr=$(( rf > 1 ? rf - 1 : 1 ))   # queues need replication_factor live brokers
start_node kafka "$(printf 'storage:\n  backend: kafka\nkafka:\n  bootstrap_servers: "%s"\n  replication_factor: %s\n  min_insync_replicas: %s\nnode:\n  id: "bench"\n' "$bootstrap" "$rf" "$isr")"
kafka_url="$url"; kafka_password="$password"

rate() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(round(d[sys.argv[1].replace("-", "_")]["messages_per_second"]))' "$1"; }
load() { # load URL PASSWORD MODE QUEUE ARGS...
  local u="$1" p="$2" m="$3" q="$4"; shift 4
  java -jar "$bench" load --url "$u" --password "$p" --mode "$m" --queue "$q" --size 300 --create-queue --json "$@" \
    2> "$work/load.err" | rate "$m" || { cat "$work/load.err" >&2; echo "?"; }
}
printf '%-5s %-14s %-10s %10s\n' round workload backend msg/s
for round in $(seq "$rounds"); do
  for b in chronicle kafka; do
    if [ "$b" = chronicle ]; then u="$chronicle_url"; p="$chronicle_password"; else u="$kafka_url"; p="$kafka_password"; fi
    printf '%-5s %-14s %-10s %10s\n' "$round" "A push" "$b" \
      "$(load "$u" "$p" push "a$round" --connections "$aconn" --duration "${duration}s" --warmup 3s)"
    printf '%-5s %-14s %-10s %10s\n' "$round" "B batch" "$b" \
      "$(load "$u" "$p" batch "b$round" --connections 8 --batch 100 --duration "${duration}s" --warmup 3s)"
    printf '%-5s %-14s %-10s %10s\n' "$round" "C lease-drain" "$b" \
      "$(load "$u" "$p" lease-drain "c$round" --connections 1 --batch 100 --backlog "$backlog")"
  done
  topic="perf-$round-$RANDOM"; records=$(( backlog * 5 ))
  java -cp "$bench" org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" --create --topic "$topic" \
    --partitions 1 --replication-factor "$(( knodes < 3 ? knodes : 3 ))" > /dev/null
  java -cp "$bench" org.apache.kafka.tools.ConfigCommand --bootstrap-server "$bootstrap" --alter --entity-type groups \
    --entity-name "$topic" --add-config share.auto.offset.reset=earliest > /dev/null
  produced="$(java -cp "$bench" org.apache.kafka.tools.ProducerPerformance --topic "$topic" --num-records "$records" \
    --record-size 300 --throughput -1 --command-property bootstrap.servers="$bootstrap" acks=all \
    enable.idempotence=true linger.ms=0 2>/dev/null | tail -1 | sed -n 's/^[0-9]* records sent, \([0-9.]*\) records\/sec.*/\1/p')"
  printf '%-5s %-14s %-10s %10s\n' "$round" "kafka-produce" "kafka" "${produced%.*}"
  shared="$(java -cp "$bench" org.apache.kafka.tools.ShareConsumerPerformance --bootstrap-server "$bootstrap" \
    --topic "$topic" --group "$topic" --num-records "$records" --hide-header 2>/dev/null | tail -1 | awk -F', *' '{print $5}')"
  printf '%-5s %-14s %-10s %10s\n' "$round" "kafka-share" "kafka" "${shared%.*}"
done
