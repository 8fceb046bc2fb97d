#!/usr/bin/env bash
# Drains a backlog with ONE connection, 100 messages a request, on each broker jar given, under
# storage.fsync always and none: destructive pulls (load --mode drain) and leases + acks (--mode lease-drain).
# Every measurement gets a fresh broker on a fresh temp folder; the jars take turns within each
# (fsync, mode), so their comparison comes from one run. The load tool is this tree's spool-bench.jar
# whatever the broker jar.
# Usage: benchmarks/drain/run.sh BROKER_JAR [BROKER_JAR...]
# Environment: BACKLOG (200000), BATCH (100), SIZE (300), ROUNDS (1), FSYNCS ("always none"),
#   MODES ("drain lease-drain"), BENCH_JAR (benchmarks/target/spool-bench.jar),
#   STRACE=1: afterwards, one more destructive drain under always per jar with
#   `strace -f -c -e trace=msync,fsync,fdatasync` attached to the broker once the backlog is filled
#   (strace slows the broker: that drain's rate is not comparable and is not in the table).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bench="$(realpath -m "${BENCH_JAR:-$here/../target/spool-bench.jar}")"
backlog="${BACKLOG:-200000}"; batch="${BATCH:-100}"; size="${SIZE:-300}"; rounds="${ROUNDS:-1}"
fsyncs="${FSYNCS:-always none}"; modes="${MODES:-drain lease-drain}"
[ $# -ge 1 ] || { sed -n '2,13p' "$0" >&2; exit 2; }
[ -f "$bench" ] || { echo "build first: ./mvnw -q -DskipTests package ($bench is missing)" >&2; exit 1; }
for jar in "$@"; do [ -f "$jar" ] || { echo "no such broker jar: $jar" >&2; exit 1; }; done
if [ "${STRACE:-0}" = 1 ]; then command -v strace >/dev/null || { echo "STRACE=1 needs strace" >&2; exit 1; }; fi

work="$(mktemp -d)"
broker_pid=""; load_pid=""; strace_pid=""
stop_pid() { # pid: SIGTERM, then SIGKILL after 30 s
  local pid="$1"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  stop_pid "$strace_pid"; stop_pid "$load_pid"; stop_pid "$broker_pid"
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# start_broker JAR FSYNC DIR: sets broker_pid, port and password.
start_broker() {
  local jar="$1" fsync="$2" dir="$3"
  mkdir -p "$dir"
  port="$(free_port)"
  cat > "$dir/config.yaml" <<EOF
server:
  port: $port
storage:
  fsync: $fsync
QueueManager:
  path: $dir/data/queues.json
  max_length: 1000000
auth:
  users_file: $dir/users.yaml
audit:
  file: $dir/audit.log
EOF
  java -jar "$jar" --config "$dir/config.yaml" > "$dir/broker.log" 2>&1 &
  broker_pid=$!
  for _ in $(seq 600); do
    grep -qs 'listening' "$dir/broker.log" && break
    kill -0 "$broker_pid" 2>/dev/null || { echo "broker $jar exited:" >&2; cat "$dir/broker.log" >&2; exit 1; }
    sleep 0.1
  done
  grep -q 'listening' "$dir/broker.log" || { echo "broker $jar not listening after 60 s:" >&2; cat "$dir/broker.log" >&2; exit 1; }
  password="$(sed -n 's/^Created users file .* password: //p' "$dir/broker.log" | head -1)"
  [ -n "$password" ] || { echo "no admin password in the broker's first-start output:" >&2; cat "$dir/broker.log" >&2; exit 1; }
}

# run_load MODE OUT: the load tool in the background (sets load_pid); the caller waits.
run_load() {
  java -jar "$bench" load --url "http://127.0.0.1:$port" --password "$password" --mode "$1" --queue backlog \
    --backlog "$backlog" --batch "$batch" --size "$size" --connections 1 --create-queue > "$2" 2>&1 &
  load_pid=$!
}

# The summary line is "<mode> <n> msg/s <n> req/s latency ms p50 <x> p90 <x> p99 <x> ...", then the check line.
row() { # jar fsync mode out rc
  local label="${3//-/_}"
  awk -v jar="$1" -v fsync="$2" -v mode="$3" -v label="$label" -v rc="$5" '
    $1 == label && $3 == "msg/s" { msgs = $2; reqs = $4; p50 = $9; p99 = $13 }
    /^backlog / { check = $NF; for (i = 1; i <= NF; i++) if ($i == "duplicates") dup = $(i + 1) }
    END {
      if (msgs == "") { msgs = "-"; reqs = "-"; p50 = "-"; p99 = "-"; check = "FAILED(rc=" rc ")" }
      sub(",", "", dup)
      printf "%-44s %-7s %-12s %10s %8s %9s %9s %5s  %s\n", jar, fsync, mode, msgs, reqs, p50, p99, dup == "" ? "-" : dup, check
    }' "$4"
}

header="$(printf '%-44s %-7s %-12s %10s %8s %9s %9s %5s  %s' jar fsync mode msg/s req/s 'p50 ms' 'p99 ms' dups check)"
echo "# $(date -u +%FT%TZ)  $(nproc) cores  $(java -version 2>&1 | head -1)"
echo "# backlog $backlog x $size B, $batch a request, 1 connection; load tool $bench"
echo "$header"
table=()
n=0
for round in $(seq "$rounds"); do
  for fsync in $fsyncs; do
    for mode in $modes; do
      for jar in "$@"; do
        n=$((n + 1)); dir="$work/$n"
        start_broker "$jar" "$fsync" "$dir"
        run_load "$mode" "$dir/load.out"
        rc=0; wait "$load_pid" || rc=$?; load_pid=""
        stop_pid "$broker_pid"; broker_pid=""
        line="$(row "$jar" "$fsync" "$mode" "$dir/load.out" "$rc")"
        [ "$rc" = 0 ] || { echo "load tool exited $rc; its output:" >&2; tail -5 "$dir/load.out" >&2; }
        echo "$line"; table+=("$line")
        rm -rf "$dir"
      done
    done
  done
done

if [ "${STRACE:-0}" = 1 ]; then
  echo
  echo "# strace -f -c -e trace=msync,fsync,fdatasync -p <broker>, attached once the backlog is filled; destructive drain, fsync always"
  for jar in "$@"; do
    n=$((n + 1)); dir="$work/$n"
    start_broker "$jar" always "$dir"
    run_load drain "$dir/load.out"
    for _ in $(seq 6000); do grep -qs 'filled in' "$dir/load.out" && break; kill -0 "$load_pid" 2>/dev/null || break; sleep 0.02; done
    strace -f -c -e trace=msync,fsync,fdatasync -o "$dir/strace.txt" -p "$broker_pid" 2>/dev/null &
    strace_pid=$!
    rc=0; wait "$load_pid" || rc=$?; load_pid=""
    kill -TERM "$strace_pid" 2>/dev/null || true; wait "$strace_pid" 2>/dev/null || true; strace_pid=""
    stop_pid "$broker_pid"; broker_pid=""
    echo "## $jar (rate under strace, not comparable: $(row "$jar" always drain "$dir/load.out" "$rc" | awk '{print $4, "msg/s,", $5, "req/s"}'))"
    awk '/calls|------|total|msync|fsync|fdatasync/' "$dir/strace.txt"
    rm -rf "$dir"
  done
fi

if [ "$rounds" -gt 1 ] || [ "${STRACE:-0}" = 1 ]; then
  echo
  echo "$header"
  for fsync in $fsyncs; do # rounds side by side
    for mode in $modes; do
      printf '%s\n' "${table[@]}" | awk -v f="$fsync" -v m="$mode" '$2 == f && $3 == m'
    done
  done
fi
