#!/usr/bin/env bash
# Single pushes and batch pushes on each broker given, taking turns round by round, each measurement on a
# fresh broker in a fresh temp folder, so that a comparison comes from one run on a noisy machine.
# A broker is a jar, optionally with a file of extra config.yaml sections after '@' (same jar, other settings;
# not server or QueueManager, which the script writes):
#   benchmarks/ab/run.sh old/spool-broker.jar broker/target/spool-broker.jar
#   benchmarks/ab/run.sh broker/target/spool-broker.jar broker/target/spool-broker.jar@metrics-off.yaml
# Modes: push (one 300-byte message a request, 64 connections, with the trivial baseline) and batch
# (100 x 300 B a request, 8 connections). Environment: ROUNDS (3), DURATION (10), MODES ("push batch"),
# BENCH_JAR (benchmarks/target/spool-bench.jar). Prints one line per round, broker and mode: the rate, its p99,
# and the broker's CPU time per stored message (user + system, from /proc, over the warm-up and the run): on a
# shared machine the rate swings with what else runs, while CPU per message mostly does not.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bench="$(realpath -m "${BENCH_JAR:-$here/../target/spool-bench.jar}")"
rounds="${ROUNDS:-3}"; duration="${DURATION:-10}"; modes="${MODES:-push batch}"
[ $# -ge 1 ] || { sed -n '2,10p' "$0" >&2; exit 2; }
[ -f "$bench" ] || { echo "build first: ./mvnw -q -DskipTests package ($bench is missing)" >&2; exit 1; }
for b in "$@"; do
  [ -f "${b%%@*}" ] || { echo "no such broker jar: ${b%%@*}" >&2; exit 1; }
  [[ "$b" != *@* ]] || [ -f "${b#*@}" ] || { echo "no such config file: ${b#*@}" >&2; exit 1; }
done

work="$(mktemp -d)"
broker_pid=""
stop_broker() {
  [ -n "$broker_pid" ] && kill -0 "$broker_pid" 2>/dev/null || return 0
  kill -TERM "$broker_pid" 2>/dev/null || true
  for _ in $(seq 300); do kill -0 "$broker_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$broker_pid" 2>/dev/null || true
  wait "$broker_pid" 2>/dev/null || true
}
trap 'stop_broker; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# start_broker JAR[@EXTRA] DIR: sets broker_pid, port and password.
start_broker() {
  local jar="${1%%@*}" dir="$2"
  mkdir -p "$dir"
  port="$(free_port)"
  {
    # Only these two sections: the users file, tokens and audit log default to files beside the config, and
    # an extra file may add any other section (a duplicate section is an error).
    printf 'server:\n  port: %s\nQueueManager:\n  path: %s/data/queues.json\n  max_length: 100000000\n' "$port" "$dir"
    if [[ "$1" == *@* ]]; then cat "${1#*@}"; fi
  } > "$dir/config.yaml"
  java -jar "$jar" --config "$dir/config.yaml" > "$dir/broker.log" 2>&1 &
  broker_pid=$!
  for _ in $(seq 600); do
    grep -qs 'listening' "$dir/broker.log" && break
    kill -0 "$broker_pid" 2>/dev/null || { echo "broker $1 exited:" >&2; cat "$dir/broker.log" >&2; exit 1; }
    sleep 0.1
  done
  password="$(sed -n 's/^Created users file .* password: //p' "$dir/broker.log" | head -1)"
  [ -n "$password" ] || { echo "no admin password in the broker's output:" >&2; cat "$dir/broker.log" >&2; exit 1; }
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# stored PORT PASSWORD: messages stored in queue 'ab' (its total_pushed)
stored() {
  python3 - "$1" "$2" <<'PY'
import json, sys, urllib.request
base = "http://127.0.0.1:" + sys.argv[1]
req = urllib.request.Request(base + "/login", json.dumps({"username": "admin", "password": sys.argv[2]}).encode(),
                             {"Content-Type": "application/json"})
token = json.load(urllib.request.urlopen(req))["token"]
stats = urllib.request.Request(base + "/queues/ab", headers={"Authorization": "Bearer " + token})
print(json.load(urllib.request.urlopen(stats))["total_pushed"])
PY
}
hz="$(getconf CLK_TCK)"

printf '%-5s %-60s %-6s %12s %9s %12s\n' round broker mode msg/s p99_ms cpu_us/msg
n=0
for round in $(seq "$rounds"); do
  for mode in $modes; do
    for b in "$@"; do
      n=$((n + 1))
      start_broker "$b" "$work/$n"
      case "$mode" in
        push) args=(--mode push --size 300 --connections 64) ;;
        batch) args=(--mode batch --batch 100 --size 300 --connections 8) ;;
        *) echo "unknown mode $mode" >&2; exit 2 ;;
      esac
      t0="$(cpu_ticks "$broker_pid")"
      java -jar "$bench" load --url "http://127.0.0.1:$port" --password "$password" --queue ab --create-queue \
        --duration "$duration" "${args[@]}" > "$work/$n.out" 2>&1 || true
      t1="$(cpu_ticks "$broker_pid")"
      count="$(stored "$port" "$password" 2>/dev/null || echo 0)"
      stop_broker
      cpu="$(awk -v a="$t0" -v b="$t1" -v n="$count" -v hz="$hz" 'BEGIN { if (n > 0) printf "%.2f", (b - a) * 1e6 / hz / n; else print "-" }')"
      awk -v r="$round" -v b="$b" -v m="$mode" -v cpu="$cpu" '
        $1 == m && $3 == "msg/s" { msgs = $2; for (i = 1; i <= NF; i++) if ($i == "p99") p99 = $(i + 1) }
        END { printf "%-5s %-60s %-6s %12s %9s %12s\n", r, b, m, msgs == "" ? "FAILED" : msgs, p99 == "" ? "-" : p99, cpu }' "$work/$n.out"
      rm -rf "$work/$n"
    done
  done
done
