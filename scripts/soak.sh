#!/usr/bin/env bash
# The soak: processors killed at random while orders arrive, then a check that the averages are exact.
#
# On a local stack of its own (`orders stack`, on ports of its own), it starts --processors
# `orders consume` (HTTP endpoint on, a free port each), publishes --count orders at --rate with
# `orders produce --json`, and meanwhile kills one processor at random with SIGKILL every 1-4 s
# (seeded: --seed) and starts it again. With --freeze-stack or --freeze-processors, some of those
# steps instead freeze the stack (broker and registry: every client is cut off from both) or one
# processor (SIGSTOP: it stalls past its group session and comes back as a zombie), for a random
# time up to the given seconds, then thaw it (SIGCONT). When the producer is done, the processors are stopped with
# SIGTERM and one more `orders consume --until-idle` finishes what is left. Then `orders stats --json`
# must equal the producer's own totals, currency by currency: the count, the exact sum of unit prices
# and the exact sum of order values; what was dead-lettered must be the orders made invalid on
# purpose, and every partition must be checkpointed at its end offset. A processor that ends without
# being killed is started again, and fails the soak. Exit 0 when all of that holds, 1 when any does
# not (each difference on a line of its own), 2 on a bad option or a run that failed.
#
#   scripts/soak.sh [--orders PATH] [--processors N] [--partitions N] [--count N] [--rate N]
#                   [--invalid-ratio R] [--seed N] [--kafka-port N] [--registry-port N] [--kafka-version V]
#                   [--freeze-stack S] [--freeze-processors S] [--keep DIR] [-- CONSUME-OPTIONS...]
#
#   dotnet publish src/Orders.Cli -c Release -o /tmp/orders && scripts/soak.sh --orders /tmp/orders/orders
#   scripts/soak.sh -- --handler-latency 1ms-5ms --fail-ratio 0.05 --max-attempts 20
#
# --orders         the orders binary (default: src/Orders.Cli/bin/Release/net10.0/orders)
# --processors     processors killed and restarted during the run (default 3)
# --partitions     partitions of the topics (default 6)
# --count, --rate  orders published, and how many a second (defaults 160000 and 4000: 40 s)
# --invalid-ratio  share of orders made invalid on purpose, to be dead-lettered (default 0.01)
# --seed           seed of the kills' timing and targets (default 1); the producer's seed stays 42
# --kafka-port     the stack's Kafka port (default 39092); --registry-port its registry's (default 38081)
# --kafka-version  the Kafka version the stack answers as (default: the stack's, 4.1; 3.9 for classic groups)
# --freeze-stack   also freeze the whole stack now and then, each time for 1 to S seconds (default 0: never)
# --freeze-processors
#                  also freeze one processor now and then, each time for 1 to S seconds (default 0: never)
# --keep           keep the run's logs and JSON documents in this folder (default: a temporary one, removed)
# after --          options given to every `orders consume` (the killed ones and the last): a slow,
#                   failing handler, say. A valid order dead-lettered after its last attempt is a
#                   difference the check reports, so give such a run attempts enough.
#
# Needs python3 (the comparison reads both JSON documents with exact decimals).
set -euo pipefail

orders="$(cd "$(dirname "$0")/.." && pwd)/src/Orders.Cli/bin/Release/net10.0/orders"
processors=3
partitions=6
count=160000
rate=4000
invalid_ratio=0.01
seed=1
kafka_port=39092
registry_port=38081
kafka_version=''
freeze_stack=0
freeze_processors=0
keep=''

usage='usage: scripts/soak.sh [--orders PATH] [--processors N] [--partitions N] [--count N] [--rate N] [--invalid-ratio R] [--seed N] [--kafka-port N] [--registry-port N] [--kafka-version V] [--freeze-stack S] [--freeze-processors S] [--keep DIR] [-- CONSUME-OPTIONS...]'
while [[ $# -gt 0 ]]; do
  case "$1" in
    --orders | --processors | --partitions | --count | --rate | --invalid-ratio | --seed | --kafka-port | --registry-port | --kafka-version | --freeze-stack | --freeze-processors | --keep)
      if [[ $# -lt 2 ]]; then
        echo "soak.sh: $1 needs a value ($usage)" >&2
        exit 2
      fi
      value="$2"
      case "$1" in
        --orders) orders="$value" ;;
        --processors) processors="$value" ;;
        --partitions) partitions="$value" ;;
        --count) count="$value" ;;
        --rate) rate="$value" ;;
        --invalid-ratio) invalid_ratio="$value" ;;
        --seed) seed="$value" ;;
        --kafka-port) kafka_port="$value" ;;
        --registry-port) registry_port="$value" ;;
        --kafka-version) kafka_version="$value" ;;
        --freeze-stack) freeze_stack="$value" ;;
        --freeze-processors) freeze_processors="$value" ;;
        --keep) keep="$value" ;;
      esac
      shift 2
      ;;
    --)
      shift
      break
      ;;
    -h | --help)
      echo "$usage"
      exit 0
      ;;
    *)
      echo "soak.sh: unknown option $1 ($usage)" >&2
      exit 2
      ;;
  esac
done

consume_args=("$@")
for pair in "processors:$processors" "partitions:$partitions" "count:$count" "rate:$rate" "seed:$seed" "kafka-port:$kafka_port" "registry-port:$registry_port"; do
  if ! [[ "${pair#*:}" =~ ^[0-9]+$ ]] || [[ "${pair#*:}" -eq 0 && "${pair%%:*}" != seed ]]; then
    echo "soak.sh: --${pair%%:*} must be a whole number above 0, not '${pair#*:}'" >&2
    exit 2
  fi
done
for pair in "freeze-stack:$freeze_stack" "freeze-processors:$freeze_processors"; do
  if ! [[ "${pair#*:}" =~ ^[0-9]+$ ]]; then
    echo "soak.sh: --${pair%%:*} must be a whole number of seconds (0: never), not '${pair#*:}'" >&2
    exit 2
  fi
done
if [[ ! -x "$orders" ]]; then
  echo "soak.sh: no orders binary at $orders (build it: dotnet publish src/Orders.Cli -c Release -o DIR, then --orders DIR/orders)" >&2
  exit 2
fi
if ! command -v python3 > /dev/null; then
  echo "soak.sh: python3 is needed to compare the totals" >&2
  exit 2
fi

if [[ -n "$keep" ]]; then
  mkdir -p "$keep"
  dir="$(cd "$keep" && pwd)"
else
  dir="$(mktemp -d)"
fi
kafka="localhost:$kafka_port"
registry="http://localhost:$registry_port"
group="soak-$$"
RANDOM="$seed"

stack_pid=''
declare -a pids=()
# shellcheck disable=SC2317 # run by the EXIT trap, which shellcheck does not follow
cleanup() {
  for pid in "${pids[@]}" $stack_pid; do
    kill -CONT "$pid" 2> /dev/null || true
    kill -TERM "$pid" 2> /dev/null || true
  done
  wait 2> /dev/null || true
  if [[ -z "$keep" ]]; then
    rm -rf "$dir"
  fi
}
trap cleanup EXIT

say() { echo "soak: $*" >&2; }

stack_args=(--kafka-port "$kafka_port" --registry-port "$registry_port" --partitions "$partitions")
if [[ -n "$kafka_version" ]]; then
  stack_args+=(--kafka-version "$kafka_version")
fi
"$orders" stack "${stack_args[@]}" > "$dir/stack.log" 2>&1 &
stack_pid=$!
for _ in $(seq 1 300); do
  if grep -q 'Local stack is up' "$dir/stack.log" 2> /dev/null; then
    break
  fi
  if ! kill -0 "$stack_pid" 2> /dev/null; then
    say "the stack ended before it started: $(tail -n 3 "$dir/stack.log")"
    exit 2
  fi
  sleep 0.1
done
if ! grep -q 'Local stack is up' "$dir/stack.log"; then
  say "the stack did not start within 30 s: $(tail -n 3 "$dir/stack.log")"
  exit 2
fi
say "stack on $kafka and $registry, $partitions partitions$([[ -n "$kafka_version" ]] && echo ", answering as Kafka $kafka_version"); logs in $dir"

start_processor() {
  local i="$1"
  "$orders" consume --group "$group" --bootstrap-servers "$kafka" --schema-registry "$registry" --http-port 0 \
    "${consume_args[@]}" >> "$dir/processor-$i.log" 2>&1 &
  pids[i]=$!
}
for i in $(seq 1 "$processors"); do
  start_processor "$i"
done

"$orders" produce --count "$count" --rate "$rate" --invalid-ratio "$invalid_ratio" \
  --bootstrap-servers "$kafka" --schema-registry "$registry" --json > "$dir/produce.json" 2> "$dir/produce.log" &
producer=$!

# A frozen process's thaw time (EPOCHREALTIME in whole milliseconds), 0 when it runs.
stack_thaw=0
declare -a thaw=()
for i in $(seq 1 "$processors"); do
  thaw[i]=0
done
now_ms() { local t="${EPOCHREALTIME/[.,]/}"; echo "$((t / 1000))"; }
thaw_due() {
  local now
  now="$(now_ms)"
  if ((stack_thaw != 0 && now >= stack_thaw)); then
    kill -CONT "$stack_pid" 2> /dev/null || true
    stack_thaw=0
  fi
  for i in $(seq 1 "$processors"); do
    if ((thaw[i] != 0 && now >= thaw[i])); then
      kill -CONT "${pids[i]}" 2> /dev/null || true
      thaw[i]=0
    fi
  done
}

# A processor that ended without being killed (a fatal error, say) is restarted, and the soak fails at the end.
ended=0
restart_ended() {
  local i status
  for i in $(seq 1 "$processors"); do
    if ! kill -0 "${pids[i]}" 2> /dev/null; then
      status=0
      wait "${pids[i]}" 2> /dev/null || status=$?
      ended=$((ended + 1))
      thaw[i]=0
      echo "$(date -u +%T) processor $i ended by itself, exit $status: $(tail -n 1 "$dir/processor-$i.log")" >> "$dir/chaos.log"
      say "processor $i ended by itself, exit $status: $(tail -n 1 "$dir/processor-$i.log")"
      echo "--- ended by itself (exit $status); started again ---" >> "$dir/processor-$i.log"
      start_processor "$i"
    fi
  done
}

kills=0
stack_freezes=0
processor_freezes=0
while kill -0 "$producer" 2> /dev/null; do
  sleep "$((1 + RANDOM % 4)).$((RANDOM % 10))"
  thaw_due
  restart_ended
  if ! kill -0 "$producer" 2> /dev/null; then
    break
  fi
  action=0
  if ((freeze_stack > 0 || freeze_processors > 0)); then
    action=$((RANDOM % 3))
  fi
  if ((action == 1 && freeze_stack > 0 && stack_thaw == 0)); then
    seconds=$((1 + RANDOM % freeze_stack))
    kill -STOP "$stack_pid"
    stack_thaw=$(($(now_ms) + seconds * 1000))
    stack_freezes=$((stack_freezes + 1))
    echo "$(date -u +%T) stack frozen for ${seconds} s (freeze $stack_freezes)" >> "$dir/chaos.log"
    continue
  fi
  i=$((1 + RANDOM % processors))
  if ((action == 2 && freeze_processors > 0 && thaw[i] == 0)); then
    seconds=$((1 + RANDOM % freeze_processors))
    kill -STOP "${pids[i]}" 2> /dev/null || continue
    thaw[i]=$(($(now_ms) + seconds * 1000))
    processor_freezes=$((processor_freezes + 1))
    echo "$(date -u +%T) processor $i frozen for ${seconds} s (freeze $processor_freezes)" >> "$dir/chaos.log"
    echo "--- frozen with SIGSTOP for ${seconds} s ---" >> "$dir/processor-$i.log"
    continue
  fi
  if kill -KILL "${pids[i]}" 2> /dev/null; then
    wait "${pids[i]}" 2> /dev/null || true
    kills=$((kills + 1))
    thaw[i]=0
    echo "$(date -u +%T) processor $i killed (kill $kills)" >> "$dir/chaos.log"
    echo "--- killed with SIGKILL (kill $kills of the soak) ---" >> "$dir/processor-$i.log"
  fi
  start_processor "$i"
done
# Whatever is still frozen is thawed now: the stop and the last run need every process running.
kill -CONT "$stack_pid" 2> /dev/null || true
for i in $(seq 1 "$processors"); do
  kill -CONT "${pids[i]}" 2> /dev/null || true
done
if ! wait "$producer"; then
  say "orders produce failed: $(tail -n 3 "$dir/produce.log")"
  exit 2
fi
say "produced $count orders at $rate/s; on the way $kills processors killed with SIGKILL, the stack frozen $stack_freezes times, a processor $processor_freezes times"
restart_ended

for i in $(seq 1 "$processors"); do
  kill -TERM "${pids[i]}" 2> /dev/null || true
done
for i in $(seq 1 "$processors"); do
  wait "${pids[i]}" 2> /dev/null || true
done
pids=()

if ! "$orders" consume --group "$group" --bootstrap-servers "$kafka" --schema-registry "$registry" --no-http --until-idle 5 \
  "${consume_args[@]}" > "$dir/final.log" 2>&1; then
  say "the last orders consume --until-idle failed: $(tail -n 3 "$dir/final.log")"
  exit 2
fi
if ! "$orders" stats --group "$group" --bootstrap-servers "$kafka" --schema-registry "$registry" --json \
  > "$dir/stats.json" 2> "$dir/stats.log"; then
  say "orders stats failed: $(tail -n 3 "$dir/stats.log")"
  exit 2
fi

status=0
python3 - "$dir/produce.json" "$dir/stats.json" << 'EOF' || status=$?
import json
import sys
from decimal import Decimal

with open(sys.argv[1]) as f:
    produced = json.load(f)
with open(sys.argv[2]) as f:
    stats = json.load(f)

problems = []
if produced["failed"] != 0:
    problems.append(f"the producer failed {produced['failed']} orders ({produced['possiblyPersisted']} possibly written): the totals cannot be compared exactly")

expected = produced["valid"]["currencies"]
counted = stats["currencies"]
for currency in sorted(set(expected) | set(counted)):
    want = expected.get(currency)
    got = counted.get(currency)
    if want is None or got is None:
        problems.append(f"{currency}: produced {want and want['count']} valid orders, counted {got and got['count']}")
        continue
    for name, wanted, found in (
        ("count", want["count"], got["count"]),
        ("unit price sum", Decimal(want["sum"]), Decimal(got["price"]["sum"])),
        ("order value sum", Decimal(want["orderValueSum"]), Decimal(got["orderValue"]["sum"])),
    ):
        if wanted != found:
            problems.append(f"{currency}: {name} produced {wanted}, counted {found}")

dead = stats["deadLettered"]["total"]
if dead != produced["invalid"]:
    problems.append(f"dead-lettered {dead} ({stats['deadLettered']}), but {produced['invalid']} orders were made invalid")
for p in stats["partitions"]:
    if not p["checkpointed"] or p["lag"] != 0:
        problems.append(f"partition {p['partition']}: checkpointed {p['checkpointed']}, next offset {p['nextOffset']}, end offset {p['endOffset']}")

for line in problems:
    print(f"soak: {line}", file=sys.stderr)
total = produced["valid"]["count"]
if problems:
    print(f"soak: NOT EXACT: {len(problems)} differences", file=sys.stderr)
    sys.exit(1)
print(f"soak: exact: {total} valid orders in {len(expected)} currencies, counts and sums equal the producer's; "
      f"{dead} dead-lettered, the {produced['invalid']} made invalid; {len(stats['partitions'])} partitions checkpointed at their end", file=sys.stderr)
EOF
if ((ended > 0)); then
  say "FAILED: $ended processor run(s) ended by themselves (see $dir/chaos.log)"
  exit 1
fi
exit "$status"
