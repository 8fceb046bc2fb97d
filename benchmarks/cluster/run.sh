#!/usr/bin/env bash
# The peer workload on one Spool node over Kafka, next to the same broker jar on Chronicle and next to Kafka's
# own producer and share-consumer tools against the same Kafka, taking turns round by round so that a comparison
# comes from one run on a noisy machine. The Kafka cluster is local (spool-bench.jar kafka: KRaft nodes as
# child JVMs, each JIT-compiled in full with G1 and 1 GiB of heap, as Kafka runs in production). Workloads, 300-byte
# JSON messages:
#   A  push:        A_CONNECTIONS connections (64), one push in flight each
#   B  batch:       8 connections, 100 messages a request
#   C  lease-drain: one connection drains a backlog, leasing 100 and acking them per round trip
#   kafka-produce:  Kafka's ProducerPerformance, acks=all, idempotent (what a Spool node's pushes do)
#   kafka-share:    Kafka's ShareConsumerPerformance reading those records through a share group
# CPU per message (user + system, microseconds, from /proc and the shell's child times, over warm-up and run):
#   client_us: the Spool node on a Spool row (what stands between the load and Kafka), Kafka's tool on a Kafka row;
#   kafka_us:  every Kafka node together. Messages: the queue's total_pushed for A and B; C is not split (its
#   run fills the backlog with batches first), so it shows "-".
# Usage: benchmarks/cluster/run.sh [BROKER_JAR]   (default broker/target/spool-broker.jar)
# Environment: WORKLOADS ("A B C kafka": the rows to run), ROUNDS (2), DURATION (10), BACKLOG (20000), KAFKA_NODES (1; 3 for a replicated run), A_CONNECTIONS (64),
#   BENCH_JAR (benchmarks/target/spool-bench.jar).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bench="$(realpath -m "${BENCH_JAR:-$here/../target/spool-bench.jar}")"
jar="$(realpath -m "${1:-$here/../../broker/target/spool-broker.jar}")"
rounds="${ROUNDS:-2}"; duration="${DURATION:-10}"; backlog="${BACKLOG:-20000}"; knodes="${KAFKA_NODES:-1}"
aconn="${A_CONNECTIONS:-64}"; workloads=" ${WORKLOADS:-A B C kafka} "
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
hz="$(getconf CLK_TCK)"
ticks() { local t=0 p; for p in "$@"; do t=$(( t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0) )); done; echo "$t"; }
# child_ticks: sets CHILD_TICKS to the CPU of this shell's finished children (times runs in this shell, not a pipe)
child_ticks() {
  times > "$work/times"
  CHILD_TICKS="$(awk -v hz="$hz" 'NR == 2 { split($1, u, /[ms]/); split($2, s, /[ms]/); printf "%d\n", (u[1] * 60 + u[2] + s[1] * 60 + s[2]) * hz }' "$work/times")"
}
us_per() { awk -v t="$1" -v n="$2" -v hz="$hz" 'BEGIN { if (n > 0) printf "%.1f", t * 1e6 / hz / n; else print "-" }'; }
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
mapfile -t kafka_pids < <(pgrep -f "kafka\.Kafka $work/kafka/")

# start_node NAME EXTRA_YAML: sets url and password
start_node() {
  local dir="$work/$1" port; port="$(free_port)"; mkdir -p "$dir"
  printf 'server:\n  port: %s\nQueueManager:\n  path: %s/data/queues.json\n  max_length: 100000000\n%s' \
    "$port" "$dir" "$2" > "$dir/config.yaml"
  java -jar "$jar" --config "$dir/config.yaml" > "$dir/broker.log" 2>&1 &
  pids+=($!); node_pid=$!; await "$dir/broker.log" "listening" $!
  url="http://127.0.0.1:$port"
  password="$(sed -n 's/.*password: //p' "$dir/broker.log" | head -1)"
}
start_node chronicle ""; chronicle_url="$url"; chronicle_password="$password"; chronicle_pid="$node_pid"
rf=$(( knodes < 3 ? knodes : 3 )); isr=$(( rf > 1 ? rf - 1 : 1 ))   # queues need replication_factor live brokers
start_node kafka "$(printf 'storage:\n  backend: kafka\nkafka:\n  bootstrap_servers: "%s"\n  replication_factor: %s\n  min_insync_replicas: %s\nnode:\n  id: "bench"\n' "$bootstrap" "$rf" "$isr")"
kafka_url="$url"; kafka_password="$password"; kafka_node_pid="$node_pid"
# pushed URL PASSWORD QUEUE: the queue's total_pushed
pushed() {
  python3 - "$@" <<'PY' 2>/dev/null || echo 0
import json, sys, urllib.request
base, password, queue = sys.argv[1:4]
req = urllib.request.Request(base + "/login", json.dumps({"username": "admin", "password": password}).encode(),
                             {"Content-Type": "application/json"})
token = json.load(urllib.request.urlopen(req))["token"]
stats = urllib.request.Request(base + "/queues/" + queue, headers={"Authorization": "Bearer " + token})
print(json.load(urllib.request.urlopen(stats))["total_pushed"])
PY
}

rate() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(round(d[sys.argv[1].replace("-", "_")]["messages_per_second"]))' "$1"; }
load() { # load URL PASSWORD MODE QUEUE ARGS...
  local u="$1" p="$2" m="$3" q="$4"; shift 4
  java -jar "$bench" load --url "$u" --password "$p" --mode "$m" --queue "$q" --size 300 --create-queue --json "$@" \
    2> "$work/load.err" | rate "$m" || { cat "$work/load.err" >&2; echo "?"; }
}
row() { printf '%-5s %-14s %-10s %10s %10s %9s\n' "$@"; }
row round workload backend msg/s client_us kafka_us
# measure ROUND WORKLOAD BACKEND NODE_PID URL PASSWORD MODE QUEUE ARGS...: one Spool row
measure() {
  local r="$1" w="$2" b="$3" pid="$4" u="$5" p="$6" m="$7" q="$8"; shift 8
  local n0 k0 rate n k msgs
  n0="$(ticks "$pid")"; k0="$(ticks "${kafka_pids[@]}")"
  rate="$(load "$u" "$p" "$m" "$q" "$@")"
  n=$(( $(ticks "$pid") - n0 )); k=$(( $(ticks "${kafka_pids[@]}") - k0 ))
  msgs=0; [ "$m" = lease-drain ] || msgs="$(pushed "$u" "$p" "$q")"
  if [ "$b" = chronicle ]; then row "$r" "$w" "$b" "$rate" "$(us_per "$n" "$msgs")" "-"
  else row "$r" "$w" "$b" "$rate" "$(us_per "$n" "$msgs")" "$(us_per "$k" "$msgs")"; fi
}
for round in $(seq "$rounds"); do
  for b in chronicle kafka; do
    if [ "$b" = chronicle ]; then u="$chronicle_url"; p="$chronicle_password"; pid="$chronicle_pid"
    else u="$kafka_url"; p="$kafka_password"; pid="$kafka_node_pid"; fi
    [[ "$workloads" != *" A "* ]] || measure "$round" "A push" "$b" "$pid" "$u" "$p" push "a$round" --connections "$aconn" --duration "${duration}s" --warmup 3s
    [[ "$workloads" != *" B "* ]] || measure "$round" "B batch" "$b" "$pid" "$u" "$p" batch "b$round" --connections 8 --batch 100 --duration "${duration}s" --warmup 3s
    [[ "$workloads" != *" C "* ]] || measure "$round" "C lease-drain" "$b" "$pid" "$u" "$p" lease-drain "c$round" --connections 1 --batch 100 --backlog "$backlog"
  done
  [[ "$workloads" == *" kafka "* ]] || continue
  topic="perf-$round-$RANDOM"; records=$(( backlog * 5 ))
  java -cp "$bench" org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" --create --topic "$topic" \
    --partitions 1 --replication-factor "$(( knodes < 3 ? knodes : 3 ))" > /dev/null
  java -cp "$bench" org.apache.kafka.tools.ConfigCommand --bootstrap-server "$bootstrap" --alter --entity-type groups \
    --entity-name "$topic" --add-config share.auto.offset.reset=earliest > /dev/null
  child_ticks; c0="$CHILD_TICKS"; k0="$(ticks "${kafka_pids[@]}")"
  java -cp "$bench" org.apache.kafka.tools.ProducerPerformance --topic "$topic" --num-records "$records" \
    --record-size 300 --throughput -1 --command-property bootstrap.servers="$bootstrap" acks=all \
    enable.idempotence=true linger.ms=0 > "$work/produce.out" 2>/dev/null
  child_ticks; c=$(( CHILD_TICKS - c0 )); k=$(( $(ticks "${kafka_pids[@]}") - k0 ))
  produced="$(tail -1 "$work/produce.out" | sed -n 's/^[0-9]* records sent, \([0-9.]*\) records\/sec.*/\1/p')"
  row "$round" "kafka-produce" "kafka" "${produced%.*}" "$(us_per "$c" "$records")" "$(us_per "$k" "$records")"
  child_ticks; c0="$CHILD_TICKS"; k0="$(ticks "${kafka_pids[@]}")"
  java -cp "$bench" org.apache.kafka.tools.ShareConsumerPerformance --bootstrap-server "$bootstrap" \
    --topic "$topic" --group "$topic" --num-records "$records" --hide-header > "$work/share.out" 2>/dev/null
  child_ticks; c=$(( CHILD_TICKS - c0 )); k=$(( $(ticks "${kafka_pids[@]}") - k0 ))
  shared="$(tail -1 "$work/share.out" | awk -F', *' '{print $5}')"
  row "$round" "kafka-share" "kafka" "${shared%.*}" "$(us_per "$c" "$records")" "$(us_per "$k" "$records")"
done
